import { Agent, type Dispatcher, type FormData, request } from 'undici';
import { type Logger, silentLogger } from '../logging/logger.ts';
import {
  retryAfterMsOf,
  type ServiceCall,
  ServiceCallError,
  transportFailure,
  unreadableAnswer,
} from './service-call-errors.ts';
import type { ServiceTextRedaction } from './service-text-redaction.ts';

export interface JsonApiClientOptions {
  /** For log lines and error texts: `videos api`, `gemini`, `fal`, `replicate`. */
  service: string;
  /** Every call goes under this URL, and nowhere else: the key is sent only here. */
  baseUrl: string;
  /** The header that carries the key (`authorization: Key …`, `x-goog-api-key: …`). */
  keyHeader: Record<string, string>;
  /** Masks the key in everything read back, before it is parsed, logged or shown. */
  redaction: Pick<ServiceTextRedaction, 'withoutSecrets' | 'text'>;
  /** Limit for one call, reply included. Default 30 s. */
  requestTimeoutMs?: number;
  /** Limit for opening a connection, when the client makes its own agent. Default 10 s. */
  connectTimeoutMs?: number;
  logger?: Logger;
  dispatcher?: Dispatcher;
}

/** One HTTP answer, whatever its status: the shape decides what a status means for it. */
export interface JsonAnswer {
  status: number;
  /** The body, key masked. */
  text: string;
  /** The body parsed, when it was JSON. */
  document: unknown;
  retryAfterMs?: number;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const MAX_REPLY_BYTES = 1024 * 1024;

type Body = Dispatcher.ResponseData['body'];

/** A JSON document, a body already written as JSON, or a multipart form (undici names its boundary). */
export type CallBody = object | string | FormData;

/**
 * A JSON API under one base URL with one key: the one call path of every job-based shape (the
 * Videos API, Gemini, fal's queue, Replicate).
 * Paths are joined to the base URL and the result is checked to still be under it, so a job id
 * or a model path can never send the key elsewhere. Nothing is retried here. When the caller's
 * signal aborts, a call throws `signal.reason` itself, so a cancel stays apart from a fault.
 */
export class JsonApiClient {
  private readonly base: URL;
  private readonly logger: Logger;
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;
  private readonly requestTimeoutMs: number;

  private readonly logEvent: string;

  constructor(private readonly options: JsonApiClientOptions) {
    this.base = new URL(`${options.baseUrl.replace(/\/+$/, '')}/`);
    this.logger = options.logger ?? silentLogger;
    this.logEvent = `${options.service.replace(/\W+/g, '_')}_call`;
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.ownsDispatcher = !options.dispatcher;
    // Never undici's process-wide dispatcher: discord.js uses it with its own undici version.
    this.dispatcher =
      options.dispatcher ??
      new Agent({ connect: { timeout: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS } });
  }

  /** `path` (segments already encoded, no leading slash) under the base URL. */
  urlOf(path: string): string {
    const url = new URL(path.replace(/^\/+/, ''), this.base);
    if (url.origin !== this.base.origin || !url.pathname.startsWith(this.base.pathname)) {
      throw new Error(`${this.options.service}: ${path} leaves the base URL`);
    }
    return url.toString();
  }

  /** Sends one call and reads its JSON answer, whatever the status; throws ServiceCallError for transport faults. */
  send(
    call: ServiceCall,
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    path: string,
    body: CallBody | undefined,
    signal: AbortSignal,
  ): Promise<JsonAnswer> {
    return this.limited(call, signal, async (limit) => {
      const started = Date.now();
      const response = await request(this.urlOf(path), {
        method,
        headers: {
          accept: 'application/json',
          ...this.options.keyHeader,
          // undici names a multipart form's boundary itself; only JSON needs naming.
          ...(body !== undefined && !isForm(body) ? { 'content-type': 'application/json' } : {}),
        },
        body: body === undefined || isForm(body) || typeof body === 'string' ? body : JSON.stringify(body),
        signal: limit,
        dispatcher: this.dispatcher,
        // The call's own deadline governs waiting, whatever undici's defaults.
        headersTimeout: 0,
        bodyTimeout: 0,
      });
      const { text, truncated } = await readBounded(response.body, MAX_REPLY_BYTES);
      const masked = this.options.redaction.withoutSecrets(text);
      if (truncated && response.statusCode < 300) {
        throw unreadableAnswer(call, this.options.service, `a reply larger than ${MAX_REPLY_BYTES} bytes`);
      }
      this.logger.debug(this.logEvent, {
        call,
        status: response.statusCode,
        ms: Date.now() - started,
      });
      return {
        status: response.statusCode,
        text: masked,
        document: parseJson(masked),
        retryAfterMs: retryAfterMsOf(response.headers),
      };
    });
  }

  async close(): Promise<void> {
    if (this.ownsDispatcher) await this.dispatcher.close();
  }

  private limited<T>(
    call: ServiceCall,
    signal: AbortSignal,
    work: (limit: AbortSignal) => Promise<T>,
  ): Promise<T> {
    const { service, redaction } = this.options;
    const mask = (text: string) => redaction.text(text);
    return callWithDeadline({ call, service, signal, timeoutMs: this.requestTimeoutMs, mask }, work);
  }
}

export interface CallLimits {
  call: ServiceCall;
  /** For error texts: `videos api`, `gemini`, `fal`, `replicate`. */
  service: string;
  /** The caller's signal: its abort throws its own reason, never a ServiceCallError. */
  signal: AbortSignal;
  /** This one call's limit, reply included. */
  timeoutMs: number;
  /** Masks the key in a transport error's text. */
  mask: (text: string) => string;
}

/**
 * Runs one call under its own deadline and turns whatever went wrong into what the caller
 * expects: the caller's abort reason, the call's own ServiceCallError, or a transport failure.
 */
export async function callWithDeadline<T>(
  limits: CallLimits,
  work: (limit: AbortSignal) => Promise<T>,
): Promise<T> {
  const { call, service, signal, timeoutMs, mask } = limits;
  signal.throwIfAborted();
  // One controller per call, its listener removed after: a job's signal outlives hundreds of polls.
  const limit = new AbortController();
  let timedOut = false;
  const onAbort = () => limit.abort(signal.reason);
  signal.addEventListener('abort', onAbort, { once: true });
  const timer = setTimeout(() => {
    timedOut = true;
    limit.abort(new Error(`${service} ${call} timed out`));
  }, timeoutMs);
  try {
    return await work(limit.signal);
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    if (error instanceof ServiceCallError) throw error;
    throw transportFailure(call, service, error, timedOut, mask);
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', onAbort);
  }
}

function isForm(body: CallBody): body is FormData {
  return typeof body === 'object' && typeof (body as Partial<FormData>).append === 'function';
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** At most `maxBytes` of a body as text, and whether there was more. */
export async function readBounded(
  body: Body,
  maxBytes: number,
): Promise<{ text: string; truncated: boolean }> {
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
  return { text, truncated: size > maxBytes };
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function stringOf(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}
