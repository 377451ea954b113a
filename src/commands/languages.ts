import type { Message } from 'discord.js';
import { serverLocale, type VideoSettings } from '../services/settings/video-settings.ts';

/**
 * Which language the bot speaks where. An answer to an interaction is in the language of the
 * member who asked (`interaction.locale`); a message no one in particular asked for, or a mention
 * in chat (which carries no locale), is in the server's: the one its admins pinned with
 * `/video-settings language`, else its locale in Discord.
 */
export type ServerLanguage = (
  guildId: string,
  preferredLocale: string | null | undefined,
) => Promise<string | undefined>;

export function serverLanguageFrom(settings: VideoSettings): ServerLanguage {
  return async (guildId, preferredLocale) => {
    // Without the store the server's locale in Discord is the best guess, and still an answer.
    const stored = await settings.get(guildId).catch(() => undefined);
    return stored ? serverLocale(stored, preferredLocale) : (preferredLocale ?? undefined);
  };
}

/** The language of a chat message's answer: its server's; English in direct messages. */
export async function localeOfMessage(
  message: Message,
  serverLanguage: ServerLanguage,
): Promise<string | undefined> {
  if (!message.inGuild()) return undefined;
  return serverLanguage(message.guildId, message.guild?.preferredLocale);
}
