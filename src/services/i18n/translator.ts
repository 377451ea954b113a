import i18next, { type TFunction } from 'i18next';
import { LOCALE_RESOURCES } from './locale-resources.ts';
import { type BotLocale, botLocaleOf, DEFAULT_LOCALE, LOCALES } from './locales.ts';
import { isMemberText, type MemberText, type MemberTextParam } from './member-text.ts';

/** Translates a key of `locales/en-US.json`, or a `MemberText`, into one language. */
export interface Translator {
  readonly locale: BotLocale;
  (key: string, params?: Record<string, MemberTextParam>): string;
  text(text: MemberText): string;
  /** A number as this language writes it. */
  number(value: number, options?: Intl.NumberFormatOptions): string;
  /** A list as this language joins it ("a, b and c"). */
  list(items: readonly string[]): string;
}

/**
 * One i18next instance over the locale files, read once at start; it never changes language:
 * each translator is fixed to its locale, so concurrent replies in different languages never mix.
 */
const i18n = i18next.createInstance();
void i18n.init({
  resources: LOCALE_RESOURCES,
  supportedLngs: [...LOCALES],
  fallbackLng: DEFAULT_LOCALE,
  load: 'currentOnly',
  initAsync: false,
  returnNull: false,
  // Our texts are Discord markdown, not HTML; values shown from members are escaped by the caller.
  interpolation: { escapeValue: false },
  showSupportNotice: false,
} as Parameters<typeof i18n.init>[0]);

const cache = new Map<BotLocale, Translator>();

/** The translator for a Discord locale (any string Discord sends), falling back to English. */
export function translatorFor(locale: string | null | undefined): Translator {
  const botLocale = botLocaleOf(locale);
  const cached = cache.get(botLocale);
  if (cached) return cached;
  const fixed: TFunction = i18n.getFixedT(botLocale);
  const numbers = new Intl.NumberFormat(botLocale);
  const lists = new Intl.ListFormat(botLocale, { style: 'long', type: 'conjunction' });
  const translate = (key: string, params?: Record<string, MemberTextParam>): string =>
    fixed(key, resolveParams(translate, params) as Record<string, unknown>) as string;
  const translator = Object.assign(translate, {
    locale: botLocale,
    text: (text: MemberText) => translate(text.key, text.params),
    number: (value: number, options?: Intl.NumberFormatOptions) =>
      options ? new Intl.NumberFormat(botLocale, options).format(value) : numbers.format(value),
    list: (items: readonly string[]) => lists.format(items),
  });
  cache.set(botLocale, translator);
  return translator;
}

/** English, for logs, the CLI and callers that have no member to speak to. */
export const english: Translator = translatorFor(DEFAULT_LOCALE);

function resolveParams(
  translate: (key: string, params?: Record<string, MemberTextParam>) => string,
  params: Record<string, MemberTextParam> | undefined,
): Record<string, string | number> | undefined {
  if (!params) return undefined;
  return Object.fromEntries(
    Object.entries(params).map(([name, value]) => [
      name,
      isMemberText(value) ? translate(value.key, value.params) : value,
    ]),
  );
}
