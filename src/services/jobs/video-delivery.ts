import pLimit, { type LimitFunction } from 'p-limit';
import type { Logger } from '../logging/logger.ts';
import type { DownloadedVideo, LinkReason } from '../video-service/download/downloaded-video.ts';
import type { DownloadResult, VideoDownloader } from '../video-service/download/video-download.ts';
import type { VideoProvider } from '../video-service/video-provider.ts';
import type { JobSnapshot } from './job.ts';

export interface VideoDeliveryOptions {
  downloader: VideoDownloader;
  /** Fetches keyed files of sources that do not name their own provider (`VideoSource.keyedBy`). */
  provider?: Pick<VideoProvider, 'downloadFile'>;
  /** Deliveries (download to upload) at once. */
  maxConcurrent: number;
  /** Bytes of videos held in memory across all deliveries at once. */
  maxBytesInFlight: number;
}

/** A finished video, fetched for posting; `release` gives its memory back once it is posted. */
export interface FetchedVideo {
  video?: DownloadedVideo;
  /** The link the member may see (the one fetched, or the best one). */
  videoUrl?: string;
  delivery: NonNullable<JobSnapshot['delivery']>;
  release(): void;
}

export interface VideoSource {
  /** Public links, best first. */
  urls: readonly string[];
  /** The file itself behind the service key: tried first, never shown. */
  fileUrl?: string;
  /** The provider that made the video, which alone holds the key for `fileUrl`. */
  keyedBy?: Pick<VideoProvider, 'downloadFile'>;
}

/**
 * Fetches finished videos for posting, within a memory budget: a video is held from download to
 * upload, twice over while discord.js builds the form, so deliveries wait for room (by count and
 * by bytes) instead of all holding their videos at once.
 */
export class VideoDelivery {
  private readonly turns: LimitFunction;
  private readonly budget: ByteBudget;

  constructor(private readonly options: VideoDeliveryOptions) {
    this.turns = pLimit(options.maxConcurrent);
    this.budget = new ByteBudget(options.maxBytesInFlight);
  }

  /**
   * Tries the file, then the links best first: one that fails or is not a video gives way to the
   * next. A video too large for Discord ends the search (its link is what the member gets).
   */
  fetch(
    source: VideoSource,
    maxBytes: number,
    fileName: string,
    signal: AbortSignal,
    log: Logger,
  ): Promise<FetchedVideo> {
    return this.turns(async () => {
      // Room for the download and discord.js's copy of it in the upload form.
      const release = await this.budget.take(2 * maxBytes, signal);
      try {
        const fetched = await this.firstThatDownloads(source, maxBytes, fileName, signal, log);
        if (!fetched.video) release();
        return { ...fetched, release: fetched.video ? release : () => {} };
      } catch (error) {
        release();
        throw error;
      }
    });
  }

  private async firstThatDownloads(
    { urls, fileUrl, keyedBy }: VideoSource,
    maxBytes: number,
    fileName: string,
    signal: AbortSignal,
    log: Logger,
  ): Promise<Omit<FetchedVideo, 'release'>> {
    const candidates = [
      ...(fileUrl ? [{ url: fileUrl, keyed: true }] : []),
      ...urls.map((url) => ({ url, keyed: false })),
    ];
    let why: LinkReason | undefined;
    let videoUrl = urls[0];
    for (const { url, keyed } of candidates) {
      const result = await this.download(url, keyed, maxBytes, fileName, signal, keyedBy);
      if (result.ok)
        return { video: result.video, videoUrl: keyed ? videoUrl : url, delivery: { kind: 'file' } };
      log.info('video_download_failed', {
        videoHost: safeHost(url),
        keyed,
        why: result.why,
        detail: result.detail,
      });
      why ??= result.why;
      if (result.why === 'too-large') {
        why = 'too-large';
        if (!keyed) videoUrl = url;
        break;
      }
    }
    log.info('video_sent_as_link', { why });
    return { videoUrl, delivery: { kind: 'link', why: why ?? 'download-failed' } };
  }

  private download(
    url: string,
    keyed: boolean,
    maxBytes: number,
    fileName: string,
    signal: AbortSignal,
    keyedBy = this.options.provider,
  ): Promise<DownloadResult> {
    const { downloader } = this.options;
    if (!keyed) return downloader.download(url, maxBytes, fileName, signal);
    if (!keyedBy?.downloadFile) {
      return Promise.resolve({
        ok: false,
        why: 'download-refused',
        detail: 'no keyed download for this service',
      });
    }
    return keyedBy.downloadFile(url, maxBytes, fileName, signal);
  }
}

/**
 * Bytes that may be taken at once, waited for in arrival order. One request larger than the whole
 * budget still runs, alone, so no video is refused for being big.
 */
class ByteBudget {
  private available: number;
  private readonly waiters: Array<{ bytes: number; grant: () => void }> = [];

  constructor(private readonly total: number) {
    this.available = total;
  }

  async take(wanted: number, signal: AbortSignal): Promise<() => void> {
    const bytes = Math.min(wanted, this.total);
    if (this.waiters.length > 0 || this.available < bytes) {
      await new Promise<void>((resolve, reject) => {
        const waiter = { bytes, grant: resolve };
        this.waiters.push(waiter);
        signal.addEventListener(
          'abort',
          () => {
            const index = this.waiters.indexOf(waiter);
            if (index === -1) return;
            this.waiters.splice(index, 1);
            reject(signal.reason);
          },
          { once: true },
        );
      });
    } else {
      this.available -= bytes;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.available += bytes;
      this.grantWaiting();
    };
  }

  private grantWaiting(): void {
    while (this.waiters.length > 0 && (this.waiters[0] as { bytes: number }).bytes <= this.available) {
      const next = this.waiters.shift() as { bytes: number; grant: () => void };
      this.available -= next.bytes;
      next.grant();
    }
  }
}

function safeHost(url: string): string {
  return URL.canParse(url) ? new URL(url).host : 'invalid';
}
