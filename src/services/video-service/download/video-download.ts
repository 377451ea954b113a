import type { DownloadedVideo, LinkReason } from './downloaded-video.ts';
import { type GuardedFetchFailure, guardedFetch, VIDEO_TYPES } from './guarded-fetch.ts';

export type DownloadResult =
  | { ok: true; video: DownloadedVideo }
  | {
      ok: false;
      why: Extract<LinkReason, 'too-large' | 'download-failed' | 'download-refused'>;
      detail: string;
    };

/** Fetches a finished video into memory, capped at the upload limit of where it will be posted. */
export interface VideoDownloader {
  download(url: string, maxBytes: number, fileName: string, signal?: AbortSignal): Promise<DownloadResult>;
}

export interface HttpVideoDownloaderOptions {
  timeoutMs: number;
  /** Allows http and private addresses: for local testing and self-hosted relays only. */
  allowPrivate: boolean;
  maxRedirects?: number;
}

/**
 * Fetches a finished video from a link the service gave (no key sent), through the one guarded
 * fetch: every hop checked, capped at the upload limit of where it will be posted. Anything that
 * goes wrong is a result, not an exception: the member then gets the link instead.
 */
export class HttpVideoDownloader implements VideoDownloader {
  constructor(private readonly options: HttpVideoDownloaderOptions) {}

  async download(
    url: string,
    maxBytes: number,
    fileName: string,
    signal?: AbortSignal,
  ): Promise<DownloadResult> {
    const fetched = await guardedFetch(url, {
      maxBytes,
      allowedTypes: VIDEO_TYPES,
      allowPrivate: this.options.allowPrivate,
      timeoutMs: this.options.timeoutMs,
      maxRedirects: this.options.maxRedirects,
      signal,
    });
    if (fetched.ok) {
      const contentType = fetched.contentType ?? 'video/mp4';
      return { ok: true, video: { fileName, bytes: fetched.bytes, contentType } };
    }
    return downloadFailure(fetched);
  }

  /** Nothing of its own to close: the guarded fetch's connection pools are shared. */
  async close(): Promise<void> {}
}

/** A guarded fetch's failure as a delivery outcome: what the member is told beside the link. */
export function downloadFailure(failure: GuardedFetchFailure): DownloadResult & { ok: false } {
  if (failure.why === 'refused') return { ok: false, why: 'download-refused', detail: failure.detail };
  if (failure.why === 'too-large') return { ok: false, why: 'too-large', detail: failure.detail };
  return { ok: false, why: 'download-failed', detail: failure.detail };
}
