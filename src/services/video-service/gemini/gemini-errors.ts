import { type ServiceCall, type ServiceCallError, statusFailure } from '../service-call-errors.ts';
import { describeHttpFailure, serviceMessageOf } from '../service-error-text.ts';

/**
 * What Gemini API error answers mean for the bot, read into the shared status table. Google's
 * errors are `{error: {code, message, status, details}}` with the usual HTTP statuses; only a
 * rejected key is its own: a 400 INVALID_ARGUMENT whose details name `API_KEY_INVALID`.
 */

export type GeminiCall = Extract<ServiceCall, 'create' | 'poll' | 'download'>;

export const GEMINI = 'gemini';

/** Google's words for a key it does not accept, which it answers with 400 rather than 401. */
const KEY_REJECTED = /API_KEY_INVALID|API key (?:not valid|expired)|API_KEY_SERVICE_BLOCKED/i;

/** An HTTP error answer; `body` is already redacted. */
export function geminiHttpFailure(
  call: GeminiCall,
  status: number,
  body: string,
  retryAfterMs: number | undefined,
): ServiceCallError {
  const said = serviceMessageOf(body);
  const keyRejected = status === 400 && KEY_REJECTED.test(body);
  return statusFailure(call, status, {
    said,
    body,
    retryAfterMs,
    service: GEMINI,
    override: keyRejected ? describeHttpFailure(401, said) : undefined,
  });
}
