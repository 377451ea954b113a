import type { RESTPostAPIApplicationCommandsJSONBody } from 'discord.js';
import type { RegistrationConfig } from '../config.ts';
import type { Catalogue } from '../services/catalogue/catalogue.ts';
import { catalogueFromSettings } from '../services/catalogue/settings-catalogue.ts';
import { makeVideoMenuDefinition } from './context-menu/make-video.ts';
import { quotaCommandDefinition } from './slash/quota.ts';
import { usageCommandDefinition } from './slash/usage.ts';
import { videoCommandDefinition } from './slash/video.ts';
import { videoSettingsCommandDefinition } from './slash/video-settings.ts';

/** Every application command the bot answers, as registered with Discord: choices from the catalogue. */
export function commandDefinitions(
  config: RegistrationConfig,
  catalogue: Catalogue = catalogueFromSettings(config),
): RESTPostAPIApplicationCommandsJSONBody[] {
  return [
    videoCommandDefinition({
      catalogue,
      maxPromptLength: config.MAX_PROMPT_LENGTH,
      allowDms: config.ALLOW_DMS,
    }),
    makeVideoMenuDefinition(),
    usageCommandDefinition(),
    quotaCommandDefinition(),
    videoSettingsCommandDefinition({ catalogue }),
  ];
}
