import type { RESTPostAPIApplicationCommandsJSONBody } from 'discord.js';
import { offeredModels, type RegistrationConfig } from '../config.ts';
import { capabilitiesOf } from '../services/video-service/service-shapes.ts';
import { makeVideoMenuDefinition } from './context-menu/make-video.ts';
import { quotaCommandDefinition } from './slash/quota.ts';
import { usageCommandDefinition } from './slash/usage.ts';
import { videoCommandDefinition } from './slash/video.ts';
import { videoSettingsCommandDefinition } from './slash/video-settings.ts';

/** Every application command the bot answers, as registered with Discord. */
export function commandDefinitions(config: RegistrationConfig): RESTPostAPIApplicationCommandsJSONBody[] {
  const models = offeredModels(config);
  const capabilities = capabilitiesOf(config.SORA_API_FORMAT, config.SORA_MODEL);
  return [
    videoCommandDefinition({
      models,
      capabilities,
      maxPromptLength: config.MAX_PROMPT_LENGTH,
      allowDms: config.ALLOW_DMS,
    }),
    makeVideoMenuDefinition(),
    usageCommandDefinition(),
    quotaCommandDefinition(),
    videoSettingsCommandDefinition({ models, durations: capabilities.durations }),
  ];
}
