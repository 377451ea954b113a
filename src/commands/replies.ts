import { type Message, MessageFlags, type RepliableInteraction } from 'discord.js';
import { replyOrDirectMessage } from '../services/progress-message/discord-messages.ts';

/** The answer to a request in direct messages when ALLOW_DMS is off (a key of the locale files). */
export const DMS_OFF = 'error.dmsOff';

/** An answer only the member sees, that can never ping anyone. */
export async function replyPrivately(interaction: RepliableInteraction, content: string): Promise<void> {
  await interaction.reply({ content, flags: MessageFlags.Ephemeral, allowedMentions: { parse: [] } });
}

/**
 * A reply in chat that pings neither the author nor anyone named in it; in the author's DMs when
 * the bot may not post in the channel.
 */
export function replyInChat(message: Message, content: string, locale?: string): Promise<void> {
  return replyOrDirectMessage(message, content, locale);
}
