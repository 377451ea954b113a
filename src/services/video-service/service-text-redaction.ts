import { type MemberText, redactParams } from '../i18n/member-text.ts';
/**
 * The one place where text from the video service loses anything that could be a credential,
 * before a member, a log line or the terminal sees it. A relay is a third party: it may echo the
 * request's `Authorization` header in an error, a status line or a video URL.
 */

export const REDACTED = '[redacted]';

/** Shorter secrets would mask ordinary words; the logger draws the same line. */
const MIN_SECRET_CHARS = 4;

/** `Authorization: <value>`, `"x-api-key": "<value>"`, `api_key=<value>`: the value goes (a masked one stays). */
const AUTHORIZATION_VALUE =
  /\b(authorization|x-api-key|api[-_]?key)(["']?[ \t]*[:=][ \t]*["']?)(?:(?:bearer|basic)[ \t]+)?[^\s"',;&()[\]{}]+/gi;
/** `Bearer <token>` wherever it stands (`Basic` only after `Authorization`: it is also a plain word). */
const SCHEME_TOKEN = /\b(bearer)[ \t]+[\w.~+/=-]{6,}/gi;
/** One cheap look before the patterns: nearly every line from a relay holds none of these words. */
const MIGHT_HOLD_CREDENTIAL = /sk[-_]|bearer|key|authorization/i;
/** OpenAI-style keys (`sk-…`, `sk-proj-…`, `sk_live_…`), whoever they belong to. */
const KEY_SHAPED = /\bsk[-_][\w-]{8,}/g;

export class ServiceTextRedaction {
  private readonly secrets: readonly string[];
  private readonly longestSecret: number;

  /** `secrets`: the service key, and anything else the service must never be seen repeating. */
  constructor(secrets: readonly string[]) {
    this.secrets = [...new Set(secrets.flatMap(spellingsOf))].sort((a, b) => b.length - a.length);
    this.longestSecret = this.secrets[0]?.length ?? 0;
  }

  /**
   * The exact secrets masked, in any text however long: plain string search, no pattern, so it can
   * run before the text is cut to size (a cut could otherwise split a secret and hide it).
   */
  withoutSecrets(text: string): string {
    let result = text;
    for (const secret of this.secrets) {
      if (result.includes(secret)) result = result.split(secret).join(REDACTED);
    }
    return result;
  }

  /**
   * `before + added`, where `before` was already masked: only the joint where a secret could now
   * be complete is searched, so a long line arriving a character at a time costs no rescans.
   */
  withoutSecretsAppended(before: string, added: string): string {
    const joint = Math.max(0, before.length - this.longestSecret + 1);
    return before.slice(0, joint) + this.withoutSecrets(before.slice(joint) + added);
  }

  /** The secrets and anything shaped like a credential masked; for text already cut to size. */
  text(text: string): string {
    return redactCredentials(this.withoutSecrets(text));
  }

  /** Secrets masked first, then the text cut to size by `cut`, then credential shapes masked. */
  /** A failure reason: the service's words redacted; the bot's own text with its parameters redacted. */
  reason(reason: string | MemberText): string | MemberText {
    return typeof reason === 'string' ? this.text(reason) : redactParams(reason, (value) => this.text(value));
  }

  cutToSize(text: string, cut: (text: string) => string): string {
    return redactCredentials(cut(this.withoutSecrets(text)));
  }
}

/** Credential-shaped values masked, whoever's they are. */
export function redactCredentials(text: string): string {
  if (!MIGHT_HOLD_CREDENTIAL.test(text)) return text;
  return text
    .replace(
      AUTHORIZATION_VALUE,
      (_match, name: string, separator: string) => `${name}${separator}${REDACTED}`,
    )
    .replace(SCHEME_TOKEN, (_match, scheme: string) => `${scheme} ${REDACTED}`)
    .replace(KEY_SHAPED, REDACTED);
}

/** A secret as it may come back: as is, URL-encoded, JSON-escaped. */
function spellingsOf(secret: string): string[] {
  if (secret.length < MIN_SECRET_CHARS) return [];
  return [secret, encodeURIComponent(secret), JSON.stringify(secret).slice(1, -1)];
}
