import { type MemberText, memberText } from '../i18n/member-text.ts';
import { cleanServiceMessage, collapseWhitespace } from './relay/relay-service-text.ts';
import type { VideoServiceErrorKind } from './video-provider.ts';

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

export interface HttpFailure {
  kind: VideoServiceErrorKind;
  /** English, for logs and the CLI. */
  userMessage: string;
  /** What the member reads, in their language. */
  memberText: MemberText;
}

const AUTH: HttpFailure = {
  kind: 'auth',
  userMessage:
    "The video service rejected the bot's credentials, or the bot's balance there is empty. Please tell the bot's owner.",
  memberText: memberText('failure.service.auth'),
};
const BUSY: HttpFailure = {
  kind: 'rate_limited',
  userMessage: 'The video service is busy right now. Please try again in a minute.',
  memberText: memberText('failure.service.rateLimited'),
};

const MODEL_UNAVAILABLE: HttpFailure = {
  kind: 'model_unavailable',
  userMessage:
    "The video service does not offer this model (any more). Please pick another model, or tell the bot's owner.",
  memberText: memberText('failure.service.modelUnavailable'),
};

/** How services word a model they do not (or no longer) have, in English and Chinese. */
const MODEL_GONE_WORDS =
  /\bmodel\b[^.\n]{0,60}?\b(?:not found|does not exist|doesn't exist|not exist|unavailable|not available|no longer|retired|deprecated|not supported)|\b(?:unknown|invalid|unsupported|no such) model\b|model_not_found|模型.{0,20}(?:不存在|无可用|不可用|已下线)/i;

/**
 * The same in the words of services whose models are apps, versions or endpoints (fal, Replicate).
 * Only words naming the model (or version, app, endpoint) count, so "image not found" stays an
 * ordinary refusal.
 */
const NAMED_PART_GONE_WORDS =
  /\b(model|version|application|app|endpoint)\b[^.]{0,80}?\b(not found|does not exist|doesn't exist|is unavailable|not available|no longer|retired|deprecated|removed)/i;

/** Whether a refusal's words say the model is gone: then the catalogue's `fallback` is for it. */
export function saysModelUnavailable(said: string | undefined): boolean {
  return said !== undefined && (MODEL_GONE_WORDS.test(said) || NAMED_PART_GONE_WORDS.test(said));
}

/**
 * A create refused because the model is gone: 404 or 410, or a 400/422 whose words say so. The
 * job may then move to a fallback model: nothing was created.
 */
export function describeCreateFailure(status: number, said: string | undefined, body = ''): HttpFailure {
  const gone =
    status === 404 ||
    status === 410 ||
    ((status === 400 || status === 422) && saysModelUnavailable(said ?? body));
  return gone ? MODEL_UNAVAILABLE : describeHttpFailure(status, said);
}

/** What an HTTP error status of a video service means for the member, with its own words if it gave some. */
export function describeHttpFailure(status: number, said: string | undefined): HttpFailure {
  if (status === 401 || status === 403) return AUTH;
  if (status === 429) return BUSY;
  if (status >= 500) {
    const detail = said ? ` (it said: ${said})` : '';
    return {
      kind: 'unavailable',
      userMessage: `The video service is having trouble right now${detail}. Please try again later.`,
      memberText: said
        ? memberText('failure.service.troubleSaid', { said })
        : memberText('failure.service.trouble'),
    };
  }
  const detail = said ? `: ${said}` : '.';
  return {
    kind: 'rejected',
    userMessage: `The video service refused this request${detail}`,
    memberText: said
      ? memberText('failure.service.refusedSaid', { said })
      : memberText('failure.service.refused'),
  };
}
