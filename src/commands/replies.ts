import { MessageFlags, type RepliableInteraction } from 'discord.js';

/** An answer only the member sees, that can never ping anyone. */
export async function replyPrivately(interaction: RepliableInteraction, content: string): Promise<void> {
  await interaction.reply({ content, flags: MessageFlags.Ephemeral, allowedMentions: { parse: [] } });
}
