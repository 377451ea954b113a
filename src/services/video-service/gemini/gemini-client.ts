import { Agent, type Dispatcher, request } from 'undici';
import type { Logger } from '../../logging/logger.ts';
import { readCapped } from '../download/read-capped.ts';
import { callWithDeadline, JsonApiClient, readBounded } from '../json-api-client.ts';
import { retryAfterMsOf, type ServiceCallError, unreadableAnswer } from '../service-call-errors.ts';
import type { ServiceTextRedaction } from '../service-text-redaction.ts';
import { GEMINI, type GeminiCall, geminiHttpFailure } from './gemini-errors.ts';
import { type GeminiOperation, isOperationName, parseOperation } from './gemini-operation.ts';

export interface GeminiClientOptions {
  /** Base URL such as `https://generativelanguage.googleapis.com/v1beta`. */
  baseUrl: string;
  apiKey: string;
  /** Masks the key in whatever Google says back. */
  redaction: ServiceTextRedaction;
  /** Limit for one create or poll, reply included. Default 30 s. */
  requestTimeoutMs?: number;
  /** Limit for one whole video download. Default 5 min. */
  downloadTimeoutMs?: number;
  logger?: Logger;
  dispatcher?: Dispatcher;
}

/** `predictLongRunning`'s body: one instance, the model's parameters. */
export interface PredictLongRunningBody {
  instances: Array<{ prompt: string; image?: { bytesBase64Encoded: string; mimeType: string } }>;
  parameters: { aspectRatio?: string; durationSeconds?: number };
}

export type VideoFileDownload =
  | { ok: true; bytes: Buffer; contentType: string }
  | { ok: false; why: 'too-large' | 'download-refused'; detail: string };

const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
const DEFAULT_DOWNLOAD_TIMEOUT_MS = 5 * 60_000;
const CONNECT_TIMEOUT_MS = 10_000;
const MAX_ERROR_BODY_BYTES = 8 * 1024;
const MAX_REDIRECTS = 3;
const NOT_MEDIA = /^(application\/(json|problem)|text\/)/i;

/**
 * The Gemini API's video calls: `POST {base}/models/{model}:predictLongRunning`, `GET
 * {base}/{operation name}`, and the download of a generated video's `uri`. The key travels in
 * `x-goog-api-key`, only ever to the base URL's origin (never in a query string, where it would
 * reach logs). Nothing is retried here; a create's error says through `createOutcome` whether
 * sending it again is safe. A cancel throws `signal.reason`, never a ServiceCallError.
 */
export class GeminiClient {
  private readonly base: string;
  private readonly origin: string;
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;
  private readonly api: JsonApiClient;
  private readonly downloadTimeoutMs: number;

  constructor(private readonly options: GeminiClientOptions) {
    this.base = options.baseUrl.replace(/\/+$/, '');
    this.origin = new URL(this.base).origin;
    this.downloadTimeoutMs = options.downloadTimeoutMs ?? DEFAULT_DOWNLOAD_TIMEOUT_MS;
    this.ownsDispatcher = !options.dispatcher;
    // Never undici's process-wide dispatcher: discord.js uses it with its own undici version.
    this.dispatcher = options.dispatcher ?? new Agent({ connect: { timeout: CONNECT_TIMEOUT_MS } });
    this.api = new JsonApiClient({
      service: GEMINI,
      baseUrl: this.base,
      keyHeader: { 'x-goog-api-key': options.apiKey },
      redaction: options.redaction,
      requestTimeoutMs: options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
      logger: options.logger,
      dispatcher: this.dispatcher,
    });
  }

  predictLongRunning(
    model: string,
    body: PredictLongRunningBody,
    signal: AbortSignal,
  ): Promise<GeminiOperation> {
    const path = `models/${encodeURIComponent(model)}:predictLongRunning`;
    return this.operationCall('create', 'POST', path, body, signal);
  }

  getOperation(name: string, signal: AbortSignal): Promise<GeminiOperation> {
    if (!isOperationName(name)) {
      return Promise.reject(unreadableAnswer('poll', GEMINI, `not an operation name: ${name.slice(0, 80)}`));
    }
    return this.operationCall('poll', 'GET', name, undefined, signal);
  }

  /** Whether a URL is on the provider's own origin, the only place the key is sent. */
  isOwnOrigin(url: string): boolean {
    return URL.canParse(url) && new URL(url).origin === this.origin;
  }

