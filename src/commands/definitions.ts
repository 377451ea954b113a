import {
  ApplicationIntegrationType,
  InteractionContextType,
  type RESTPostAPIApplicationCommandsJSONBody,
} from 'discord.js';
import type { RegistrationConfig } from '../config.ts';
import type { Catalogue } from '../services/catalogue/catalogue.ts';
import { catalogueFromSettings } from '../services/catalogue/settings-catalogue.ts';
import { makeVideoMenuDefinition } from './context-menu/make-video.ts';
import { quotaCommandDefinition } from './slash/quota.ts';
import { usageCommandDefinition } from './slash/usage.ts';
import { videoCommandDefinition } from './slash/video.ts';
import { videoSettingsCommandDefinition } from './slash/video-settings.ts';

/**
 * Where each command may be installed and used — the one place this is decided. The job commands
 * follow a member's own install (`integration_types` 1) into any server, group DM or DM; the admin
 * commands belong to servers that installed the bot.
 */
const EVERYWHERE = {
  integration_types: [ApplicationIntegrationType.GuildInstall, ApplicationIntegrationType.UserInstall],
  contexts: [
    InteractionContextType.Guild,
    InteractionContextType.BotDM,
    InteractionContextType.PrivateChannel,
  ],
};
const SERVERS_ONLY = {
  integration_types: [ApplicationIntegrationType.GuildInstall],
  contexts: [InteractionContextType.Guild],
};

/** Discord applies `integration_types` and `contexts` to global commands only. */
export interface RegistrationPlan {
  /** Registered globally always: the ones a user install brings along. */
  global: RESTPostAPIApplicationCommandsJSONBody[];
  /** In DISCORD_GUILD_ID when set (instant while testing), otherwise with the global ones. */
  server: RESTPostAPIApplicationCommandsJSONBody[];
}

/** Every application command the bot answers, as registered with Discord: choices from the catalogue. */
export function registrationPlan(
  config: RegistrationConfig,
  catalogue: Catalogue = catalogueFromSettings(config),
): RegistrationPlan {
  return {
    global: [
      videoCommandDefinition({ catalogue, maxPromptLength: config.MAX_PROMPT_LENGTH }),
      makeVideoMenuDefinition(),
      usageCommandDefinition(),
    ].map((definition) => ({ ...definition, ...EVERYWHERE })),
    server: [quotaCommandDefinition(), videoSettingsCommandDefinition({ catalogue })].map((definition) => ({
      ...definition,
      ...SERVERS_ONLY,
    })),
  };
}

/** The whole list, as one global registration sends it. */
export function commandDefinitions(
  config: RegistrationConfig,
  catalogue: Catalogue = catalogueFromSettings(config),
): RESTPostAPIApplicationCommandsJSONBody[] {
  const plan = registrationPlan(config, catalogue);
  return [...plan.global, ...plan.server];
}
