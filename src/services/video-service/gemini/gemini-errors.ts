import { memberText } from '../../i18n/member-text.ts';
import { surelyNeverSent } from '../never-sent.ts';
import { describeHttpFailure, excerpt, type HttpFailure, serviceMessageOf } from '../service-error-text.ts';
import { VideoServiceError, type VideoServiceErrorKind } from '../video-provider.ts';
import { type CreateOutcome, MEMBER_TEXTS, USER_MESSAGES } from '../videos-api/videos-api-errors.ts';

/**
 * What Gemini API answers mean for the bot. Google's errors are `{error: {code, message, status,
 * details}}` with the usual HTTP statuses; a rejected key is a 400 INVALID_ARGUMENT whose details
 * name `API_KEY_INVALID`, and a model that does not exist (or cannot predictLongRunning) a 404.
 */

export type GeminiCall = 'create' | 'poll' | 'download';

export class GeminiError extends VideoServiceError {
  readonly call: GeminiCall;
  /** Set on create failures only: whether sending it again could pay for a second video. */
  readonly createOutcome?: CreateOutcome;
  /** From `Retry-After` on an error reply that carried one. */
  readonly retryAfterMs?: number;

  constructor(options: {
    call: GeminiCall;
    kind: VideoServiceErrorKind;
    userMessage: string;
    memberText?: VideoServiceError['memberText'];
    logMessage: string;
    status?: number;
    createOutcome?: CreateOutcome;
    retryAfterMs?: number;
    cause?: unknown;
  }) {
    super({ ...options, beforeAnyEvent: options.createOutcome !== 'unknown' });
    this.name = 'GeminiError';
    this.call = options.call;
    this.createOutcome = options.createOutcome;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** Google's words for a key it does not accept, which it answers with 400 rather than 401. */
const KEY_REJECTED = /API_KEY_INVALID|API key (?:not valid|expired)|API_KEY_SERVICE_BLOCKED/i;

/** An HTTP error answer; `body` is already redacted. */
export function geminiHttpFailure(
  call: GeminiCall,
  status: number,
  body: string,
  retryAfterMs: number | undefined,
): GeminiError {
  const said = serviceMessageOf(body);
  const { kind, userMessage, memberText } = describeGeminiStatus(call, status, body, said);
  return new GeminiError({
    call,
    kind,
    userMessage,
    memberText,
    status,
    retryAfterMs,
    createOutcome: call === 'create' ? (status >= 500 ? 'unknown' : 'refused') : undefined,
    logMessage: `gemini ${call} answered HTTP ${status}: ${excerpt(body)}`,
  });
}

/** A request that produced no HTTP answer: never connected, lost on the way, or too slow. */
export function geminiTransportFailure(
  call: GeminiCall,
  error: unknown,
  timedOut: boolean,
  mask: (text: string) => string,
): GeminiError {
  const code = (error as { code?: unknown } | undefined)?.code;
  const notSent = surelyNeverSent(error) && !timedOut;
  const createOutcome = call === 'create' ? (notSent ? 'not-sent' : 'unknown') : undefined;
  if (timedOut) {
    return new GeminiError({
      call,
      kind: 'timeout',
      userMessage: USER_MESSAGES.timeout,
      memberText: MEMBER_TEXTS.timeout,
      logMessage: `gemini ${call} timed out`,
      createOutcome,
      cause: error,
    });
  }
  const what = mask(error instanceof Error ? error.message : String(error));
  return new GeminiError({
    call,
    kind: 'network',
    userMessage: notSent ? USER_MESSAGES.unreachable : USER_MESSAGES.connectionLost,
    memberText: notSent ? MEMBER_TEXTS.unreachable : MEMBER_TEXTS.connectionLost,
    logMessage: `gemini ${call} connection failed (${typeof code === 'string' ? code : 'no code'}): ${what}`,
    createOutcome,
    cause: error,
  });
}

/** A 2xx reply the client could not use; `body` is already redacted. */
export function geminiUnreadableReply(call: GeminiCall, problem: string, body = ''): GeminiError {
  const sample = body ? `; reply: ${excerpt(body)}` : '';
  return new GeminiError({
    call,
    kind: 'protocol',
    userMessage: USER_MESSAGES.unreadable,
    memberText: MEMBER_TEXTS.unreadable,
    logMessage: `gemini ${call} reply unreadable: ${problem}${sample}`,
    createOutcome: call === 'create' ? 'unknown' : undefined,
  });
}

function describeGeminiStatus(
  call: GeminiCall,
  status: number,
  body: string,
  said: string | undefined,
): HttpFailure {
  if (status === 400 && KEY_REJECTED.test(body)) return describeHttpFailure(401, said);
  if ((status === 404 || status === 410) && call === 'create') {
    return {
      kind: 'model_unavailable',
      userMessage: `The video service does not offer this model${said ? `: ${said}` : '.'}`,
      memberText: said
        ? memberText('failure.service.refusedSaid', { said })
        : memberText('failure.service.refused'),
    };
  }
  if (status === 404) {
    return { kind: 'rejected', userMessage: USER_MESSAGES.notFound, memberText: MEMBER_TEXTS.notFound };
  }
  return describeHttpFailure(status, said);
}
