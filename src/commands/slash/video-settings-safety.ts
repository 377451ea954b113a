import {
  ChannelType,
  type ChatInputCommandInteraction,
  channelMention,
  type SlashCommandStringOption,
  type SlashCommandSubcommandsOnlyBuilder,
  userMention,
} from 'discord.js';
import type { Translator } from '../../services/i18n/translator.ts';
import {
  type BlockedWordChange,
  MAX_BLOCKED_WORD_LENGTH,
  MAX_BLOCKED_WORDS,
  type SafetySettings,
  type ServerSafety,
} from '../../services/safety/safety-settings.ts';
import { plainText } from '../../services/shared/plain-text.ts';
import { choice, describe } from '../localized.ts';

/**
 * The safety half of `/video-settings` (issue 22): age-restricted channels only, refused words,
 * the moderation log channel, blocked members, spoilers. Kept apart from the defaults half so
 * each stays small; video-settings.ts routes to these handlers and shows these lines.
 */

type GuildCommand = ChatInputCommandInteraction<'cached' | 'raw'>;
type Handler = (interaction: GuildCommand, t: Translator) => Promise<string>;

const KEY = 'commands.videoSettings';
/** A Discord message holds 2,000 characters; the list leaves room for its heading. */
const LIST_LENGTH = 1_800;
const LOG_CHANNEL_TYPES = [ChannelType.GuildText, ChannelType.GuildAnnouncement] as const;

const WORD_ANSWERS: Record<BlockedWordChange, string> = {
  added: 'settings.wordAdded',
  'already-there': 'settings.wordExists',
  removed: 'settings.wordRemoved',
  'not-there': 'settings.wordMissing',
  full: 'settings.wordsFull',
  'no-words': 'settings.wordEmpty',
};

export interface SafetyCommandOptions {
  safety: SafetySettings;
  /** The operator's AGE_RESTRICTED_ONLY: shown, and said when an admin turns the setting off. */
  ageRestrictedEverywhere: boolean;
}

export function safetyHandlers({
  safety,
  ageRestrictedEverywhere,
}: SafetyCommandOptions): Record<string, Handler> {
  const isOn = (interaction: GuildCommand) => interaction.options.getString('mode', true) === 'on';
  const word = (interaction: GuildCommand) => interaction.options.getString('word', true);
  const answerWord = async (change: BlockedWordChange, entry: string, guildId: string, t: Translator) => {
    const count = (await safety.get(guildId)).blockedWords.length;
    return t(WORD_ANSWERS[change], {
      word: plainText(entry, MAX_BLOCKED_WORD_LENGTH),
      count,
      max: MAX_BLOCKED_WORDS,
    });
  };
  return {
    'age-restricted-only': async (interaction, t) => {
      const on = isOn(interaction);
      await safety.setAgeRestrictedOnly(interaction.guildId, on);
      if (on) return t('settings.ageRestrictedOn');
      return [
        t('settings.ageRestrictedOff'),
        ageRestrictedEverywhere ? t('settings.ageRestrictedForced') : '',
      ]
        .filter(Boolean)
        .join(' ');
    },
    'blocked-words add': async (interaction, t) =>
      answerWord(
        await safety.addBlockedWord(interaction.guildId, word(interaction)),
        word(interaction),
        interaction.guildId,
        t,
      ),
    'blocked-words remove': async (interaction, t) =>
      answerWord(
        await safety.removeBlockedWord(interaction.guildId, word(interaction)),
        word(interaction),
        interaction.guildId,
        t,
      ),
    'blocked-words list': async (interaction, t) => {
      const { blockedWords } = await safety.get(interaction.guildId);
      if (blockedWords.length === 0) return t('settings.wordsNone');
      return t('settings.wordsList', { count: blockedWords.length, words: listOf(blockedWords, t) });
    },
    'log-channel': async (interaction, t) => {
      const channel = interaction.options.getChannel('channel');
      await safety.setLogChannel(interaction.guildId, channel?.id ?? null, interaction.user.id);
      return channel
        ? t('settings.logChannelSet', { channel: channelMention(channel.id) })
        : t('settings.logChannelOff');
    },
    block: async (interaction, t) => {
      const member = interaction.options.getUser('member', true);
      await safety.block(interaction.guildId, member.id);
      return t('settings.memberBlocked', { member: userMention(member.id) });
    },
    unblock: async (interaction, t) => {
      const member = interaction.options.getUser('member', true);
      await safety.unblock(interaction.guildId, member.id);
      return t('settings.memberUnblocked', { member: userMention(member.id) });
    },
    spoiler: async (interaction, t) => {
      const on = isOn(interaction);
      await safety.setSpoiler(interaction.guildId, on);
      return on ? t('settings.spoilerOn') : t('settings.spoilerOff');
    },
  };
}

