import type { RESTPostAPIApplicationCommandsJSONBody } from 'discord.js';
import type { RegistrationConfig } from '../config.ts';
import type { Catalogue } from '../services/catalogue/catalogue.ts';
import { capabilitiesOfModel } from '../services/catalogue/model-capabilities.ts';
import { catalogueFromSettings } from '../services/catalogue/settings-catalogue.ts';
import { makeVideoMenuDefinition } from './context-menu/make-video.ts';
import { quotaCommandDefinition } from './slash/quota.ts';
import { usageCommandDefinition } from './slash/usage.ts';
import { videoCommandDefinition } from './slash/video.ts';
import { videoSettingsCommandDefinition } from './slash/video-settings.ts';

/** Every application command the bot answers, as registered with Discord. */
export function commandDefinitions(
  config: RegistrationConfig,
  catalogue: Catalogue = catalogueFromSettings(config),
): RESTPostAPIApplicationCommandsJSONBody[] {
  const byDefault = catalogue.models.find((model) => model.id === catalogue.defaultModel);
  const models = [
    ...(byDefault ? [byDefault] : []),
    ...catalogue.models.filter((model) => model !== byDefault),
  ];
  const provider = byDefault && catalogue.providers.get(byDefault.provider);
  if (!byDefault || !provider) throw new Error('the catalogue has no default model');
  const capabilities = capabilitiesOfModel(byDefault, provider);
  return [
    videoCommandDefinition({
      models: models.map((model) => model.id),
      capabilities,
      maxPromptLength: config.MAX_PROMPT_LENGTH,
      allowDms: config.ALLOW_DMS,
    }),
    makeVideoMenuDefinition(),
    usageCommandDefinition(),
    quotaCommandDefinition(),
    videoSettingsCommandDefinition({
      models: models.map((model) => model.id),
      durations: capabilities.durations,
    }),
  ];
}
