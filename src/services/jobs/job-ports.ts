import type { MemberText } from '../i18n/member-text.ts';
import type { Charge } from '../quotas/quota-charges.ts';
import type { Requester } from '../quotas/requester.ts';
import type { DownloadedVideo } from '../video-service/download/downloaded-video.ts';
import type { JobAsk, JobRequest, JobSnapshot } from './job.ts';

/*
 * The job's ports: what the runner, the intake and the front doors ask of the rooms around them
 * (where progress lives, the quota unit, admission, dispatch), apart from the job's own words and
 * state helpers in job.ts.
 */

/**
 * Where a job's progress lives: an interaction reply or a channel message the bot owns. The
 * runner calls these one at a time, never concurrently.
 */
export interface JobSurface {
  /** Largest file this surface may upload, in bytes. */
  readonly uploadLimitBytes: number;
  show(snapshot: JobSnapshot): Promise<void>;
  /**
   * The last message of the job. With a video, tries to upload it and falls back to the link;
   * returns how the video was delivered (undefined when there was none).
   */
  finish(snapshot: JobSnapshot, video?: DownloadedVideo): Promise<JobSnapshot['delivery']>;
  /** Where the message lives now, as JSON, so a restarted bot can find it again. */
  location(): SurfaceLocation;
  /** Tells `listener` each time the message moves: first posted, posted anew, handed over. */
  onMove(listener: () => void): void;
}

export type SurfaceLocation =
  | {
      kind: 'interaction';
      applicationId: string;
      token: string;
      /** From then on progress moves to a channel message (absent in older records: `usableUntil`). */
      handOverAt?: number;
      /** The last moment a request may be sent with the token, a safe margin before Discord's expiry. */
      usableUntil: number;
      channelId: string;
      /** The reply's message id once known, so it can still be edited with the bot's token. */
      messageId?: string;
      uploadLimitBytes: number;
      /**
       * A member's own install where the bot is not: the job lives in the reply alone, and past
       * the token goes to this user's DMs, never to the channel (the bot cannot post there).
       */
      directMessageTo?: string;
    }
  | { kind: 'channel'; channelId: string; messageId?: string; uploadLimitBytes: number };

/** The quota charge a job holds while it runs; its one owner is QuotaCharges. */
export type JobCharge = Charge;

export type Admission =
  | { ok: true; request: JobRequest; charge?: JobCharge }
  /** A message key, or (a quota refusal) a sentence already in the request's language. */
  | {
      ok: false;
      message: MemberText | string;
      /** The allowance is used up and credits are sold: SKUs to offer with Discord's premium button. */
      premiumSkuIds?: string[];
    };

/**
 * Decides whether a job may start (channel rules, quotas), completes the request with the
 * server's defaults, and reserves the quota unit it will use.
 */
export interface JobAdmission {
  admit(ask: JobAsk, requester: Requester): Promise<Admission>;
}

export type CancelResult = 'cancelled' | 'not-found' | 'finished';

/**
 * Where admitted jobs go and how they are reached afterwards: this process's own runner, or the
 * cluster's queue (the job then runs on whichever worker takes it).
 */
export interface JobDispatch {
  /** Hands an admitted job on; its charge is settled by whoever runs it. Throws when it could not be handed on. */
  submit(request: JobRequest, options: { surface: JobSurface; charge?: JobCharge }): Promise<string>;
  /** The member who asked for a job still under way, for permission checks. */
  requesterIdOf(jobId: string): Promise<string | undefined>;
  cancel(jobId: string, memberId: string): Promise<CancelResult>;
}
