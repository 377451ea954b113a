import {
  ChannelType,
  type ChatInputCommandInteraction,
  channelMention,
  InteractionContextType,
  PermissionFlagsBits,
  SlashCommandBuilder,
  type SlashCommandChannelOption,
} from 'discord.js';
import type { Catalogue } from '../../services/catalogue/catalogue.ts';
import {
  defaultModelOf,
  MAX_CHOICES,
  modelChoices,
  offeredDurations,
} from '../../services/catalogue/catalogue-offer.ts';
import { botLocaleOf, isBotLocale, LANGUAGE_NAMES, LOCALES } from '../../services/i18n/locales.ts';
import { type Translator, translatorFor } from '../../services/i18n/translator.ts';
import type { ServerVideoSettings, VideoSettings } from '../../services/settings/video-settings.ts';
import type { SlashCommand } from '../command.ts';
import { choice, describe } from '../localized.ts';
import { managesServer } from '../preconditions.ts';
import { replyPrivately } from '../replies.ts';
import {
  type SafetyCommandOptions,
  safetyHandlers,
  safetyLines,
  withSafetySubcommands,
} from './video-settings-safety.ts';

export interface VideoSettingsDefinitionOptions {
  /** The models a server may default to, and the lengths they offer. */
  catalogue: Catalogue;
}

export interface VideoSettingsCommandOptions extends VideoSettingsDefinitionOptions {
  settings: VideoSettings;
  /** The server's safety policy (age-restricted only, refused words, log, blocks, spoiler). */
  safety: SafetyCommandOptions;
}

type GuildCommand = ChatInputCommandInteraction<'cached' | 'raw'>;

/** Channels a member can pick: the ones where the bot can be asked for a video. */
const VIDEO_CHANNEL_TYPES = [
  ChannelType.GuildText,
  ChannelType.GuildAnnouncement,
  ChannelType.GuildVoice,
  ChannelType.GuildForum,
] as const;

/**
 * `/video-settings`: where the bot answers and the defaults of a request on this server. Admin
 * only, checked here as well as by Discord's default permission.
 */
export function createVideoSettingsCommand({
  settings,
  catalogue,
  safety,
}: VideoSettingsCommandOptions): SlashCommand {
  const botDefault = defaultModelOf(catalogue).label;
  const handlers: Record<string, (interaction: GuildCommand, t: Translator) => Promise<string>> = {
    'channels add': async (interaction, t) => {
      const channelId = interaction.options.getChannel('channel', true).id;
      const updated = await settings.allowChannel(interaction.guildId, channelId);
      return t('settings.channelAdded', {
        channel: channelMention(channelId),
        channels: describeChannels(updated, t),
      });
    },
    'channels remove': async (interaction, t) => {
      const channelId = interaction.options.getChannel('channel', true).id;
      const updated = await settings.disallowChannel(interaction.guildId, channelId);
      return t('settings.channelRemoved', {
        channel: channelMention(channelId),
        channels: describeChannels(updated, t),
      });
    },
    'channels clear': async (interaction, t) => {
      await settings.allowAllChannels(interaction.guildId);
      return t('settings.allChannelsSet');
    },
    duration: async (interaction, t) => {
      const seconds = interaction.options.getInteger('seconds');
      await settings.update(interaction.guildId, { defaultDurationSeconds: seconds });
      return seconds === null ? t('settings.durationRemoved') : t('settings.durationSet', { seconds });
    },
    model: async (interaction, t) => {
      const model = interaction.options.getString('name');
      await settings.update(interaction.guildId, { defaultModel: model });
      return model === null
        ? t('settings.modelRemoved', { model: botDefault })
        : t('settings.modelSet', { model: labelOf(catalogue, model) });
    },
    language: async (interaction) => {
      const chosen = interaction.options.getString('language');
      const language = isBotLocale(chosen) ? chosen : null;
      await settings.update(interaction.guildId, { language });
      // Said in the language now spoken in the server's channels, so the admin sees what members will.
      const spoken = language ?? botLocaleOf(interaction.guildLocale);
      const t = translatorFor(spoken);
      return language
        ? t('settings.languageSet', { language: LANGUAGE_NAMES[language] })
        : t('settings.languageRemoved', { language: LANGUAGE_NAMES[spoken] });
    },
    show: async (interaction, t) =>
      [
        describeSettings(await settings.get(interaction.guildId), catalogue, interaction.guildLocale, t),
        ...safetyLines(await safety.safety.get(interaction.guildId), safety.ageRestrictedEverywhere, t),
      ].join('\n'),
    ...safetyHandlers(safety),
  };

  return {
    kind: 'slash',
    definition: videoSettingsCommandDefinition({ catalogue }),
    preconditions: [managesServer],
    async execute(interaction) {
      if (!interaction.inGuild()) throw new Error('/video-settings outside a server passed its precondition');
      const group = interaction.options.getSubcommandGroup(false);
      const subcommand = interaction.options.getSubcommand();
      const action = group ? `${group} ${subcommand}` : subcommand;
      const handler = handlers[action];
      if (!handler) throw new Error(`Unknown /video-settings action "${action}"`);
      await replyPrivately(interaction, await handler(interaction, translatorFor(interaction.locale)));
    },
  };
}

