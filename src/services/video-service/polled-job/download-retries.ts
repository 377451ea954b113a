import type { DownloadResult } from '../download/video-download.ts';
import { pause } from '../job-run.ts';
import { VideoServiceError } from '../video-provider.ts';
import { backoffMs, TRANSIENT_KINDS } from './polled-job-loop.ts';

/** Tries of a keyed result download: a made video is worth a few, never endless ones. */
const DOWNLOAD_ATTEMPTS = 3;

export interface DownloadRetryOptions {
  signal: AbortSignal;
  /** Between two polls; the first wait after a failed try, doubled per failure in a row. */
  pollIntervalMs: number;
  /** Masks the service's secrets in a failure's words. */
  redact: (text: string) => string;
  onRetry: (attempt: number, detail: string) => void;
}

/**
 * A shape's keyed download of a finished video, tried again on a passing fault (429, 5xx, a cut
 * connection) with the poll loop's backoff, and any other fault a `download-failed` result.
 * Cancel ends it at once with the signal's reason.
 */
export async function downloadWithRetries(
  tryOnce: () => Promise<DownloadResult>,
  options: DownloadRetryOptions,
): Promise<DownloadResult> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await tryOnce();
    } catch (error) {
      if (options.signal.aborted) throw options.signal.reason;
      const transient = error instanceof VideoServiceError && TRANSIENT_KINDS.has(error.kind);
      const detail = options.redact(error instanceof Error ? error.message : String(error));
      if (!transient || attempt >= DOWNLOAD_ATTEMPTS) return { ok: false, why: 'download-failed', detail };
      options.onRetry(attempt, detail);
      await pause(backoffMs(error, attempt - 1, options.pollIntervalMs), options.signal);
    }
  }
}
