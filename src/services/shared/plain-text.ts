import { escapeMarkdown } from 'discord.js';

/**
 * Text the bot did not write (a member's prompt or file name, a relay's reason or note) as one
 * shortened line that shows exactly as typed: no formatting, no masked link, no mention.
 */
export function plainText(text: string, maxLength: number): string {
  const short = shortened(text, maxLength);
  const escaped = escapeMarkdown(short, { heading: true, bulletedList: true, numberedList: true });
  // escapeMarkdown's own masked-link escape only catches `[x](y)` on one line; no bracket, no link.
  return neutraliseMentions(escaped.replace(/[[\]]/g, '\\$&'));
}

/** One line of at most `maxLength` characters, for where markdown is not parsed (alt text). */
export function shortened(text: string, maxLength: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > maxLength ? `${flat.slice(0, maxLength - 1)}…` : flat;
}

/** Text that can never ping anyone or name a channel, command or emoji, even if parsed. */
export function neutraliseMentions(text: string): string {
  return text.replace(/@/g, '@\u200b').replace(/<(?=[@#]|\/|a?:)/g, '<\u200b');
}
