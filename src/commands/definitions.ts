import {
  ApplicationIntegrationType,
  InteractionContextType,
  type RESTPostAPIApplicationCommandsJSONBody,
} from 'discord.js';
import type { RegistrationConfig } from '../config.ts';
import type { Catalogue } from '../services/catalogue/catalogue.ts';
import { catalogueFromSettings } from '../services/catalogue/settings-catalogue.ts';
import type { ApplicationCommand, ModalHandler } from './command.ts';
import {
  createMakeVideo,
  type MakeVideoOptions,
  makeVideoMenuDefinition,
} from './context-menu/make-video.ts';
import { createQuotaCommand, type QuotaCommandOptions, quotaCommandDefinition } from './slash/quota.ts';
import { createUsageCommand, type UsageCommandOptions, usageCommandDefinition } from './slash/usage.ts';
import { createVideoCommand, type VideoCommandOptions, videoCommandDefinition } from './slash/video.ts';
import {
  createVideoSettingsCommand,
  type VideoSettingsCommandOptions,
  videoSettingsCommandDefinition,
} from './slash/video-settings.ts';

/**
 * The one list of application commands: each with its registration (what `npm run register` sends)
 * and its handler (what the router runs), so no command is registered without a handler or
 * handled without being registered.
 *
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

/** What a definition is built from: the catalogue's choices and the settings registration reads. */
export interface DefinitionOptions {
  catalogue: Catalogue;
  maxPromptLength: number;
}

/** Everything the command handlers are built from; each factory takes the part it needs. */
export type CommandDeps = VideoCommandOptions &
  MakeVideoOptions &
  UsageCommandOptions &
  QuotaCommandOptions &
  VideoSettingsCommandOptions;

/** A command's handler, and the forms it opens (a form's submit is routed like a button). */
export interface CommandHandlers {
  command: ApplicationCommand;
  modals?: ModalHandler[];
}

interface CommandEntry {
  /** `everywhere`: follows a member's own install; `servers`: for servers that installed the bot. */
  installed: 'everywhere' | 'servers';
  define(options: DefinitionOptions): RESTPostAPIApplicationCommandsJSONBody;
  create(deps: CommandDeps): CommandHandlers;
}

export const COMMANDS: readonly CommandEntry[] = [
  {
    installed: 'everywhere',
    define: videoCommandDefinition,
    create: (deps) => ({ command: createVideoCommand(deps) }),
  },
  {
    installed: 'everywhere',
    define: makeVideoMenuDefinition,
    create: (deps) => {
      const { menu, form } = createMakeVideo(deps);
      return { command: menu, modals: [form] };
    },
  },
  {
    installed: 'everywhere',
    define: usageCommandDefinition,
    create: (deps) => ({ command: createUsageCommand(deps) }),
  },
  {
    installed: 'servers',
    define: quotaCommandDefinition,
    create: (deps) => ({ command: createQuotaCommand(deps) }),
  },
  {
    installed: 'servers',
    define: videoSettingsCommandDefinition,
    create: (deps) => ({ command: createVideoSettingsCommand(deps) }),
  },
];

/** Every command's handler and the forms they open, for the router. */
export function commandHandlers(deps: CommandDeps): {
  commands: ApplicationCommand[];
  modals: ModalHandler[];
} {
  const built = COMMANDS.map((entry) => entry.create(deps));
  return {
    commands: built.map((handlers) => handlers.command),
    modals: built.flatMap((handlers) => handlers.modals ?? []),
  };
}

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
  const options = { catalogue, maxPromptLength: config.MAX_PROMPT_LENGTH };
  const installed = (where: CommandEntry['installed'], scope: typeof EVERYWHERE) =>
    COMMANDS.filter((entry) => entry.installed === where).map((entry) => ({
      ...entry.define(options),
      ...scope,
    }));
  return { global: installed('everywhere', EVERYWHERE), server: installed('servers', SERVERS_ONLY) };
}

/** The whole list, as one global registration sends it. */
export function commandDefinitions(
  config: RegistrationConfig,
  catalogue: Catalogue = catalogueFromSettings(config),
): RESTPostAPIApplicationCommandsJSONBody[] {
  const plan = registrationPlan(config, catalogue);
  return [...plan.global, ...plan.server];
}
