import {
  ChannelType,
  type ChatInputCommandInteraction,
  channelMention,
  InteractionContextType,
  PermissionFlagsBits,
  SlashCommandBuilder,
  type SlashCommandChannelOption,
} from 'discord.js';
import type { ServerVideoSettings, VideoSettings } from '../../services/settings/video-settings.ts';
import type { SlashCommand } from '../command.ts';
import { managesServer } from '../preconditions.ts';
import { replyPrivately } from '../replies.ts';

export interface VideoSettingsDefinitionOptions {
  /** The offered models, default first (`offeredModels(config)`). */
  models: readonly string[];
  /** The lengths the default model offers. */
  durations: readonly number[];
}

export interface VideoSettingsCommandOptions extends VideoSettingsDefinitionOptions {
  settings: VideoSettings;
}

type GuildCommand = ChatInputCommandInteraction<'cached' | 'raw'>;

/** Channels a member can pick: the ones where the bot can be asked for a video. */
const VIDEO_CHANNEL_TYPES = [
  ChannelType.GuildText,
  ChannelType.GuildAnnouncement,
  ChannelType.GuildVoice,
  ChannelType.GuildForum,
] as const;

/** Discord allows at most 25 choices on an option. */
const MAX_CHOICES = 25;

/**
 * `/video-settings`: where the bot answers and the defaults of a request on this server. Admin
 * only, checked here as well as by Discord's default permission.
 */
export function createVideoSettingsCommand({
  settings,
  models,
  durations,
}: VideoSettingsCommandOptions): SlashCommand {
  const handlers: Record<string, (interaction: GuildCommand) => Promise<string>> = {
    'channels add': async (interaction) => {
      const channelId = interaction.options.getChannel('channel', true).id;
      const updated = await settings.allowChannel(interaction.guildId, channelId);
      return `The bot now answers in ${channelMention(channelId)}. ${describeChannels(updated)}`;
    },
    'channels remove': async (interaction) => {
      const channelId = interaction.options.getChannel('channel', true).id;
      const updated = await settings.disallowChannel(interaction.guildId, channelId);
      return `Removed ${channelMention(channelId)}. ${describeChannels(updated)}`;
    },
    'channels clear': async (interaction) => {
      await settings.allowAllChannels(interaction.guildId);
      return 'The bot now answers in every channel.';
    },
    duration: async (interaction) => {
      const seconds = interaction.options.getInteger('seconds');
      await settings.update(interaction.guildId, { defaultDurationSeconds: seconds });
      return seconds === null
        ? 'Removed the default duration.'
        : `Videos now last ${seconds} seconds unless a member picks another length.`;
    },
    model: async (interaction) => {
      const model = interaction.options.getString('name');
      await settings.update(interaction.guildId, { defaultModel: model });
      return model === null
        ? `Removed the server's default model; the bot's default (**${models[0]}**) applies.`
        : `Videos now use **${model}** unless a member picks another model.`;
    },
    show: async (interaction) => describeSettings(await settings.get(interaction.guildId), models),
  };

  return {
    kind: 'slash',
    definition: videoSettingsCommandDefinition({ models, durations }),
    preconditions: [managesServer],
    async execute(interaction) {
      if (!interaction.inGuild()) throw new Error('/video-settings outside a server passed its precondition');
      const group = interaction.options.getSubcommandGroup(false);
      const subcommand = interaction.options.getSubcommand();
      const action = group ? `${group} ${subcommand}` : subcommand;
      const handler = handlers[action];
      if (!handler) throw new Error(`Unknown /video-settings action "${action}"`);
      await replyPrivately(interaction, await handler(interaction));
    },
  };
}

function describeChannels({ allowedChannelIds }: ServerVideoSettings): string {
  if (allowedChannelIds.length === 0) return 'The bot answers in every channel.';
  return `The bot answers only in ${allowedChannelIds.map(channelMention).join(', ')}.`;
}

function describeSettings(current: ServerVideoSettings, models: readonly string[]): string {
  const duration = current.defaultDurationSeconds;
  return [
    '**Video settings**',
    describeChannels(current),
    `Default duration: ${duration === null ? "the service's default" : `${duration} seconds`}`,
    `Default model: ${current.defaultModel ?? `${models[0]} *(bot default)*`}`,
  ].join('\n');
}

export function videoSettingsCommandDefinition({ models, durations }: VideoSettingsDefinitionOptions) {
  const channelOption = (description: string) => (option: SlashCommandChannelOption) =>
    option
      .setName('channel')
      .setDescription(description)
      .setRequired(true)
      .addChannelTypes(...VIDEO_CHANNEL_TYPES);
  return new SlashCommandBuilder()
    .setName('video-settings')
    .setDescription('Where the bot answers and the defaults for videos on this server')
    .setDefaultMemberPermissions(PermissionFlagsBits.ManageGuild)
    .setContexts(InteractionContextType.Guild)
    .addSubcommandGroup((group) =>
      group
        .setName('channels')
        .setDescription('Limit the bot to chosen channels')
        .addSubcommand((subcommand) =>
          subcommand
            .setName('add')
            .setDescription('Let the bot answer in a channel (it then answers only in chosen ones)')
            .addChannelOption(channelOption('The channel to allow')),
        )
        .addSubcommand((subcommand) =>
          subcommand
            .setName('remove')
            .setDescription('Stop the bot answering in a channel')
            .addChannelOption(channelOption('The channel to remove')),
        )
        .addSubcommand((subcommand) =>
          subcommand.setName('clear').setDescription('Let the bot answer in every channel'),
        ),
    )
    .addSubcommand((subcommand) =>
      subcommand
        .setName('duration')
        .setDescription('Default video length; leave out to remove the default')
        .addIntegerOption((option) =>
          option
            .setName('seconds')
            .setDescription('Length in seconds')
            .addChoices(...durations.map((seconds) => ({ name: `${seconds} seconds`, value: seconds }))),
        ),
    )
    .addSubcommand((subcommand) =>
      subcommand
        .setName('model')
        .setDescription('Default video model; leave out to remove the default')
        .addStringOption((option) =>
          option
            .setName('name')
            .setDescription('The model')
            .addChoices(...models.slice(0, MAX_CHOICES).map((model) => ({ name: model, value: model }))),
        ),
    )
    .addSubcommand((subcommand) => subcommand.setName('show').setDescription('Show the current settings'))
    .toJSON();
}
