import { type MemberText, memberText } from '../../i18n/member-text.ts';
import { redact } from '../../logging/logger.ts';
import { isRefusalStatus, surelyNeverSent } from '../never-sent.ts';
import {
  describeCreateFailure,
  describeHttpFailure,
  excerpt,
  type HttpFailure,
  serviceMessageOf,
} from '../service-error-text.ts';
import { VideoServiceError, type VideoServiceErrorKind } from '../video-provider.ts';

export type VideosApiCall = 'create' | 'get' | 'remix' | 'content' | 'delete';

/**
 * What became of a create (or remix) that failed, so the caller knows whether sending it again
 * could pay for a second video:
 * - `not-sent`: the request certainly never reached the relay (DNS, connection refused);
 * - `refused`: the relay answered and refused it (4xx, 429): no job exists;
 * - `unknown`: it may have been accepted (timeout, reset after sending, 5xx, unreadable reply).
 */
export type CreateOutcome = 'not-sent' | 'refused' | 'unknown';

export class VideosApiError extends VideoServiceError {
  readonly call: VideosApiCall;
  /** Set on create and remix failures only. */
  readonly createOutcome?: CreateOutcome;
  /** From `Retry-After` (or `retry-after-ms`) on any error reply that carried one, e.g. 429 and 503. */
  readonly retryAfterMs?: number;

  constructor(options: {
    call: VideosApiCall;
    kind: VideoServiceErrorKind;
    userMessage: string;
    memberText?: MemberText;
    logMessage: string;
    status?: number;
    createOutcome?: CreateOutcome;
    retryAfterMs?: number;
    cause?: unknown;
  }) {
    super({ ...options, beforeAnyEvent: options.createOutcome !== 'unknown' });
    this.name = 'VideosApiError';
    this.call = options.call;
    this.createOutcome = options.createOutcome;
    this.retryAfterMs = options.retryAfterMs;
  }
}

export const USER_MESSAGES = {
  auth: "The video service rejected the bot's credentials, or the bot's balance there is empty. Please tell the bot's owner.",
  rateLimited: 'The video service is busy right now. Please try again in a minute.',
  unreachable: 'The bot could not reach the video service. Please try again in a few minutes.',
  connectionLost: 'The connection to the video service was lost.',
  timeout: 'The video service took too long to answer.',
  unreadable: 'The video service sent a reply the bot could not read.',
  notFound: 'The video service no longer has this video.',
} as const;

/** The same, as message keys: what the member reads, in their language. */
export const MEMBER_TEXTS: Record<keyof typeof USER_MESSAGES, MemberText> = {
  auth: memberText('failure.service.auth'),
  rateLimited: memberText('failure.service.rateLimited'),
  unreachable: memberText('failure.service.unreachable'),
  connectionLost: memberText('failure.service.connectionLost'),
  timeout: memberText('failure.service.timeout'),
  unreadable: memberText('failure.service.unreadable'),
  notFound: memberText('failure.service.notFound'),
};

/** A token ends at a quote, a backslash (a JSON escape: masking it would break the document) or a separator. */
const BEARER_TOKEN = /\bBearer\s+[^\s"'\\,;]+/gi;

/** Masks the key wherever it hides, and any `Bearer <token>` a relay echoes back. */
export function redactKey(text: string, apiKey: string): string {
  const masked = apiKey ? redact(text, [apiKey]) : text;
  return masked.replace(BEARER_TOKEN, 'Bearer [redacted]');
}

export function httpFailure(
  call: VideosApiCall,
  status: number,
  body: string,
  retryAfterMs: number | undefined,
): VideosApiError {
  const said = serviceMessageOf(body);
  const { kind, userMessage, memberText } = describeStatus(call, status, said, body);
  const billable = call === 'create' || call === 'remix';
  return new VideosApiError({
    call,
    kind,
    userMessage,
    memberText,
    status,
    retryAfterMs,
    createOutcome: billable ? (isRefusalStatus(status) ? 'refused' : 'unknown') : undefined,
    logMessage: `videos api ${call} answered HTTP ${status}: ${excerpt(body)}`,
  });
}

/** A request that produced no HTTP answer: never connected, lost on the way, or too slow. */
export function transportFailure(
  call: VideosApiCall,
  error: unknown,
  timedOut: boolean,
  mask: (text: string) => string,
): VideosApiError {
  const billable = call === 'create' || call === 'remix';
  const code = (error as { code?: unknown } | undefined)?.code;
  const notSent = surelyNeverSent(error);
  const createOutcome = billable ? (notSent && !timedOut ? 'not-sent' : 'unknown') : undefined;
  if (timedOut) {
    return new VideosApiError({
      call,
      kind: 'timeout',
      userMessage: USER_MESSAGES.timeout,
      memberText: MEMBER_TEXTS.timeout,
      logMessage: `videos api ${call} timed out`,
      createOutcome,
      cause: error,
    });
  }
  const what = mask(error instanceof Error ? error.message : String(error));
  return new VideosApiError({
    call,
    kind: 'network',
    userMessage: notSent ? USER_MESSAGES.unreachable : USER_MESSAGES.connectionLost,
    memberText: notSent ? MEMBER_TEXTS.unreachable : MEMBER_TEXTS.connectionLost,
    logMessage: `videos api ${call} connection failed (${typeof code === 'string' ? code : 'no code'}): ${what}`,
    createOutcome,
    cause: error,
  });
}

/** A 2xx reply the client could not use. */
export function unreadableReply(call: VideosApiCall, problem: string, body = ''): VideosApiError {
  const sample = body ? `; reply: ${excerpt(body)}` : '';
  return new VideosApiError({
    call,
    kind: 'protocol',
    userMessage: USER_MESSAGES.unreadable,
    memberText: MEMBER_TEXTS.unreadable,
    logMessage: `videos api ${call} reply unreadable: ${problem}${sample}`,
    createOutcome: call === 'create' || call === 'remix' ? 'unknown' : undefined,
  });
}

/** `Retry-After` as delta-seconds or an HTTP date; the non-standard `retry-after-ms` wins when present. */
export function retryAfterMsOf(headers: Record<string, string | string[] | undefined>): number | undefined {
  const milliseconds = Number(first(headers['retry-after-ms']));
  if (first(headers['retry-after-ms']) !== undefined && Number.isFinite(milliseconds)) {
    return Math.max(0, Math.round(milliseconds));
  }
  const value = first(headers['retry-after'])?.trim();
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function describeStatus(
  call: VideosApiCall,
  status: number,
  said: string | undefined,
  body: string,
): HttpFailure {
  if (call === 'create') return describeCreateFailure(status, said, body);
  if (status === 404)
    return { kind: 'rejected', userMessage: USER_MESSAGES.notFound, memberText: MEMBER_TEXTS.notFound };
  return describeHttpFailure(status, said);
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
