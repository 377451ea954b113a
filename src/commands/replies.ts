import { type Message, MessageFlags, type RepliableInteraction } from 'discord.js';

/** An answer only the member sees, that can never ping anyone. */
export async function replyPrivately(interaction: RepliableInteraction, content: string): Promise<void> {
  await interaction.reply({ content, flags: MessageFlags.Ephemeral, allowedMentions: { parse: [] } });
}

/** A reply in chat that pings neither the author nor anyone named in it. */
export async function replyInChat(message: Message, content: string): Promise<void> {
  await message.reply({ content, allowedMentions: { parse: [], repliedUser: false } });
}
