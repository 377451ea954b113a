import type { LocalizationMap } from 'discord.js';
import { LOCALES } from '../services/i18n/locales.ts';
import type { MemberTextParam } from '../services/i18n/member-text.ts';
import { english, translatorFor } from '../services/i18n/translator.ts';

/**
 * Command names, descriptions and choices in every language the bot speaks, for `npm run
 * register`: Discord shows each member the one of their locale. The name a handler routes on is
 * always the English one (Discord sends it whatever the member sees).
 */

/** A text of the locale files in every locale. */
export function localizations(key: string, params?: Record<string, MemberTextParam>): LocalizationMap {
  return Object.fromEntries(LOCALES.map((locale) => [locale, translatorFor(locale)(key, params)]));
}

interface Describable {
  setName(name: string): unknown;
  setDescription(description: string): unknown;
  setNameLocalizations(localizations: LocalizationMap | null): unknown;
  setDescriptionLocalizations(localizations: LocalizationMap | null): unknown;
}

/**
 * Names and describes a command, subcommand or option from `<key>.name` and `<key>.description`
 * (or the description key given), in English and every other language.
 */
export function describe<T extends Describable>(
  builder: T,
  key: string,
  descriptionKey = `${key}.description`,
  params?: Record<string, MemberTextParam>,
): T {
  builder.setName(english(`${key}.name`));
  builder.setNameLocalizations(localizations(`${key}.name`));
  builder.setDescription(english(descriptionKey, params));
  builder.setDescriptionLocalizations(localizations(descriptionKey, params));
  return builder;
}

/** A choice of an option, its name in every language. */
export function choice<V extends string | number>(
  key: string,
  value: V,
  params?: Record<string, MemberTextParam>,
): { name: string; value: V; name_localizations: LocalizationMap } {
  return { name: english(key, params), value, name_localizations: localizations(key, params) };
}
