import { readFileSync } from 'node:fs';
import type { Resource } from 'i18next';
import enGB from './locales/en-GB.json' with { type: 'json' };
import enUS from './locales/en-US.json' with { type: 'json' };
import es419 from './locales/es-419.json' with { type: 'json' };
import esES from './locales/es-ES.json' with { type: 'json' };
import { LOCALES } from './locales.ts';

/**
 * Every locale file, as i18next resources. Imported files are copied into dist by tsc; the
 * others are read next to this module when present (until each language's file is imported).
 */
const imported: Record<string, unknown> = { 'en-US': enUS, 'en-GB': enGB, 'es-ES': esES, 'es-419': es419 };

function read(locale: string): unknown {
  try {
    return JSON.parse(readFileSync(new URL(`./locales/${locale}.json`, import.meta.url), 'utf8'));
  } catch {
    return undefined;
  }
}

export const LOCALE_RESOURCES: Resource = Object.fromEntries(
  LOCALES.flatMap((locale) => {
    const messages = imported[locale] ?? read(locale);
    return messages ? [[locale, { translation: messages }]] : [];
  }),
) as Resource;
