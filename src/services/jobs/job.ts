import type { AspectRatio } from '../catalogue/catalogue.ts';
import type { MemberText } from '../i18n/member-text.ts';
import type { LinkReason } from '../video-service/download/downloaded-video.ts';

/**
 * The plain job request every front door builds: who asked, where, and what for. Nothing in it
 * is Discord-specific beyond ids, so the runner, quotas and job records can share it.
 */
export interface JobRequest {
  requesterId: string;
  guildId: string | null;
  channelId: string;
  /** The channel a thread belongs to, so a thread of an allowed channel is allowed too. */
  threadParentId?: string;
  /**
   * Whether the channel is age-restricted (Discord's `nsfw`; a thread's is its parent's), as the
   * front door saw it; absent when it could not tell, which a server's policy reads as not.
   */
  channelAgeRestricted?: boolean;
  /** The server marks delivered files as spoilers (set at admission from its policy). */
  spoiler?: boolean;
  prompt: string;
  imageUrl?: string;
  model: string;
  durationSeconds?: number;
  aspectRatio?: AspectRatio;
  /**
   * The model first asked for, when it was gone and a fallback made the video instead (`model` is
   * then the fallback's id, so a restart resumes with the fallback's provider).
   */
  fallbackFrom?: string;
  /** Why the fallback was used: the model refused as unavailable, or its provider unreachable. */
  fallbackReason?: 'model_unavailable' | 'unreachable';
  /** The length asked for, when the fallback does not make it (`durationSeconds` is the one sent). */
  durationAskedSeconds?: number;
  /** A remark for the member shown with the progress, e.g. which of several images was used. */
  notice?: string;
  /** Set when members see prices (SHOW_PRICES) and the model has one: the final message shows the real cost in it. */
  priceCurrency?: string;
  /** The requester's roles in the server when they asked, for Retry from a DM (quotas by role). */
  requesterRoleIds?: string[];
  /** The service's id of a delivered video this job changes (Remix). */
  remixOf?: string;
  /**
   * The Discord locale the job is shown in (the asking member's, or the server's for a mention),
   * kept with the request so a restarted bot renders it in the same language.
   */
  locale?: string;
  /** The server's language, for messages posted to the channel on the job's own (a handover). */
  serverLocale?: string;
  /** Which front door it came through, for logs. */
  source: 'slash' | 'mention' | 'context-menu' | 'retry' | 'remix';
}

export type JobState =
  | 'waiting' // in the bot's own queue, behind MAX_CONCURRENT_JOBS
  | 'queued' // accepted by the service, waiting there
  | 'generating'
  | 'fetching' // the service is done; downloading the video
  | 'delivered'
  | 'failed'
  | 'cancelled'
  | 'interrupted';

export const FINAL_STATES: ReadonlySet<JobState> = new Set([
  'delivered',
  'failed',
  'cancelled',
  'interrupted',
]);

/** A state the job never leaves (a record's `delivering` is not one: the upload is still going). */
export function isFinal(state: string): boolean {
  return FINAL_STATES.has(state as JobState);
}

/** Whether Cancel can still stop the job: not final, and the service not done with it yet. */
export function isCancellable(state: string): boolean {
  return state !== 'fetching' && state !== 'delivering' && !isFinal(state);
}

/** Everything a progress message needs to show one moment of a job. */
export interface JobSnapshot {
  jobId: string;
  request: JobRequest;
  state: JobState;
  startedAt: number;
  elapsedMs: number;
  percent?: number;
  /** 1-based place in the bot's queue while waiting. */
  queuePosition?: number;
  /**
   * 1-based place in the video service's own queue, where the service says (fal), while the job
   * waits there: not the bot's queue (`queuePosition`).
   */
  serviceQueuePosition?: number;
  /** The latest free-text line from the service. */
  note?: string;
  /** The service's own id for the job, once it has one (job-based services): a restart resumes it. */
  serviceJobId?: string;
  /** A delivered video the service can change with a follow-up prompt (a Remix button). */
  remixable?: boolean;
  /** The video's address at the service, once known. */
  videoUrl?: string;
  /**
   * Why a job failed or was interrupted: the bot's own words as a message key, or the video
   * service's words as it wrote them (a string).
   */
  reason?: JobReason;
  /** Who cancelled, for cancelled jobs. */
  cancelledBy?: string;
  /** How the video reached the member: as a file, or as a link (too large, refused, download failed). */
  delivery?: { kind: 'file' } | { kind: 'link'; why: LinkReason };
  /** What a delivered video cost (the provider's figure, else the estimate), in `request.priceCurrency`. */
  cost?: number;
}

/** What a snapshot says of this moment, beside the job's own facts. */
export type JobMoment = Omit<JobSnapshot, 'jobId' | 'request' | 'startedAt' | 'elapsedMs'>;

/**
 * The one way to build a job's snapshot: the job's facts, the time since it started as seen at
 * `now` (0 when not given: a snapshot taken as the job is submitted), and what this moment knows.
 */
export function jobSnapshot(
  job: { jobId: string; request: JobRequest; startedAt: number },
  moment: JobMoment,
  now: number = job.startedAt,
): JobSnapshot {
  return {
    jobId: job.jobId,
    request: job.request,
    startedAt: job.startedAt,
    elapsedMs: now - job.startedAt,
    ...moment,
  };
}

export type JobReason = string | MemberText;

/** A request as a front door reads it: without a model, the server's or the bot's default applies. */
export type JobAsk = Omit<JobRequest, 'model'> & { model?: string };
