import type { Resource } from 'i18next';
import de from './locales/de.json' with { type: 'json' };
import enGB from './locales/en-GB.json' with { type: 'json' };
import enUS from './locales/en-US.json' with { type: 'json' };
import es419 from './locales/es-419.json' with { type: 'json' };
import esES from './locales/es-ES.json' with { type: 'json' };
import fr from './locales/fr.json' with { type: 'json' };
import ja from './locales/ja.json' with { type: 'json' };
import ko from './locales/ko.json' with { type: 'json' };
import ptBR from './locales/pt-BR.json' with { type: 'json' };
import ru from './locales/ru.json' with { type: 'json' };
import zhCN from './locales/zh-CN.json' with { type: 'json' };
import zhTW from './locales/zh-TW.json' with { type: 'json' };
import { type BotLocale, LOCALES } from './locales.ts';

/**
 * Every locale file, as i18next resources. They are imported (not read at run time) so tsc copies
 * them into dist with the code; a new language is one JSON file, one line here and one in LOCALES.
 */
const MESSAGES: Record<BotLocale, unknown> = {
  'en-US': enUS,
  'en-GB': enGB,
  'zh-CN': zhCN,
  'zh-TW': zhTW,
  ja,
  ko,
  'es-ES': esES,
  'es-419': es419,
  'pt-BR': ptBR,
  fr,
  de,
  ru,
};

export const LOCALE_RESOURCES: Resource = Object.fromEntries(
  LOCALES.map((locale) => [locale, { translation: MESSAGES[locale] }]),
) as Resource;
