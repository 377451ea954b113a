import type { RESTPostAPIApplicationCommandsJSONBody } from 'discord.js';
import { offeredModels, type RegistrationConfig } from '../config.ts';
import { makeVideoMenuDefinition } from './make-video-menu.ts';
import { quotaCommandDefinition } from './quota.ts';
import { serverSettingsCommandDefinition } from './server-settings.ts';
import { usageCommandDefinition } from './usage.ts';
import { videoCommandDefinition } from './video.ts';

/** Every application command the bot answers, as registered with Discord. */
export function commandDefinitions(config: RegistrationConfig): RESTPostAPIApplicationCommandsJSONBody[] {
  const models = offeredModels(config);
  return [
    videoCommandDefinition({
      models,
      maxPromptLength: config.MAX_PROMPT_LENGTH,
      allowDms: config.ALLOW_DMS,
    }),
    makeVideoMenuDefinition(),
    usageCommandDefinition(),
    quotaCommandDefinition(),
    serverSettingsCommandDefinition({ models }),
  ];
}
