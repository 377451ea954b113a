import { redact } from '../../logging/logger.ts';
import { type ServiceCall, type ServiceCallError, statusFailure } from '../service-call-errors.ts';
import { serviceMessageOf } from '../service-error-text.ts';

export type VideosApiCall = Extract<ServiceCall, 'create' | 'get' | 'remix' | 'content' | 'delete'>;

/** For log lines: `videos api create answered HTTP 429: …`. */
export const VIDEOS_API = 'videos api';

/** A token ends at a quote, a backslash (a JSON escape: masking it would break the document) or a separator. */
const BEARER_TOKEN = /\bBearer\s+[^\s"'\\,;]+/gi;

/** Masks the key wherever it hides, and any `Bearer <token>` a relay echoes back. */
export function redactKey(text: string, apiKey: string): string {
  const masked = apiKey ? redact(text, [apiKey]) : text;
  return masked.replace(BEARER_TOKEN, 'Bearer [redacted]');
}

/** An HTTP error answer, read through the shared status table; `body` is already redacted. */
export function httpFailure(
  call: VideosApiCall,
  status: number,
  body: string,
  retryAfterMs: number | undefined,
): ServiceCallError {
  return statusFailure(call, status, {
    said: serviceMessageOf(body),
    body,
    retryAfterMs,
    service: VIDEOS_API,
  });
}
