import { Agent, type Dispatcher, request } from 'undici';
import { type Logger, silentLogger } from '../../logging/logger.ts';
import { type GuardedFetchFailure, guardedFetch, VIDEO_TYPES } from '../download/guarded-fetch.ts';
import type { ServiceTextRedaction } from '../service-text-redaction.ts';
import { retryAfterMsOf } from '../videos-api/videos-api-errors.ts';
import {
  type GeminiCall,
  GeminiError,
  geminiHttpFailure,
  geminiTransportFailure,
  geminiUnreadableReply,
} from './gemini-errors.ts';
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
  /** ALLOW_PRIVATE_VIDEO_URLS: where a download is sent on may be http or a private address. */
  allowPrivate?: boolean;
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
const MAX_JSON_REPLY_BYTES = 1024 * 1024;
const MAX_ERROR_BODY_BYTES = 8 * 1024;
type Body = Dispatcher.ResponseData['body'];

/**
 * The Gemini API's video calls: `POST {base}/models/{model}:predictLongRunning`, `GET
 * {base}/{operation name}`, and the download of a generated video's `uri`. The key travels in
 * `x-goog-api-key`, only ever to the base URL's origin (never in a query string, where it would
 * reach logs). Nothing is retried here; a create's error says through `createOutcome` whether
 * sending it again is safe. A cancel throws `signal.reason`, never a GeminiError.
 */
export class GeminiClient {
  private readonly base: string;
  private readonly origin: string;
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;
  private readonly logger: Logger;
  private readonly requestTimeoutMs: number;
  private readonly downloadTimeoutMs: number;

  constructor(private readonly options: GeminiClientOptions) {
    this.base = options.baseUrl.replace(/\/+$/, '');
    this.origin = new URL(this.base).origin;
    this.logger = options.logger ?? silentLogger;
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.downloadTimeoutMs = options.downloadTimeoutMs ?? DEFAULT_DOWNLOAD_TIMEOUT_MS;
    this.ownsDispatcher = !options.dispatcher;
    // Never undici's process-wide dispatcher: discord.js uses it with its own undici version.
    this.dispatcher = options.dispatcher ?? new Agent({ connect: { timeout: CONNECT_TIMEOUT_MS } });
  }

  predictLongRunning(
    model: string,
    body: PredictLongRunningBody,
    signal: AbortSignal,
  ): Promise<GeminiOperation> {
    const url = `${this.base}/models/${encodeURIComponent(model)}:predictLongRunning`;
    return this.operationCall('create', 'POST', url, JSON.stringify(body), signal);
  }

  getOperation(name: string, signal: AbortSignal): Promise<GeminiOperation> {
    if (!isOperationName(name)) {
      return Promise.reject(geminiUnreadableReply('poll', `not an operation name: ${name.slice(0, 80)}`));
    }
    return this.operationCall('poll', 'GET', `${this.base}/${name}`, undefined, signal);
  }

  /** Whether a URL is on the provider's own origin, the only place the key is sent. */
  isOwnOrigin(url: string): boolean {
    return URL.canParse(url) && new URL(url).origin === this.origin;
  }

  /**
   * A generated video's bytes, capped, through the one guarded fetch every download uses. Only a
   * URL on the base URL's origin is fetched: that first hop is trusted (the operator configured it)
   * and alone gets the key; where Google sends it on (its storage) is checked like any address and
   * fetched without the key.
   */
  async downloadVideo(url: string, maxBytes: number, signal: AbortSignal): Promise<VideoFileDownload> {
    if (!this.isOwnOrigin(url)) {
      return {
        ok: false,
        why: 'download-refused',
        detail: 'the video is not on the configured service origin',
      };
    }
    const fetched = await guardedFetch(url, {
      maxBytes,
      allowedTypes: VIDEO_TYPES,
      allowPrivate: this.options.allowPrivate ?? false,
      firstHopTrusted: true,
      timeoutMs: this.downloadTimeoutMs,
      signal,
      headers: { 'x-goog-api-key': this.options.apiKey },
      dispatcher: this.dispatcher,
    });
    if (fetched.ok)
      return { ok: true, bytes: fetched.bytes, contentType: fetched.contentType ?? 'video/mp4' };
    if (fetched.why === 'too-large') return { ok: false, why: 'too-large', detail: fetched.detail };
    if (fetched.why === 'refused') return { ok: false, why: 'download-refused', detail: fetched.detail };
    throw this.downloadFailure(fetched);
  }

