import { Agent, type Dispatcher, request } from 'undici';
import { hasPrivateHostLiteral, publicOnlyLookup } from './network-guard.ts';
import { discard, readCapped } from './read-capped.ts';

/**
 * The one way the bot fetches a file (a finished video, a starting image) from an address a
 * service or a member handed it. Every hop of a redirect chain is checked again: http(s) only,
 * https and public addresses only (also after DNS resolution, at connect time) unless
 * `allowPrivate`; the service's own key goes to the first URL's origin and never to another one;
 * the body must be of an allowed type and fit `maxBytes`; `timeoutMs` bounds the whole fetch and
 * `signal` (cancel, the job's deadline) ends it at once.
 *
 * The first hop may be trusted (`firstHopTrusted`): the operator configured that origin as the
 * service's base URL, so it may be loopback or plain http (a self-hosted relay, the tests). Where
 * it redirects to is checked like any other address.
 *
 * Anything that goes wrong is a result, not an exception, except a cancel: then `signal.reason`
 * is thrown, so a cancel stays distinguishable from a fault.
 */

export interface GuardedFetchOptions {
  /** Largest body read; a declared or actual length over it is `too-large`. */
  maxBytes: number;
  /** Content types accepted (a response without one is accepted: the caller decides what it is). */
  allowedTypes: RegExp;
  /** ALLOW_PRIVATE_VIDEO_URLS: http and private addresses allowed on every hop (local testing). */
  allowPrivate: boolean;
  /** Limit on the whole fetch, redirects and body included. */
  timeoutMs: number;
  /** Cancel, and whatever deadline the caller's job has. */
  signal?: AbortSignal;
  /** Sent only to the first URL's origin (e.g. the service key); never to a redirect elsewhere. */
  headers?: Record<string, string>;
  /** The first URL is the service's own configured base URL: its origin skips the address checks. */
  firstHopTrusted?: boolean;
  /** Default 3. */
  maxRedirects?: number;
  /** Used for trusted hops, and for every hop when `allowPrivate` (tests, benchmarks). */
  dispatcher?: Dispatcher;
}

export type GuardedFetchResult =
  | { ok: true; bytes: Buffer; contentType: string | undefined; url: string }
  | GuardedFetchFailure;

export type GuardedFetchFailure =
  /** An address the bot does not fetch from (private, loopback, plain http, not http at all). */
  | { ok: false; why: 'refused'; detail: string }
  | { ok: false; why: 'too-large'; detail: string }
  /** A final answer other than 200; its start is kept for error messages. */
  | {
      ok: false;
      why: 'http-status';
      status: number;
      headers: Dispatcher.ResponseData['headers'];
      body: string;
      detail: string;
    }
  | { ok: false; why: 'wrong-type'; contentType: string; body: string; detail: string }
  | { ok: false; why: 'too-many-redirects'; detail: string }
  | { ok: false; why: 'timeout'; detail: string }
  /** No answer at all: refused, reset, DNS. */
  | { ok: false; why: 'network'; detail: string; cause: unknown };

/** What a finished video may arrive as: storage often calls it octet-stream. */
export const VIDEO_TYPES = /^(video\/|application\/octet-stream|binary\/octet-stream|application\/mp4)/i;
/** What a starting image may arrive as; the caller checks the bytes themselves too. */
export const IMAGE_TYPES = /^(image\/|application\/octet-stream|binary\/octet-stream)/i;

const DEFAULT_MAX_REDIRECTS = 3;
/** The part of an error or wrong-type body kept for messages and logs. */
const MAX_EXCERPT_BYTES = 8 * 1024;

/**
 * Shared by every fetch: undici's process-wide dispatcher is discord.js's (another undici
 * version), and one pool per kind keeps connections reused. Idle sockets do not hold the
 * process open.
 */
let guardedAgent: Agent | undefined;
let plainAgent: Agent | undefined;
const publicOnly = (): Agent => {
  guardedAgent ??= new Agent({ connect: { lookup: publicOnlyLookup } });
  return guardedAgent;
};
const plain = (): Agent => {
  plainAgent ??= new Agent();
  return plainAgent;
};

