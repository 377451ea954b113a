import { type MemberText, memberText } from '../i18n/member-text.ts';
import { english } from '../i18n/translator.ts';
import { isRefusalStatus, surelyNeverSent } from './never-sent.ts';
import {
  describeCreateFailure,
  describeHttpFailure,
  excerpt,
  type HttpFailure,
} from './service-error-text.ts';
import { VideoServiceError, type VideoServiceErrorKind } from './video-provider.ts';

/**
 * The faults of one call to a job-based video service (the Videos API, Gemini, fal's queue,
 * Replicate), in the words every shape shares: one error class, one status table, one reading of
 * a transport failure. A shape only reads its own error bodies (what the service said, whether
 * it names a content-policy refusal) and may override the table for a status it words its own way.
 */

/** `get` is the Videos API's poll; `result` fal's result fetch; `content`/`download` a file's bytes. */
export type ServiceCall =
  | 'create'
  | 'remix'
  | 'poll'
  | 'get'
  | 'result'
  | 'content'
  | 'download'
  | 'cancel'
  | 'delete';

/**
 * What became of a create (or remix) that failed, so the caller knows whether sending it again
 * could pay for a second video:
 * - `not-sent`: the request certainly never reached the service (DNS, connection refused);
 * - `refused`: the service answered and refused it (4xx, 429): no job exists;
 * - `unknown`: it may have been accepted (timeout, reset after sending, 5xx, unreadable reply).
 */
export type CreateOutcome = 'not-sent' | 'refused' | 'unknown';

export class ServiceCallError extends VideoServiceError {
  readonly call: ServiceCall;
  /** Set on create and remix failures only. */
  readonly createOutcome?: CreateOutcome;
  /** From `Retry-After` (or `retry-after-ms`) on any error reply that carried one, e.g. 429 and 503. */
  readonly retryAfterMs?: number;

  constructor(options: {
    call: ServiceCall;
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
    this.name = 'ServiceCallError';
    this.call = options.call;
    this.createOutcome = options.createOutcome;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** What the member reads, as message keys: rendered in their language. */
export const MEMBER_TEXTS = {
  auth: memberText('failure.service.auth'),
  rateLimited: memberText('failure.service.rateLimited'),
  unreachable: memberText('failure.service.unreachable'),
  connectionLost: memberText('failure.service.connectionLost'),
  timeout: memberText('failure.service.timeout'),
  unreadable: memberText('failure.service.unreadable'),
  notFound: memberText('failure.service.notFound'),
} satisfies Record<string, MemberText>;

/**
 * The same in English, for logs, the CLI and the error's message only (a member always gets the
 * `memberText` beside it), taken from en-US.json: one copy of each text.
 */
export const USER_MESSAGES = Object.fromEntries(
  Object.entries(MEMBER_TEXTS).map(([name, text]) => [name, english.text(text)]),
) as Record<keyof typeof MEMBER_TEXTS, string>;

const CONTENT_FILTER = memberText('failure.service.contentFilter');
const CONTENT_POLICY: HttpFailure = {
  kind: 'rejected',
  userMessage: english.text(CONTENT_FILTER),
  memberText: CONTENT_FILTER,
};

/** The member text of a job that a service's content rules refused. */
export const CONTENT_POLICY_REASON = CONTENT_POLICY.memberText;

/** Calls that may make (and bill) a job: never sent again unless it certainly made none. */
function isBillable(call: ServiceCall): boolean {
  return call === 'create' || call === 'remix';
}

/** What the shape read in an error body. */
export interface StatusReading {
  /** The service's own words, already redacted. */
  said?: string;
  /** The body names a content-policy refusal. */
  contentPolicy?: boolean;
  /** The shape's own meaning of this status, when the shared table would read it wrong. */
  override?: HttpFailure;
}

export interface StatusFailureOptions extends StatusReading {
  /** For the log line: `videos api`, `gemini`, `fal`, `replicate`. */
  service: string;
  /** The body, already redacted: an excerpt goes to the log line. */
  body: string;
  retryAfterMs?: number;
}

/** An HTTP error answer to one call. A create answered other than 4xx may have made a job: never re-sent. */
export function statusFailure(
  call: ServiceCall,
  status: number,
  options: StatusFailureOptions,
): ServiceCallError {
  const { kind, userMessage, memberText } = describeCallStatus(call, status, options);
  return new ServiceCallError({
    call,
    kind,
    userMessage,
    memberText,
    status,
    retryAfterMs: options.retryAfterMs,
    createOutcome: isBillable(call) ? (isRefusalStatus(status) ? 'refused' : 'unknown') : undefined,
    logMessage: `${options.service} ${call} answered HTTP ${status}: ${excerpt(options.body)}`,
  });
}

/** The one status table of the job-based shapes. */
function describeCallStatus(call: ServiceCall, status: number, options: StatusFailureOptions): HttpFailure {
  if (options.override) return options.override;
  const { said } = options;
  if (call === 'create') {
    const created = describeCreateFailure(status, said, options.body);
    if (created.kind === 'model_unavailable') return created;
  }
  if (status === 404) {
    return { kind: 'rejected', userMessage: USER_MESSAGES.notFound, memberText: MEMBER_TEXTS.notFound };
  }
  if (options.contentPolicy && status < 500) return CONTENT_POLICY;
  // 402: "insufficient credit" (Replicate, OpenRouter), the same thing for a member as an empty balance.
  return describeHttpFailure(status === 402 ? 401 : status, said);
}

/** A request that produced no HTTP answer: never connected, lost on the way, or too slow. */
export function transportFailure(
  call: ServiceCall,
  service: string,
  error: unknown,
  timedOut: boolean,
  mask: (text: string) => string,
): ServiceCallError {
  const code = (error as { code?: unknown } | undefined)?.code;
  const notSent = surelyNeverSent(error);
  const createOutcome = isBillable(call) ? (notSent && !timedOut ? 'not-sent' : 'unknown') : undefined;
  if (timedOut) {
    return new ServiceCallError({
      call,
      kind: 'timeout',
      userMessage: USER_MESSAGES.timeout,
      memberText: MEMBER_TEXTS.timeout,
      logMessage: `${service} ${call} timed out`,
      createOutcome,
      cause: error,
    });
  }
  const what = mask(error instanceof Error ? error.message : String(error));
  return new ServiceCallError({
    call,
    kind: 'network',
    userMessage: notSent ? USER_MESSAGES.unreachable : USER_MESSAGES.connectionLost,
    memberText: notSent ? MEMBER_TEXTS.unreachable : MEMBER_TEXTS.connectionLost,
    logMessage: `${service} ${call} connection failed (${typeof code === 'string' ? code : 'no code'}): ${what}`,
    createOutcome,
    cause: error,
  });
}

/** A 2xx answer that could not be used; `body` is already redacted. */
export function unreadableAnswer(
  call: ServiceCall,
  service: string,
  problem: string,
  body = '',
): ServiceCallError {
  const sample = body ? `; reply: ${excerpt(body)}` : '';
  return new ServiceCallError({
    call,
    kind: 'protocol',
    userMessage: USER_MESSAGES.unreadable,
    memberText: MEMBER_TEXTS.unreadable,
    logMessage: `${service} ${call} reply unreadable: ${problem}${sample}`,
    createOutcome: isBillable(call) ? 'unknown' : undefined,
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

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