function describeChannels({ allowedChannelIds }: ServerVideoSettings, t: Translator): string {
  if (allowedChannelIds.length === 0) return t('settings.everyChannel');
  return t('settings.onlyChannels', { channels: allowedChannelIds.map(channelMention).join(', ') });
}

/** A model as members see it; an id the catalogue no longer has, as it is. */
function labelOf(catalogue: Catalogue, id: string): string {
  return catalogue.models.find((model) => model.id === id)?.label ?? id;
}

function describeSettings(
  current: ServerVideoSettings,
  catalogue: Catalogue,
  guildLocale: string | null,
  t: Translator,
): string {
  const duration = current.defaultDurationSeconds;
  const language = current.language
    ? LANGUAGE_NAMES[current.language]
    : t('settings.discordLanguage', { language: LANGUAGE_NAMES[botLocaleOf(guildLocale)] });
  return [
    t('settings.title'),
    describeChannels(current, t),
    t('settings.defaultDuration', {
      value:
        duration === null ? t('settings.serviceDefault') : t('settings.secondsValue', { seconds: duration }),
    }),
    t('settings.defaultModel', {
      value:
        current.defaultModel === null
          ? t('settings.botDefault', { model: defaultModelOf(catalogue).label })
          : labelOf(catalogue, current.defaultModel),
    }),
    t('settings.language', { value: language }),
  ].join('\n');
}

export function videoSettingsCommandDefinition({ catalogue }: VideoSettingsDefinitionOptions) {
  const key = 'commands.videoSettings';
  const channelOption = (descriptionKey: string) => (option: SlashCommandChannelOption) =>
    describe(option, `${key}.channel`, `${key}.channel.${descriptionKey}`)
      .setRequired(true)
      .addChannelTypes(...VIDEO_CHANNEL_TYPES);
  const definition = describe(new SlashCommandBuilder(), key)
    .setDefaultMemberPermissions(PermissionFlagsBits.ManageGuild)
    .setContexts(InteractionContextType.Guild)
    .addSubcommandGroup((group) =>
      describe(group, `${key}.channels`)
        .addSubcommand((subcommand) =>
          describe(subcommand, `${key}.add`).addChannelOption(channelOption('allowDescription')),
        )
        .addSubcommand((subcommand) =>
          describe(subcommand, `${key}.remove`).addChannelOption(channelOption('removeDescription')),
        )
        .addSubcommand((subcommand) => describe(subcommand, `${key}.clear`)),
    )
    .addSubcommand((subcommand) =>
      describe(subcommand, `${key}.duration`).addIntegerOption((option) =>
        describe(option, `${key}.duration.seconds`).addChoices(
          ...offeredDurations(catalogue)
            .slice(0, MAX_CHOICES)
            .map((seconds) => choice(`${key}.duration.choice`, seconds, { seconds })),
        ),
      ),
    )
    .addSubcommand((subcommand) =>
      describe(subcommand, `${key}.model`).addStringOption((option) =>
        describe(option, `${key}.model.option`).addChoices(...modelChoices(catalogue)),
      ),
    )
    .addSubcommand((subcommand) =>
      describe(subcommand, `${key}.language`).addStringOption((option) =>
        // Each language by its own name, the same for everyone: a member looks for their own.
        describe(option, `${key}.language.option`).addChoices(
          ...LOCALES.map((locale) => ({ name: LANGUAGE_NAMES[locale], value: locale })),
        ),
      ),
    )
    .addSubcommand((subcommand) => describe(subcommand, `${key}.show`));
  return withSafetySubcommands(definition).toJSON();
}
