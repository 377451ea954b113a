import type { AspectRatio } from '../catalogue/catalogue.ts';
import type { MemberText } from '../i18n/member-text.ts';
import type { DownloadResult } from './download/video-download.ts';

/**
 * What the job pipeline needs from a video service, whatever shape it speaks: the streaming
 * chat-completions relay (`relay/`), the job-based Videos API (`videos-api/`), and later ones. The
 * runner, the commands and Discord never know which one runs.
 */

/** The lengths the chat shape offers, in seconds (Sora 2 makes at most 15 there). */
export const VIDEO_DURATIONS = [5, 10, 15] as const;

export interface VideoRequest {
  prompt: string;
  /** Public URL (or data: URL) of the starting image; absent for text-to-video. */
  imageUrl?: string;
  model: string;
  durationSeconds?: number;
  /** The frame asked for; absent: the service's default. */
  aspectRatio?: AspectRatio;
}

/** What a model offers, so commands, flags and forms show only what it can do. */
export interface ModelCapabilities {
  /** Lengths a member may pick, in seconds. */
  durations: readonly number[];
  aspectRatios: readonly AspectRatio[];
  /** Whether a starting image can be given. */
  imageInput: boolean;
  /**
   * `percent`: the service reports a real percentage; `text`: read from its words; `queue`: a place
   * in the service's queue (fal); `none`.
   */
  progress: 'percent' | 'text' | 'queue' | 'none';
  /** Whether a delivered video can be changed by a follow-up prompt. */
  remix: boolean;
}

export type VideoEvent =
  /** The service has the job under its own id: recorded at once, so a restart can resume it. */
  | { type: 'created'; serviceJobId: string }
  /** position: how many jobs are ahead at the service, where it says (fal's queue); 0 = next. */
  | { type: 'queued'; position?: number }
  | { type: 'progress'; percent?: number }
  | { type: 'note'; text: string }
  /**
   * urls: every public video link found, the most likely mp4 first (may be shown to members).
   * fileUrl: where the file itself is when fetching it needs the service key (`downloadFile`); it is
   * tried first and never shown.
   */
  | {
      type: 'succeeded';
      urls: string[];
      fileUrl?: string;
      /** What the service says the job cost, in the catalogue's currency, where it reports it. */
      cost?: number;
    }
  /** reason: fit to show a member (no secrets, no stack). */
  | { type: 'failed'; reason: string | MemberText };

export interface VideoProvider {
  capabilities(model: string): ModelCapabilities;
  /** Streams events until one `succeeded` or `failed`; throws VideoServiceError for transport faults. */
  generate(request: VideoRequest, signal: AbortSignal): AsyncIterable<VideoEvent>;
  /** Follows a job the service already has (after a restart); absent when the shape cannot. */
  resume?(serviceJobId: string, signal: AbortSignal): AsyncIterable<VideoEvent>;
  /** A new job that changes a delivered video; absent when the shape cannot. */
  remix?(serviceJobId: string, prompt: string, signal: AbortSignal): AsyncIterable<VideoEvent>;
  /** Fetches a `fileUrl` of a `succeeded` event, with the service key. */
  downloadFile?(
    url: string,
    maxBytes: number,
    fileName: string,
    signal: AbortSignal,
  ): Promise<DownloadResult>;
}

export type VideoServiceErrorKind =
  | 'auth' // 401/403: key rejected or balance empty
  | 'rate_limited' // 429
  | 'rejected' // 400: the service refused the request (moderation, bad parameters)
  | 'unavailable' // 5xx
  | 'network' // connection refused, DNS, reset
  | 'stalled' // no bytes for too long
  | 'timeout' // the whole job took too long
  | 'protocol' // the stream could not be read
  | 'model_unavailable'; // create refused: model not found / retired (404, 410, or words saying so)

export class VideoServiceError extends Error {
  readonly kind: VideoServiceErrorKind;
  /** In English, for logs and the CLI; shown to a member as the service's words when `memberText` is absent. */
  readonly userMessage: string;
  /** What the bot tells the member, as a message key translated in their language. */
  readonly memberText?: MemberText;
  readonly status?: number;
  /**
   * True when the service surely never took the request (it was never sent, or the service
   * refused it outright: 429, 4xx), so a retry cannot pay for a second video. False once anything
   * may have started there: an event arrived, a 5xx, a reset or a silence after the request was sent.
   */
  readonly beforeAnyEvent: boolean;

  constructor(options: {
    kind: VideoServiceErrorKind;
    userMessage: string;
    memberText?: MemberText;
    logMessage: string;
    status?: number;
    beforeAnyEvent: boolean;
    cause?: unknown;
  }) {
    super(options.logMessage, { cause: options.cause });
    this.name = 'VideoServiceError';
    this.kind = options.kind;
    this.userMessage = options.userMessage;
    this.memberText = options.memberText;
    this.status = options.status;
    this.beforeAnyEvent = options.beforeAnyEvent;
  }
}
