import { Agent, type Dispatcher, FormData } from 'undici';
import type { OpenAiVideosVariant } from '../../catalogue/catalogue.ts';
import type { Logger } from '../../logging/logger.ts';
import { type GuardedFetchFailure, guardedFetch, VIDEO_TYPES } from '../download/guarded-fetch.ts';
import { type CallBody, JsonApiClient } from '../json-api-client.ts';
import {
  retryAfterMsOf,
  type ServiceCallError,
  transportFailure,
  unreadableAnswer,
} from '../service-call-errors.ts';
import { openRouterCreateBody } from './openrouter-variant.ts';
import { parseVideoJob, type VideoJob } from './video-job.ts';
import { httpFailure, redactKey, VIDEOS_API, type VideosApiCall } from './videos-api-errors.ts';
import type { CreateVideoJobRequest } from './videos-api-request.ts';

export interface VideosApiClientOptions {
  /** Base URL such as `https://relay.example/v1`; `/videos…` is added. */
  apiUrl: string;
  apiKey: string;
  /** Limit for one create, poll, remix or delete, reply included. Default 30 s. */
  requestTimeoutMs?: number;
  /** Limit for one whole content download. Default 5 min. */
  downloadTimeoutMs?: number;
  /**
   * ALLOW_PRIVATE_VIDEO_URLS: a `/content` redirect may lead to http and private addresses. Off,
   * only the relay's own origin may be one; storage it redirects to must be public https.
   */
  allowPrivateRedirects?: boolean;
  /** Limit for opening a connection, when the client makes its own agent. Default 10 s. */
  connectTimeoutMs?: number;
  logger?: Logger;
  /** An undici dispatcher (agent, pool, mock) for tests and benchmarks. */
  dispatcher?: Dispatcher;
  /** Whose wording of the API the service speaks. Default `openai`. */
  variant?: OpenAiVideosVariant;
}

export type { CreateVideoJobRequest, ReferenceImage } from './videos-api-request.ts';

export type ContentVariant = 'video' | 'thumbnail' | 'spritesheet';

export interface DownloadContentOptions {
  maxBytes: number;
  signal: AbortSignal;
  variant?: ContentVariant;
}

/**
 * Too large, or a redirect to an address the bot does not fetch from, is an answer, not a fault:
 * the caller then shows the job's public link instead.
 */
export type ContentDownload =
  | { ok: true; bytes: Buffer; contentType: string }
  | { ok: false; why: 'too-large'; maxBytes: number; detail: string }
  | { ok: false; why: 'refused'; detail: string };

const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
const DEFAULT_DOWNLOAD_TIMEOUT_MS = 5 * 60_000;
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/**
 * The job-based Videos API (`POST /videos`, `GET /videos/{id}`, `GET /videos/{id}/content`,
 * `POST /videos/{id}/remix`, `DELETE /videos/{id}`) as OpenAI defined it and relays copy it.
 *
 * Nothing is retried here. Polls and downloads may be retried freely by the caller (honouring
 * `retryAfterMs`); a create or remix may be billed, so its error says through `createOutcome`
 * whether sending it again is safe. When the caller's signal aborts, a call throws
 * `signal.reason` itself, never a ServiceCallError, so a cancel stays distinguishable from a fault.
 */
export class VideosApiClient {
  private readonly base: string;
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;
  private readonly api: JsonApiClient;
  private readonly downloadTimeoutMs: number;

  constructor(private readonly options: VideosApiClientOptions) {
    this.base = options.apiUrl.replace(/\/+$/, '').replace(/\/videos$/, '');
    this.downloadTimeoutMs = options.downloadTimeoutMs ?? DEFAULT_DOWNLOAD_TIMEOUT_MS;
    this.ownsDispatcher = !options.dispatcher;
    // Never undici's process-wide dispatcher: discord.js uses it with its own undici version.
    this.dispatcher =
      options.dispatcher ??
      new Agent({ connect: { timeout: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS } });
    this.api = new JsonApiClient({
      service: VIDEOS_API,
      baseUrl: this.base,
      keyHeader: { authorization: `Bearer ${options.apiKey}` },
      redaction: { withoutSecrets: this.mask, text: this.mask },
      requestTimeoutMs: options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
      logger: options.logger,
      dispatcher: this.dispatcher,
    });
  }

  create(job: CreateVideoJobRequest, signal: AbortSignal): Promise<VideoJob> {
    const body =
      this.options.variant === 'openrouter'
        ? openRouterCreateBody(job)
        : job.image && 'bytes' in job.image
          ? multipartCreate(job)
          : jsonCreate(job);
    return this.jobCall('create', 'POST', '/videos', body, signal);
  }

  get(id: string, signal: AbortSignal): Promise<VideoJob> {
    return this.jobCall('get', 'GET', jobPath(id), undefined, signal);
  }

  remix(id: string, prompt: string, signal: AbortSignal): Promise<VideoJob> {
    return this.jobCall('remix', 'POST', `${jobPath(id)}/remix`, JSON.stringify({ prompt }), signal);
  }

  /** Deletes the job and its files at the relay (the API documents no cancel of a running job). */
  async delete(id: string, signal: AbortSignal): Promise<void> {
    const answer = await this.api.send('delete', 'DELETE', jobPath(id), undefined, signal);
    if (answer.status >= 300) throw httpFailure('delete', answer.status, answer.text, answer.retryAfterMs);
  }

