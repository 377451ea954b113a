import { Agent, type Dispatcher } from 'undici';
import type { Logger } from '../../logging/logger.ts';
import { type GuardedFetchFailure, guardedFetch, VIDEO_TYPES } from '../download/guarded-fetch.ts';
import { JsonApiClient } from '../json-api-client.ts';
import {
  retryAfterMsOf,
  type ServiceCallError,
  transportFailure,
  unreadableAnswer,
} from '../service-call-errors.ts';
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

  /** A download that went wrong as the error the provider's retry policy reads. */
  private downloadFailure(
    fetched: Exclude<GuardedFetchFailure, { why: 'too-large' | 'refused' }>,
  ): ServiceCallError {
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
        return unreadableAnswer(
          'download',
          GEMINI,
          `not a video (${fetched.contentType})`,
          this.options.redaction.withoutSecrets(fetched.body),
        );
      case 'too-many-redirects':
        return unreadableAnswer('download', GEMINI, fetched.detail);
      case 'timeout':
        return transportFailure('download', GEMINI, new Error(fetched.detail), true, mask);
      case 'network':
        return transportFailure('download', GEMINI, fetched.cause, false, mask);
    }
  }
}