export async function guardedFetch(url: string, options: GuardedFetchOptions): Promise<GuardedFetchResult> {
  const { signal } = options;
  signal?.throwIfAborted();
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
  try {
    return await follow(url, options, combined);
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    if (timeout.aborted)
      return { ok: false, why: 'timeout', detail: `timed out after ${options.timeoutMs} ms` };
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    if (code === 'EPRIVATEADDRESS') {
      return { ok: false, why: 'refused', detail: (error as Error).message };
    }
    return { ok: false, why: 'network', detail: describe(error), cause: error };
  }
}

async function follow(
  startUrl: string,
  options: GuardedFetchOptions,
  signal: AbortSignal,
): Promise<GuardedFetchResult> {
  if (!URL.canParse(startUrl)) return { ok: false, why: 'refused', detail: 'not a URL' };
  const firstOrigin = new URL(startUrl).origin;
  const maxRedirects = options.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  let url = new URL(startUrl);
  for (let hop = 0; hop <= maxRedirects; hop++) {
    const trusted = options.firstHopTrusted === true && url.origin === firstOrigin;
    const refusal = refusalOf(url, trusted || options.allowPrivate);
    if (refusal) return { ok: false, why: 'refused', detail: refusal };
    const response = await request(url.toString(), {
      method: 'GET',
      signal,
      // The key belongs to the service's origin: a redirect to storage elsewhere never gets it.
      headers: url.origin === firstOrigin ? options.headers : undefined,
      dispatcher: dispatcherFor(trusted, options),
      // The fetch's own deadline governs waiting, whatever undici's defaults.
      headersTimeout: 0,
      bodyTimeout: 0,
    });
    const location = response.headers.location;
    if (response.statusCode >= 300 && response.statusCode < 400 && typeof location === 'string') {
      await response.body.dump();
      if (!URL.canParse(location, url.toString()))
        return { ok: false, why: 'refused', detail: 'unusable redirect' };
      url = new URL(location, url);
      continue;
    }
    return await readBody(response, url, options);
  }
  return { ok: false, why: 'too-many-redirects', detail: `more than ${maxRedirects} redirects` };
}

function refusalOf(url: URL, privateAllowed: boolean): string | undefined {
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return `${url.protocol} URL`;
  if (privateAllowed) return undefined;
  if (url.protocol !== 'https:') return 'only https is fetched';
  if (hasPrivateHostLiteral(url)) return 'private address';
  return undefined;
}

function dispatcherFor(trusted: boolean, options: GuardedFetchOptions): Dispatcher {
  if (trusted || options.allowPrivate) return options.dispatcher ?? plain();
  return publicOnly();
}

async function readBody(
  response: Dispatcher.ResponseData,
  url: URL,
  options: GuardedFetchOptions,
): Promise<GuardedFetchResult> {
  const { statusCode, headers } = response;
  const declared = headers['content-type'];
  const contentType = typeof declared === 'string' && declared.trim() !== '' ? declared : undefined;
  if (statusCode !== 200) {
    const body = await excerptOf(response);
    return { ok: false, why: 'http-status', status: statusCode, headers, body, detail: `HTTP ${statusCode}` };
  }
  if (contentType !== undefined && !options.allowedTypes.test(contentType)) {
    const body = await excerptOf(response);
    return {
      ok: false,
      why: 'wrong-type',
      contentType,
      body,
      detail: `not an accepted type (${contentType})`,
    };
  }
  const read = await readCapped(response, options.maxBytes);
  if (!read.ok) return { ok: false, why: 'too-large', detail: read.detail };
  return { ok: true, bytes: read.bytes, contentType, url: url.toString() };
}

async function excerptOf(response: Dispatcher.ResponseData): Promise<string> {
  const read = await readCapped(response, MAX_EXCERPT_BYTES).catch(() => undefined);
  if (!read?.ok) {
    discard(response.body);
    return '';
  }
  return read.bytes.toString('utf8');
}

function describe(error: unknown): string {
  if (error instanceof Error) return (error as NodeJS.ErrnoException).code ?? error.message;
  return String(error);
}
