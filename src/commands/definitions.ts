import type { RESTPostAPIApplicationCommandsJSONBody } from 'discord.js';
import { offeredModels, type RegistrationConfig } from '../config.ts';
import { makeVideoMenuDefinition } from './make-video-menu.ts';
import { videoCommandDefinition } from './video.ts';

/** Every application command the bot answers, as registered with Discord. */
export function commandDefinitions(config: RegistrationConfig): RESTPostAPIApplicationCommandsJSONBody[] {
  return [
    videoCommandDefinition({
      models: offeredModels(config),
      maxPromptLength: config.MAX_PROMPT_LENGTH,
      allowDms: config.ALLOW_DMS,
    }),
    makeVideoMenuDefinition(),
  ];
}