  async close(): Promise<void> {
    if (this.ownsDispatcher) await this.dispatcher.close();
  }

  private operationCall(
    call: GeminiCall,
    method: 'GET' | 'POST',
    url: string,
    body: string | undefined,
    signal: AbortSignal,
  ): Promise<GeminiOperation> {
    return this.call(call, signal, this.requestTimeoutMs, async (limit) => {
      const started = Date.now();
      const response = await this.send(method, url, body, limit, true);
      if (response.statusCode >= 300) throw await this.failure(call, response);
      const { text, truncated } = await this.readText(response.body, MAX_JSON_REPLY_BYTES);
      if (truncated) throw geminiUnreadableReply(call, `a reply larger than ${MAX_JSON_REPLY_BYTES} bytes`);
      let document: unknown;
      try {
        document = JSON.parse(text);
      } catch {
        throw geminiUnreadableReply(call, 'the reply is not JSON', text);
      }
      const parsed = parseOperation(document);
      if (!parsed.ok) throw geminiUnreadableReply(call, parsed.problem, text);
      this.logger.debug('gemini_call', {
        call,
        operation: parsed.operation.name,
        done: parsed.operation.done,
        ms: Date.now() - started,
      });
      return parsed.operation;
    });
  }

  /** Runs one call under its own deadline and turns whatever went wrong into what the caller expects. */
  private async call<T>(
    call: GeminiCall,
    signal: AbortSignal,
    timeoutMs: number,
    work: (limit: AbortSignal) => Promise<T>,
  ): Promise<T> {
    signal.throwIfAborted();
    const limit = new AbortController();
    let timedOut = false;
    const onAbort = () => limit.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => {
      timedOut = true;
      limit.abort(new Error(`gemini ${call} timed out`));
    }, timeoutMs);
    try {
      return await work(limit.signal);
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      if (error instanceof GeminiError) throw error;
      throw geminiTransportFailure(call, error, timedOut, (text) => this.options.redaction.text(text));
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    }
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

  /** A download that went wrong as the error the provider's retry policy reads. */
  private downloadFailure(
    fetched: Exclude<GuardedFetchFailure, { why: 'too-large' | 'refused' }>,
  ): GeminiError {
    const mask = (text: string) => this.options.redaction.text(text);
    switch (fetched.why) {
      case 'http-status':
        return geminiHttpFailure(
          'download',
          fetched.status,
          this.options.redaction.withoutSecrets(fetched.body),
          retryAfterMsOf(fetched.headers),
        );
      case 'wrong-type':
        return geminiUnreadableReply(
          'download',
          `not a video (${fetched.contentType})`,
          this.options.redaction.withoutSecrets(fetched.body),
        );
      case 'too-many-redirects':
        return geminiUnreadableReply('download', fetched.detail);
      case 'timeout':
        return geminiTransportFailure('download', new Error(fetched.detail), true, mask);
      case 'network':
        return geminiTransportFailure('download', fetched.cause, false, mask);
    }
  }

  private async failure(call: GeminiCall, response: Dispatcher.ResponseData): Promise<GeminiError> {
    const { text } = await this.readText(response.body, MAX_ERROR_BODY_BYTES);
    return geminiHttpFailure(call, response.statusCode, text, retryAfterMsOf(response.headers));
  }

  /** At most `maxBytes` of a body as text, the key already masked. */
  private async readText(body: Body, maxBytes: number): Promise<{ text: string; truncated: boolean }> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of body as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      size += chunk.length;
      if (size > maxBytes) {
        body.destroy();
        break;
      }
    }
    const text = Buffer.concat(chunks).subarray(0, maxBytes).toString('utf8');
    return { text: this.options.redaction.withoutSecrets(text), truncated: size > maxBytes };
  }
}
