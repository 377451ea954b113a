import { cleanServiceMessage, collapseWhitespace } from './relay/relay-service-text.ts';

/** What of a service's error text reaches a log line: whitespace collapsed, at most this long. */
const EXCERPT_CHARS = 200;
const HTML_START = /<[a-z!]/i;

/**
 * A service's own words from an error body, whatever the shape: `{error:{message}}`,
 * `{error:"…"}`, `{detail}` (FastAPI, also `[{msg}]`), `{message}` or plain text; none from an
 * HTML error page.
 */
export function serviceMessageOf(body: string): string | undefined {
  let said: unknown = body;
  try {
    const parsed = JSON.parse(body) as Record<string, unknown> | null;
    const error = parsed?.error as Record<string, unknown> | string | undefined;
    said =
      typeof error === 'object' && error !== null
        ? error.message
        : (error ?? parsed?.detail ?? parsed?.message);
    if (Array.isArray(said)) said = (said[0] as { msg?: unknown } | undefined)?.msg;
  } catch {
    if (HTML_START.test(body)) return undefined;
  }
  return typeof said === 'string' ? cleanServiceMessage(said) || undefined : undefined;
}

/** A bounded, one-line excerpt for a log line. */
export function excerpt(text: string): string {
  const flat = collapseWhitespace(text, EXCERPT_CHARS);
  return flat.length > EXCERPT_CHARS ? `${flat.slice(0, EXCERPT_CHARS)}…` : flat;
}
