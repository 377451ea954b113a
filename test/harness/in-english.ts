import { isMemberText, type MemberText } from '../../src/services/i18n/member-text.ts';
import { translatorFor } from '../../src/services/i18n/translator.ts';

/**
 * A value with every text of the bot's own (a message key) rendered in en-US, so unit tests keep
 * their English expectations for reasons the bot writes and the renderer translates.
 */
export function inEnglish(value: string | MemberText): string;
export function inEnglish<T>(value: T): T;
export function inEnglish(value: unknown): unknown {
  if (isMemberText(value)) return translatorFor('en-US').text(value);
  if (Array.isArray(value)) return value.map((item) => inEnglish(item));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, inEnglish(item)]));
  }
  return value;
}
