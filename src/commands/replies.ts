import { channelMention } from '@discordjs/formatters';
import { type Message, MessageFlags, type RepliableInteraction } from 'discord.js';
import { translatorFor } from '../services/i18n/translator.ts';
import { isMissingPermission } from '../services/shared/discord-errors.ts';

/** The answer to a request in direct messages when ALLOW_DMS is off (a key of the locale files). */
export const DMS_OFF = 'error.dmsOff';

/** An answer only the member sees, that can never ping anyone. */
export async function replyPrivately(interaction: RepliableInteraction, content: string): Promise<void> {
  await interaction.reply({ content, flags: MessageFlags.Ephemeral, allowedMentions: { parse: [] } });
}

const CHAT_REPLY_MENTIONS = { parse: [], repliedUser: false } as const;

/**
 * A reply in chat that pings no one; where the bot may not post (no Send Messages, or no access)
 * it goes to the author's DMs instead, so a member is never left without an answer.
 */
export async function replyInChat(message: Message, content: string, locale?: string): Promise<void> {
  try {
    await message.reply({ content, allowedMentions: CHAT_REPLY_MENTIONS });
  } catch (error) {
    if (!message.inGuild() || !isMissingPermission(error)) throw error;
    const where = translatorFor(locale)('error.dmFallback', { channel: channelMention(message.channelId) });
    await message.author.send({ content: `${content}\n${where}`, allowedMentions: { parse: [] } });
  }
}
