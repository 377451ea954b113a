import { Agent, type Dispatcher, request } from 'undici';
import type { DownloadedVideo, LinkReason } from '../../jobs/job.ts';
import { hasPrivateHostLiteral, publicOnlyLookup } from './network-guard.ts';
import { readCapped } from './read-capped.ts';

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

const ACCEPTED_TYPES = /^(video\/|application\/octet-stream|binary\/octet-stream|application\/mp4)/i;

/**
 * Fetches a finished video into memory, capped at the upload limit of where it will be posted.
 * Anything that goes wrong is a result, not an exception: the member then gets the link instead.
 */
export class HttpVideoDownloader implements VideoDownloader {
  private readonly dispatcher: Dispatcher;
  private readonly maxRedirects: number;

  constructor(private readonly options: HttpVideoDownloaderOptions) {
    this.maxRedirects = options.maxRedirects ?? 3;
    this.dispatcher = options.allowPrivate
      ? new Agent()
      : new Agent({ connect: { lookup: publicOnlyLookup } });
  }

  async download(
    url: string,
    maxBytes: number,
    fileName: string,
    signal?: AbortSignal,
  ): Promise<DownloadResult> {
    const timeout = AbortSignal.timeout(this.options.timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    try {
      return await this.follow(url, maxBytes, fileName, combined);
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      const detail = timeout.aborted ? 'timed out' : describe(error);
      const refused = (error as NodeJS.ErrnoException).code === 'EPRIVATEADDRESS';
      return { ok: false, why: refused ? 'download-refused' : 'download-failed', detail };
    }
  }

  private async follow(
    startUrl: string,
    maxBytes: number,
    fileName: string,
    signal: AbortSignal,
  ): Promise<DownloadResult> {
    let url = startUrl;
    for (let hop = 0; hop <= this.maxRedirects; hop++) {
      const refusal = this.refusal(url);
      if (refusal) return { ok: false, why: 'download-refused', detail: refusal };
      const response = await request(url, { dispatcher: this.dispatcher, signal, method: 'GET' });
      const location = response.headers.location;
      if (response.statusCode >= 300 && response.statusCode < 400 && typeof location === 'string') {
        await response.body.dump();
        url = new URL(location, url).toString();
        continue;
      }
      return await this.readBody(response, maxBytes, fileName);
    }
    return { ok: false, why: 'download-failed', detail: 'too many redirects' };
  }

  private refusal(url: string): string | undefined {
    if (!URL.canParse(url)) return 'not a URL';
    if (this.options.allowPrivate) return undefined;
    const parsed = new URL(url);
    if (parsed.protocol !== 'https:') return 'only https downloads are allowed';
    if (hasPrivateHostLiteral(parsed)) return 'private address';
    return undefined;
  }

  private async readBody(
    response: Dispatcher.ResponseData,
    maxBytes: number,
    fileName: string,
  ): Promise<DownloadResult> {
    const { statusCode, headers, body } = response;
    const contentType = String(headers['content-type'] ?? 'video/mp4');
    if (statusCode !== 200) {
      await body.dump();
      return { ok: false, why: 'download-failed', detail: `HTTP ${statusCode}` };
    }
    if (!ACCEPTED_TYPES.test(contentType)) {
      await body.dump();
      return { ok: false, why: 'download-failed', detail: `not a video (${contentType})` };
    }
    const read = await readCapped(response, maxBytes);
    if (!read.ok) return { ok: false, why: 'too-large', detail: read.detail };
    return { ok: true, video: { fileName, bytes: read.bytes, contentType } };
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) return (error as NodeJS.ErrnoException).code ?? error.message;
  return String(error);
}
