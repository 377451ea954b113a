/**
 * The languages the bot speaks, as Discord's locale codes. Adding one: a JSON file under
 * `locales/` with every key of `en-US.json` (a variant of a language, like en-GB, holds only the texts
 * that differ and falls back for the rest), its code here, its native name below, and its import
 * in locale-resources.ts.
 */
export const LOCALES = [
  'en-US',
  'en-GB',
  'zh-CN',
  'zh-TW',
  'ja',
  'ko',
  'es-ES',
  'es-419',
  'pt-BR',
  'fr',
  'de',
  'ru',
] as const;

export type BotLocale = (typeof LOCALES)[number];

export const DEFAULT_LOCALE: BotLocale = 'en-US';

/** Each language by its own name, as a member looking for theirs expects to find it. */
export const LANGUAGE_NAMES: Record<BotLocale, string> = {
  'en-US': 'English (US)',
  'en-GB': 'English (UK)',
  'zh-CN': '中文（简体）',
  'zh-TW': '中文（繁體）',
  ja: '日本語',
  ko: '한국어',
  'es-ES': 'Español (España)',
  'es-419': 'Español (Latinoamérica)',
  'pt-BR': 'Português (Brasil)',
  fr: 'Français',
  de: 'Deutsch',
  ru: 'Русский',
};

export function isBotLocale(locale: unknown): locale is BotLocale {
  return typeof locale === 'string' && (LOCALES as readonly string[]).includes(locale);
}

/** Discord locales we have no file for that are close enough to one we have. */
const NEAREST: Record<string, BotLocale> = { 'sv-SE': 'en-GB', da: 'en-GB', nl: 'en-GB', no: 'en-GB' };

/** The language to answer in for a Discord locale: the same one, else English. */
export function botLocaleOf(locale: string | null | undefined): BotLocale {
  if (!locale) return DEFAULT_LOCALE;
  if (isBotLocale(locale)) return locale;
  return NEAREST[locale] ?? DEFAULT_LOCALE;
}
