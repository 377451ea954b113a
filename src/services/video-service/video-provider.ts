/**
 * What the job pipeline needs from a video service. The relay client implements it today; a
 * second kind of video API (an async task API, say) can implement it later without the runner,
 * the commands or Discord noticing.
 */

export type Orientation = 'landscape' | 'portrait';

/** The lengths members may ask for, in seconds (Sora 2 makes at most 15). */
export const VIDEO_DURATIONS = [5, 10, 15] as const;
export type VideoDuration = (typeof VIDEO_DURATIONS)[number];

export interface VideoRequest {
  prompt: string;
  /** Public URL (or data: URL) of the starting image; absent for text-to-video. */
  imageUrl?: string;
  model: string;
  durationSeconds?: number;
  orientation?: Orientation;
}

export type VideoEvent =
  | { type: 'queued' }
  | { type: 'progress'; percent?: number }
  | { type: 'note'; text: string }
  /** urls: every video link found, the most likely mp4 first. */
  | { type: 'succeeded'; urls: string[] }
  /** reason: fit to show a member (no secrets, no stack). */
  | { type: 'failed'; reason: string };

export interface VideoProvider {
  /** Streams events until one `succeeded` or `failed`; throws VideoServiceError for transport faults. */
  generate(request: VideoRequest, signal: AbortSignal): AsyncIterable<VideoEvent>;
}

export type VideoServiceErrorKind =
  | 'auth' // 401/403: key rejected or balance empty
  | 'rate_limited' // 429
  | 'rejected' // 400: the service refused the request (moderation, bad parameters)
  | 'unavailable' // 5xx
  | 'network' // connection refused, DNS, reset
  | 'stalled' // no bytes for too long
  | 'timeout' // the whole job took too long
  | 'protocol'; // the stream could not be read

export class VideoServiceError extends Error {
  readonly kind: VideoServiceErrorKind;
  /** Shown to the member as is. */
  readonly userMessage: string;
  readonly status?: number;
  /** True when no event had arrived yet, so a retry cannot pay for a second video. */
  readonly beforeAnyEvent: boolean;

  constructor(options: {
    kind: VideoServiceErrorKind;
    userMessage: string;
    logMessage: string;
    status?: number;
    beforeAnyEvent: boolean;
    cause?: unknown;
  }) {
    super(options.logMessage, { cause: options.cause });
    this.name = 'VideoServiceError';
    this.kind = options.kind;
    this.userMessage = options.userMessage;
    this.status = options.status;
    this.beforeAnyEvent = options.beforeAnyEvent;
  }
}