/** The safety lines of `/video-settings show`. */
export function safetyLines(
  current: ServerSafety,
  ageRestrictedEverywhere: boolean,
  t: Translator,
): string[] {
  const onOff = (on: boolean) => (on ? t('settings.on') : t('settings.off'));
  return [
    t('settings.ageRestrictedValue', {
      value: ageRestrictedEverywhere ? t('settings.operatorForced') : onOff(current.ageRestrictedOnly),
    }),
    t('settings.blockedWordsValue', { count: current.blockedWords.length }),
    t('settings.logChannelValue', {
      value: current.logChannelId ? channelMention(current.logChannelId) : t('settings.off'),
    }),
    t('settings.blockedMembersValue', {
      value:
        current.blockedMemberIds.length > 0
          ? current.blockedMemberIds.map(userMention).join(', ')
          : t('settings.none'),
    }),
    t('settings.spoilerValue', { value: onOff(current.spoiler) }),
  ];
}

/** The words, escaped, as many as fit; the rest counted. */
function listOf(words: string[], t: Translator): string {
  const shown: string[] = [];
  let length = 0;
  for (const each of words) {
    const text = `\`${each.replaceAll('`', "'")}\``;
    if (length + text.length + 2 > LIST_LENGTH) break;
    shown.push(text);
    length += text.length + 2;
  }
  const more = words.length - shown.length;
  return more > 0 ? `${shown.join(', ')} ${t('settings.wordsMore', { count: more })}` : shown.join(', ');
}

export function withSafetySubcommands(
  builder: SlashCommandSubcommandsOnlyBuilder,
): SlashCommandSubcommandsOnlyBuilder {
  const mode = (option: SlashCommandStringOption) =>
    describe(option, `${KEY}.mode`)
      .setRequired(true)
      .addChoices(choice(`${KEY}.mode.on`, 'on'), choice(`${KEY}.mode.off`, 'off'));
  const word = (option: SlashCommandStringOption) =>
    describe(option, `${KEY}.word`).setRequired(true).setMaxLength(MAX_BLOCKED_WORD_LENGTH);
  return builder
    .addSubcommand((subcommand) => describe(subcommand, `${KEY}.ageRestrictedOnly`).addStringOption(mode))
    .addSubcommandGroup((group) =>
      describe(group, `${KEY}.blockedWords`)
        .addSubcommand((subcommand) => describe(subcommand, `${KEY}.blockedWordsAdd`).addStringOption(word))
        .addSubcommand((subcommand) =>
          describe(subcommand, `${KEY}.blockedWordsRemove`).addStringOption(word),
        )
        .addSubcommand((subcommand) => describe(subcommand, `${KEY}.blockedWordsList`)),
    )
    .addSubcommand((subcommand) =>
      describe(subcommand, `${KEY}.logChannel`).addChannelOption((option) =>
        describe(option, `${KEY}.logChannel.option`).addChannelTypes(...LOG_CHANNEL_TYPES),
      ),
    )
    .addSubcommand((subcommand) =>
      describe(subcommand, `${KEY}.block`).addUserOption((option) =>
        describe(option, `${KEY}.member`).setRequired(true),
      ),
    )
    .addSubcommand((subcommand) =>
      describe(subcommand, `${KEY}.unblock`).addUserOption((option) =>
        describe(option, `${KEY}.member`).setRequired(true),
      ),
    )
    .addSubcommand((subcommand) => describe(subcommand, `${KEY}.spoiler`).addStringOption(mode));
}
