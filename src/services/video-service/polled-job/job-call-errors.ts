import { memberText } from '../../i18n/member-text.ts';
import { surelyNeverSent } from '../never-sent.ts';
import { describeHttpFailure, excerpt, type HttpFailure } from '../service-error-text.ts';
import { VideoServiceError, type VideoServiceErrorKind } from '../video-provider.ts';
import { type CreateOutcome, MEMBER_TEXTS, USER_MESSAGES } from '../videos-api/videos-api-errors.ts';

/**
 * The faults of one call to a service whose jobs are created and then polled (fal's queue,
 * Replicate's predictions), in the words every shape shares. What a status means for a member
 * is decided here once; each shape only says which of its answers carry a reason.
 */

export type JobCall = 'create' | 'poll' | 'result' | 'cancel';

export class JobCallError extends VideoServiceError {
  readonly call: JobCall;
  /** Set on create failures only: whether sending it again could pay for a second video. */
  readonly createOutcome?: CreateOutcome;
  /** From `Retry-After` on the error reply, when it carried one. */
  readonly retryAfterMs?: number;

  constructor(options: {
    call: JobCall;
    kind: VideoServiceErrorKind;
    userMessage: string;
    memberText?: ConstructorParameters<typeof VideoServiceError>[0]['memberText'];
    logMessage: string;
    status?: number;
    createOutcome?: CreateOutcome;
    retryAfterMs?: number;
    cause?: unknown;
  }) {
    super({ ...options, beforeAnyEvent: options.createOutcome !== 'unknown' });
    this.name = 'JobCallError';
    this.call = options.call;
    this.createOutcome = options.createOutcome;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/**
 * "Model not found / does not exist / unavailable" in a refusal's words: the model is gone, and
 * the catalogue's `fallback` is for that. Only words naming the model (or version, app,
 * endpoint) count, so "image not found" stays an ordinary refusal.
 */
const MODEL_GONE =
  /\b(model|version|application|app|endpoint)\b[^.]{0,80}?\b(not found|does not exist|doesn't exist|is unavailable|not available|no longer|retired|deprecated|removed)/i;

export function saysModelUnavailable(said: string | undefined): boolean {
  return said !== undefined && MODEL_GONE.test(said);
}

const CONTENT_POLICY: HttpFailure = {
  kind: 'rejected',
  userMessage: "The video service's content filter blocked this video.",
  memberText: memberText('failure.service.contentFilter'),
};

/** The member text of a job that a service's content rules refused. */
export const CONTENT_POLICY_REASON = CONTENT_POLICY.memberText;

export interface StatusFailureOptions {
  /** The service's own words from the body, already redacted. */
  said?: string;
  /** The shape recognised a content-policy refusal in the body. */
  contentPolicy?: boolean;
  retryAfterMs?: number;
  /** A redacted excerpt of the body, for the log line. */
  body: string;
  service: string;
}

/** An HTTP error answer to one call. A create answered 5xx may have made a job: never re-sent. */
export function statusFailure(call: JobCall, status: number, options: StatusFailureOptions): JobCallError {
  const { kind, userMessage, memberText } = describeStatus(call, status, options);
  return new JobCallError({
    call,
    kind,
    userMessage,
    memberText,
    status,
    retryAfterMs: options.retryAfterMs,
    createOutcome: call === 'create' ? (status >= 500 ? 'unknown' : 'refused') : undefined,
    logMessage: `${options.service} ${call} answered HTTP ${status}: ${excerpt(options.body)}`,
  });
}

function describeStatus(call: JobCall, status: number, options: StatusFailureOptions): HttpFailure {
  const { said } = options;
  const gone =
    status === 404 || status === 410 || ((status === 400 || status === 422) && saysModelUnavailable(said));
  if (call === 'create' && gone) {
    const detail = said ? `: ${said}` : '.';
    return {
      kind: 'model_unavailable',
      userMessage: `The video service does not offer this model (any more)${detail}`,
      memberText: said
        ? memberText('failure.service.refusedSaid', { said })
        : memberText('failure.service.refused'),
    };
  }
  if (status === 404 && call !== 'create') {
    return { kind: 'rejected', userMessage: USER_MESSAGES.notFound, memberText: MEMBER_TEXTS.notFound };
  }
  if (options.contentPolicy && status < 500) return CONTENT_POLICY;
  // 402: Replicate's "insufficient credit", the same thing for a member as an empty balance.
  return describeHttpFailure(status === 402 ? 401 : status, said);
}

/** A request that produced no HTTP answer: never connected, lost on the way, or too slow. */
export function transportFailure(
  call: JobCall,
  service: string,
  error: unknown,
  timedOut: boolean,
  mask: (text: string) => string,
): JobCallError {
  const code = (error as { code?: unknown } | undefined)?.code;
  const notSent = surelyNeverSent(error);
  const createOutcome = call === 'create' ? (notSent && !timedOut ? 'not-sent' : 'unknown') : undefined;
  if (timedOut) {
    return new JobCallError({
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
  return new JobCallError({
    call,
    kind: 'network',
    userMessage: notSent ? USER_MESSAGES.unreachable : USER_MESSAGES.connectionLost,
    memberText: notSent ? MEMBER_TEXTS.unreachable : MEMBER_TEXTS.connectionLost,
    logMessage: `${service} ${call} connection failed (${typeof code === 'string' ? code : 'no code'}): ${what}`,
    createOutcome,
    cause: error,
  });
}

/** A 2xx answer that could not be used. */
export function unreadableAnswer(call: JobCall, service: string, problem: string, body = ''): JobCallError {
  const sample = body ? `; reply: ${excerpt(body)}` : '';
  return new JobCallError({
    call,
    kind: 'protocol',
    userMessage: USER_MESSAGES.unreadable,
    memberText: MEMBER_TEXTS.unreadable,
    logMessage: `${service} ${call} reply unreadable: ${problem}${sample}`,
    createOutcome: call === 'create' ? 'unknown' : undefined,
  });
}
