/**
 * A member-facing text not yet in any language: a key of `locales/en-US.json` and its
 * parameters. Discord-free code (jobs, video services, quotas) says what to tell the member with
 * one of these; whoever writes to Discord translates it in the member's language.
 */
export interface MemberText {
  key: string;
  params?: Record<string, MemberTextParam>;
}

/** A parameter may itself be a text to translate first (a period, a count of videos). */
export type MemberTextParam = string | number | MemberText;

export function memberText(key: string, params?: Record<string, MemberTextParam>): MemberText {
  return params ? { key, params } : { key };
}

export function isMemberText(value: unknown): value is MemberText {
  return typeof value === 'object' && value !== null && typeof (value as MemberText).key === 'string';
}

/** The same text with every string parameter passed through `clean` (a service's words, redacted). */
export function redactParams(text: MemberText, clean: (value: string) => string): MemberText {
  if (!text.params) return text;
  const params = Object.fromEntries(
    Object.entries(text.params).map(([name, value]) => [
      name,
      typeof value === 'string' ? clean(value) : isMemberText(value) ? redactParams(value, clean) : value,
    ]),
  );
  return { key: text.key, params };
}