  /** The key-protected address of the result: for the bot's own downloader, never for a member. */
  contentUrl(id: string, variant: ContentVariant = 'video'): string {
    const query = variant === 'video' ? '' : `?variant=${variant}`;
    return `${this.base}${jobPath(id)}/content${query}`;
  }

  downloadContent(id: string, options: DownloadContentOptions): Promise<ContentDownload> {
    return this.downloadKeyed(this.contentUrl(id, options.variant), options);
  }

  /**
   * Whether a result link is the service's own (its origin, under `{base}/videos/`), so it may
   * be fetched with the key: OpenRouter's `unsigned_urls` are such links.
   */
  isOwnVideoUrl(url: string): boolean {
    if (!URL.canParse(url)) return false;
    const parsed = new URL(url);
    const base = new URL(this.base);
    return (
      parsed.origin === base.origin &&
      parsed.pathname.startsWith(`${base.pathname.replace(/\/$/, '')}/videos/`)
    );
  }

  /**
   * Fetches one of the service's own result links (`isOwnVideoUrl`) with the key, through the one
   * guarded fetch: the relay's own origin is trusted (it is configured), where it redirects to is
   * checked at each hop, and the key never leaves the relay's origin.
   */
  async downloadKeyed(
    url: string,
    options: Omit<DownloadContentOptions, 'variant'>,
  ): Promise<ContentDownload> {
    if (!this.isOwnVideoUrl(url))
      throw unreadableAnswer('content', VIDEOS_API, 'not a video link of the configured service');
    const fetched = await guardedFetch(url, {
      maxBytes: options.maxBytes,
      allowedTypes: VIDEO_TYPES,
      allowPrivate: this.options.allowPrivateRedirects ?? false,
      firstHopTrusted: true,
      timeoutMs: this.downloadTimeoutMs,
      signal: options.signal,
      headers: { authorization: `Bearer ${this.options.apiKey}` },
      dispatcher: this.dispatcher,
    });
    if (fetched.ok)
      return { ok: true, bytes: fetched.bytes, contentType: fetched.contentType ?? 'video/mp4' };
    if (fetched.why === 'too-large') {
      return { ok: false, why: 'too-large', maxBytes: options.maxBytes, detail: fetched.detail };
    }
    if (fetched.why === 'refused') return { ok: false, why: 'refused', detail: fetched.detail };
    throw this.contentFailure(fetched);
  }

  async close(): Promise<void> {
    if (this.ownsDispatcher) await this.dispatcher.close();
  }

  private async jobCall(
    call: VideosApiCall,
    method: 'GET' | 'POST',
    path: string,
    body: CallBody | undefined,
    signal: AbortSignal,
  ): Promise<VideoJob> {
    const answer = await this.api.send(call, method, path, body, signal);
    if (answer.status >= 300) throw httpFailure(call, answer.status, answer.text, answer.retryAfterMs);
    if (answer.document === undefined) {
      throw unreadableAnswer(call, VIDEOS_API, 'the reply is not JSON', answer.text);
    }
    const parsed = parseVideoJob(answer.document);
    if (!parsed.ok) throw unreadableAnswer(call, VIDEOS_API, parsed.problem, answer.text);
    return parsed.job;
  }

  /** A failed content fetch as the error every other call of this client throws. */
  private contentFailure(
    failure: Exclude<GuardedFetchFailure, { why: 'too-large' | 'refused' }>,
  ): ServiceCallError {
    switch (failure.why) {
      case 'http-status':
        return httpFailure(
          'content',
          failure.status,
          this.mask(failure.body),
          retryAfterMsOf(failure.headers),
        );
      case 'wrong-type':
        return unreadableAnswer(
          'content',
          VIDEOS_API,
          `not a video (${failure.contentType})`,
          this.mask(failure.body),
        );
      case 'too-many-redirects':
        return unreadableAnswer('content', VIDEOS_API, failure.detail);
      case 'timeout':
        return transportFailure('content', VIDEOS_API, new Error(failure.detail), true, this.mask);
      case 'network':
        return transportFailure('content', VIDEOS_API, failure.cause, false, this.mask);
    }
  }

  private readonly mask = (text: string): string => redactKey(text, this.options.apiKey);
}

function jsonCreate(job: CreateVideoJobRequest): string {
  const image = job.image && 'url' in job.image ? { image_url: job.image.url } : undefined;
  return JSON.stringify({
    prompt: job.prompt,
    model: job.model,
    seconds: job.seconds === undefined ? undefined : String(job.seconds),
    size: job.size,
    input_reference: image,
  });
}

function multipartCreate(job: CreateVideoJobRequest): FormData {
  const form = new FormData();
  form.append('prompt', job.prompt);
  form.append('model', job.model);
  if (job.seconds !== undefined) form.append('seconds', String(job.seconds));
  if (job.size) form.append('size', job.size);
  if (job.image && 'bytes' in job.image) {
    const { bytes, contentType, fileName } = job.image;
    form.append('input_reference', new Blob([bytes], { type: contentType }), fileName);
  }
  return form;
}

function jobPath(id: string): string {
  return `/videos/${encodeURIComponent(id)}`;
}
