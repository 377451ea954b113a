import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { commandDefinitions } from '../../../src/commands/definitions.ts';
import { loadRegistrationConfig } from '../../../src/config.ts';
import { LOCALES } from '../../../src/services/i18n/locales.ts';
import { translatorFor } from '../../../src/services/i18n/translator.ts';

const localeFile = (locale: string) =>
  new URL(`../../../src/services/i18n/locales/${locale}.json`, import.meta.url);

type Messages = { [key: string]: string | Messages };

function flatten(messages: Messages, prefix = ''): Map<string, string> {
  const flat = new Map<string, string>();
  for (const [key, value] of Object.entries(messages)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (typeof value === 'string') flat.set(path, value);
    else for (const [inner, text] of flatten(value, path)) flat.set(inner, text);
  }
  return flat;
}

/** Plural forms differ by language (ja has only `_other`, ru has `_few` and `_many`): one key for all. */
const PLURAL = /_(zero|one|two|few|many|other)$/;
const baseKey = (key: string) => key.replace(PLURAL, '');

/** The names in `{{name}}` and `{{name, format}}`, sorted. */
function placeholders(text: string): string[] {
  return [...text.matchAll(/\{\{\s*([^},\s]+)[^}]*\}\}/g)].map((match) => match[1] as string).sort();
}

/**
 * Locales that hold only the texts that differ from another, and fall back to it for the rest
 * (i18next's fallbackLng is en-US): en-GB spells a few words differently and says the rest alike.
 */
const FALLS_BACK_TO: Record<string, string> = { 'en-GB': 'en-US' };

const english = flatten(JSON.parse(readFileSync(localeFile('en-US'), 'utf8')) as Messages);

describe('locale files', () => {
  it('lists the twelve locales the bot speaks', () => {
    expect([...LOCALES].sort()).toEqual(
      ['de', 'en-GB', 'en-US', 'es-419', 'es-ES', 'fr', 'ja', 'ko', 'pt-BR', 'ru', 'zh-CN', 'zh-TW'].sort(),
    );
  });

  it.each([...LOCALES].filter((locale) => !(locale in FALLS_BACK_TO)))(
    '%s has every key of en-US, with the same placeholders',
    (locale) => {
      expect(existsSync(localeFile(locale)), `src/services/i18n/locales/${locale}.json is missing`).toBe(
        true,
      );
      const messages = flatten(JSON.parse(readFileSync(localeFile(locale), 'utf8')) as Messages);
      const byBase = new Map<string, string[]>();
      for (const [key, text] of messages)
        byBase.set(baseKey(key), [...(byBase.get(baseKey(key)) ?? []), text]);
      const problems: string[] = [];
      for (const [key, text] of english) {
        const translations = PLURAL.test(key)
          ? byBase.get(baseKey(key))
          : messages.has(key)
            ? [messages.get(key) as string]
            : undefined;
        if (!translations) {
          problems.push(`missing ${key}`);
          continue;
        }
        if (PLURAL.test(key) && !messages.has(`${baseKey(key)}_other`))
          problems.push(`missing ${baseKey(key)}_other`);
        for (const translation of translations) {
          if (translation.trim() === '') problems.push(`empty ${key}`);
          const expected = placeholders(text).filter((name) => name !== 'count' || !PLURAL.test(key));
          const found = placeholders(translation).filter((name) => name !== 'count' || !PLURAL.test(key));
          if (JSON.stringify([...new Set(found)]) !== JSON.stringify([...new Set(expected)]))
            problems.push(
              `${key}: placeholders ${found.join(',') || 'none'} instead of ${expected.join(',') || 'none'}`,
            );
        }
      }
      expect(problems).toEqual([]);
    },
  );

  it.each(Object.entries(FALLS_BACK_TO))(
    '%s holds only the texts that differ from %s, with the same placeholders',
    (locale, base) => {
      const messages = flatten(JSON.parse(readFileSync(localeFile(locale), 'utf8')) as Messages);
      const problems: string[] = [];
      for (const [key, text] of messages) {
        const original = english.get(key);
        if (original === undefined) problems.push(`${key}: not a key of ${base}`);
        else if (text === original) problems.push(`${key}: repeats ${base} (it falls back by itself)`);
        else if (JSON.stringify(placeholders(text)) !== JSON.stringify(placeholders(original)))
          problems.push(`${key}: placeholders differ from ${base}`);
      }
      expect(problems).toEqual([]);
    },
  );

  it('falls back to en-US for what en-GB leaves out, and uses what it has', () => {
    const british = translatorFor('en-GB');
    const american = translatorFor('en-US');
    expect(british('job.status.pressRetry')).toContain('towards your limit');
    expect(american('job.status.pressRetry')).not.toContain('towards');
    const shared = [...english.keys()].find(
      (key) => !PLURAL.test(key) && !placeholders(english.get(key) ?? '').length,
    );
    expect(shared && british(shared)).toBe(shared && american(shared));
  });
});

/** Discord's rule for slash command, subcommand and option names. */
const SLASH_NAME = /^[-_\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$/u;

interface Named {
  name: string;
  type?: number;
  name_localizations?: Record<string, string> | null;
  options?: Named[];
}

function* namesOf(
  item: Named,
  contextMenu: boolean,
): Generator<{ where: string; name: string; contextMenu: boolean }> {
  yield { where: item.name, name: item.name, contextMenu };
  for (const [locale, name] of Object.entries(item.name_localizations ?? {}))
    yield { where: `${item.name} (${locale})`, name, contextMenu };
  for (const option of item.options ?? []) yield* namesOf(option, false);
}

describe('localized command names', () => {
  it('are all valid for Discord', () => {
    const config = loadRegistrationConfig({ DISCORD_TOKEN: 'x', SORA_MODELS: 'sora-2,sora-2-pro' });
    const problems: string[] = [];
    for (const definition of commandDefinitions(config) as Named[]) {
      const contextMenu = definition.type !== undefined && definition.type !== 1;
      for (const { where, name, contextMenu: menu } of namesOf(definition, contextMenu)) {
        const valid = menu
          ? name.length >= 1 && name.length <= 32
          : SLASH_NAME.test(name) && name === name.toLocaleLowerCase();
        if (!valid) problems.push(`${where}: "${name}"`);
      }
    }
    expect(problems).toEqual([]);
  });
});