  /**
   * A generated video's bytes, capped. Only a URL on the base URL's origin is fetched (with the
   * key); a redirect elsewhere (Google's storage) is followed without it.
   */
  downloadVideo(url: string, maxBytes: number, signal: AbortSignal): Promise<VideoFileDownload> {
    if (!this.isOwnOrigin(url)) {
      return Promise.resolve({
        ok: false,
        why: 'download-refused',
        detail: 'the video is not on the configured service origin',
      });
    }
    return this.call('download', signal, this.downloadTimeoutMs, async (limit) => {
      const response = await this.followRedirects(url, limit);
      const contentType = String(response.headers['content-type'] ?? 'video/mp4');
      if (NOT_MEDIA.test(contentType)) {
        const { text } = await this.readText(response.body, MAX_ERROR_BODY_BYTES);
        throw unreadableAnswer('download', GEMINI, `not a video (${contentType})`, text);
      }
      // A body cut short at the cap reports its own abort; the cut is the answer, not a fault.
      response.body.on('error', () => {});
      const read = await readCapped(response, maxBytes);
      if (!read.ok) return { ok: false, why: 'too-large', detail: read.detail };
      return { ok: true, bytes: read.bytes, contentType };
    });
  }

  async close(): Promise<void> {
    if (this.ownsDispatcher) await this.dispatcher.close();
  }

  private async operationCall(
    call: GeminiCall,
    method: 'GET' | 'POST',
    path: string,
    body: PredictLongRunningBody | undefined,
    signal: AbortSignal,
  ): Promise<GeminiOperation> {
    const answer = await this.api.send(call, method, path, body, signal);
    if (answer.status >= 300) {
      throw geminiHttpFailure(call, answer.status, answer.text, answer.retryAfterMs);
    }
    if (answer.document === undefined)
      throw unreadableAnswer(call, GEMINI, 'the reply is not JSON', answer.text);
    const parsed = parseOperation(answer.document);
    if (!parsed.ok) throw unreadableAnswer(call, GEMINI, parsed.problem, answer.text);
    return parsed.operation;
  }

  /** Runs one call under its own deadline and turns whatever went wrong into what the caller expects. */
  private call<T>(
    call: GeminiCall,
    signal: AbortSignal,
    timeoutMs: number,
    work: (limit: AbortSignal) => Promise<T>,
  ): Promise<T> {
    const mask = (text: string) => this.options.redaction.text(text);
    return callWithDeadline({ call, service: GEMINI, signal, timeoutMs, mask }, work);
  }

  private send(
    method: 'GET' | 'POST',
    url: string,
    body: string | undefined,
    signal: AbortSignal,
    withKey: boolean,
  ): Promise<Dispatcher.ResponseData> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (withKey && this.isOwnOrigin(url)) headers['x-goog-api-key'] = this.options.apiKey;
    if (body !== undefined) headers['content-type'] = 'application/json';
    return request(url, {
      method,
      headers,
      body,
      signal,
      dispatcher: this.dispatcher,
      headersTimeout: 0,
      bodyTimeout: 0,
    });
  }

  /** Google answers a file download with a redirect to storage; the key stays on its own origin. */
  private async followRedirects(startUrl: string, signal: AbortSignal): Promise<Dispatcher.ResponseData> {
    let url = startUrl;
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      const response = await this.send('GET', url, undefined, signal, true);
      const redirected = response.statusCode >= 300 && response.statusCode < 400;
      if (!redirected) {
        if (response.statusCode >= 400) throw await this.failure('download', response);
        return response;
      }
      await response.body.dump();
      const location = response.headers.location;
      const next =
        typeof location === 'string' && URL.canParse(location, url) ? new URL(location, url) : null;
      if (!next || (next.protocol !== 'https:' && next.protocol !== 'http:')) {
        throw unreadableAnswer('download', GEMINI, `HTTP ${response.statusCode} without a usable location`);
      }
      url = next.toString();
    }
    throw unreadableAnswer('download', GEMINI, `more than ${MAX_REDIRECTS} redirects`);
  }

  private async failure(call: GeminiCall, response: Dispatcher.ResponseData): Promise<ServiceCallError> {
    const { text } = await this.readText(response.body, MAX_ERROR_BODY_BYTES);
    return geminiHttpFailure(call, response.statusCode, text, retryAfterMsOf(response.headers));
  }

  /** At most `maxBytes` of a body as text, the key already masked. */
  private async readText(
    body: Dispatcher.ResponseData['body'],
    maxBytes: number,
  ): Promise<{ text: string; truncated: boolean }> {
    const { text, truncated } = await readBounded(body, maxBytes);
    return { text: this.options.redaction.withoutSecrets(text), truncated };
  }
}
