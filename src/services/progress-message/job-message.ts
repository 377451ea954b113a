import { userMention } from '@discordjs/formatters';
import {
  type APIActionRowComponent,
  type APIButtonComponent,
  ButtonStyle,
  ComponentType,
  escapeMarkdown,
} from 'discord.js';
import type { JobSnapshot, LinkReason } from '../jobs/job.ts';

/**
 * How a job looks in Discord, as plain API JSON so the same payload can go through discord.js
 * (`editReply`, `message.edit`) or a raw multipart upload.
 */
export interface JobMessage {
  content: string;
  components: APIActionRowComponent<APIButtonComponent>[];
}

/** Custom ids of the buttons on a job message; the handlers route on the prefix. */
export const JOB_BUTTON = {
  cancel: 'cancel',
  retry: 'retry',
  remix: 'remix',
} as const;

const PROMPT_PREVIEW_LENGTH = 180;
const NOTE_LENGTH = 120;
const REASON_LENGTH = 300;
const NOTICE_LENGTH = 200;
const BAR_CELLS = 12;

export function renderJobMessage(snapshot: JobSnapshot): JobMessage {
  const notice = snapshot.request.notice ? `-# ${plainText(snapshot.request.notice, NOTICE_LENGTH)}` : '';
  const lines = [headline(snapshot), quotePrompt(snapshot.request.prompt), optionsLine(snapshot), notice];
  const status = statusLines(snapshot);
  return { content: [...lines, ...status].filter(Boolean).join('\n'), components: buttons(snapshot) };
}

/** A prompt shown back: shortened, markdown escaped, and unable to ping anyone even if parsed. */
export function quotePrompt(prompt: string): string {
  return `> ${plainText(prompt, PROMPT_PREVIEW_LENGTH)}`;
}

/**
 * Text the bot did not write (a member's prompt or file name, a relay's reason or note) as one
 * shortened line that shows exactly as typed: no formatting, no masked link, no mention.
 */
export function plainText(text: string, maxLength: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  const short = flat.length > maxLength ? `${flat.slice(0, maxLength - 1)}…` : flat;
  const escaped = escapeMarkdown(short, { heading: true, bulletedList: true, numberedList: true });
  // escapeMarkdown's own masked-link escape only catches `[x](y)` on one line; no bracket, no link.
  return neutraliseMentions(escaped.replace(/[[\]]/g, '\\$&'));
}

/**
 * A URL from the relay, shown in text. An http(s) URL goes out in its normalised form, where
 * spaces and angle brackets are percent-encoded so it cannot end early or carry a mention, and
 * Discord's autolink takes it whole (markdown inside a link is not parsed), so it still opens and
 * previews. Anything else is not a link and is shown as plain text.
 */
export function linkText(url: string): string {
  const parsed = URL.canParse(url) ? new URL(url) : undefined;
  if (parsed && (parsed.protocol === 'https:' || parsed.protocol === 'http:')) return parsed.href;
  return plainText(url, 512);
}

/**
 * The message without its link buttons, their links moved into the text: for when Discord refuses
 * a button's URL, so the member still gets the link.
 */
export function withLinksInText<T extends JobMessage>(message: T): T {
  const links: string[] = [];
  const components = message.components
    .map((row) => ({
      ...row,
      components: row.components.filter((button) => {
        if (button.style !== ButtonStyle.Link) return true;
        links.push(linkText(button.url));
        return false;
      }),
    }))
    .filter((row) => row.components.length > 0);
  const missing = links.filter((link) => !message.content.includes(link));
  const content = [message.content, ...missing.map((link) => `🔗 ${link}`)].join('\n');
  return { ...message, content, components };
}

export function hasLinkButton(message: JobMessage): boolean {
  return message.components.some((row) => row.components.some((button) => button.style === ButtonStyle.Link));
}

export function neutraliseMentions(text: string): string {
  return text.replace(/@/g, '@\u200b').replace(/<(?=[@#]|\/|a?:)/g, '<\u200b');
}

export function progressBar(percent: number): string {
  const filled = Math.round((Math.min(100, Math.max(0, percent)) / 100) * BAR_CELLS);
  return `${'▰'.repeat(filled)}${'▱'.repeat(BAR_CELLS - filled)}`;
}

export function formatElapsed(ms: number): string {
  const totalSeconds = Math.max(0, Math.floor(ms / 1000));
  const minutes = Math.floor(totalSeconds / 60);
  const seconds = totalSeconds % 60;
  return `${minutes}:${String(seconds).padStart(2, '0')}`;
}

function headline(snapshot: JobSnapshot): string {
  const who = userMention(snapshot.request.requesterId);
  switch (snapshot.state) {
    case 'delivered':
      return `✅ **Your video is ready**, ${who}`;
    case 'failed':
      return `❌ **The video could not be made**, ${who}`;
    case 'cancelled':
      return `🛑 **Cancelled** by ${userMention(snapshot.cancelledBy ?? snapshot.request.requesterId)}`;
    case 'interrupted':
      return `⚠️ **Interrupted**, ${who}`;
    default:
      return `🎬 **Making a video** for ${who}`;
  }
}

function optionsLine(snapshot: JobSnapshot): string {
  const { request } = snapshot;
  const parts = [request.model];
  if (request.durationSeconds) parts.push(`${request.durationSeconds} s`);
  if (request.orientation) parts.push(request.orientation);
  parts.push(request.imageUrl ? 'from an image' : 'text only');
  return `-# ${parts.join(' · ')}`;
}

function statusLines(snapshot: JobSnapshot): string[] {
  const elapsed = formatElapsed(snapshot.elapsedMs);
  switch (snapshot.state) {
    case 'waiting':
      return [`⏳ Waiting for a free slot — **#${snapshot.queuePosition ?? 1}** in line · ${elapsed}`];
    case 'queued':
      return [`🕓 Queued at the video service · ${elapsed}`, noteLine(snapshot)];
    case 'generating': {
      const percent = snapshot.percent;
      const bar =
        percent === undefined ? 'Generating…' : `\`${progressBar(percent)}\` **${Math.floor(percent)}%**`;
      return [`🎞️ ${bar} · ${elapsed}`, noteLine(snapshot)];
    }
    case 'fetching':
      return [`📥 Fetching the finished video… · ${elapsed}`];
    case 'delivered':
      return [deliveredLine(snapshot, elapsed)];
    case 'failed':
      return [
        `**Why:** ${plainText(snapshot.reason ?? 'unknown', REASON_LENGTH)}`,
        `-# After ${elapsed}. This did not count toward your limit.`,
      ];
    case 'cancelled':
      return [`-# After ${elapsed}. This did not count toward your limit.`];
    case 'interrupted':
      return [
        plainText(snapshot.reason ?? 'The bot restarted while this video was being made.', REASON_LENGTH),
        '-# This did not count toward your limit. Press Retry to start it again.',
      ];
  }
}

function deliveredLine(snapshot: JobSnapshot, elapsed: string): string {
  const delivery = snapshot.delivery;
  if (!delivery || delivery.kind === 'file') return `-# Made in ${elapsed}.`;
  // A service whose file needs its key may have no public link at all: say so, never show a private one.
  if (!snapshot.videoUrl) {
    return `📎 The video could not be posted here, and the video service gave no public link to it.\n-# Made in ${elapsed}.`;
  }
  return `${LINK_REASONS[delivery.why]} ${linkText(snapshot.videoUrl)}\n-# Made in ${elapsed}.`;
}

const LINK_REASONS: Record<LinkReason, string> = {
  'too-large': "📎 The video is larger than this server's upload limit, so here is its link:",
  'upload-refused': '📎 Discord did not accept the upload, so here is the link:',
  'upload-failed': '📎 The upload to Discord did not go through, so here is the link:',
  'download-failed': '📎 The video could not be fetched for upload, so here is its link:',
  'download-refused': '📎 The video is hosted where the bot may not fetch it, so here is its link:',
};

function noteLine(snapshot: JobSnapshot): string {
  return snapshot.note ? `-# ${plainText(snapshot.note, NOTE_LENGTH)}` : '';
}

function buttons(snapshot: JobSnapshot): APIActionRowComponent<APIButtonComponent>[] {
  const row: APIButtonComponent[] = [];
  if (snapshot.state === 'waiting' || snapshot.state === 'queued' || snapshot.state === 'generating') {
    row.push({
      type: ComponentType.Button,
      style: ButtonStyle.Secondary,
      label: 'Cancel',
      emoji: { name: '✖️' },
      custom_id: `${JOB_BUTTON.cancel}:${snapshot.jobId}`,
    });
  }
  if (snapshot.state === 'failed' || snapshot.state === 'interrupted') {
    row.push(againButton(snapshot, 'Retry', '🔁'));
  }
  if (snapshot.state === 'delivered') {
    if (snapshot.videoUrl && isLinkable(snapshot.videoUrl)) {
      row.push({
        type: ComponentType.Button,
        style: ButtonStyle.Link,
        label: 'Open video',
        url: snapshot.videoUrl,
      });
    }
    row.push(againButton(snapshot, 'Regenerate', '🎲'));
    if (snapshot.remixable) {
      row.push({
        type: ComponentType.Button,
        style: ButtonStyle.Secondary,
        label: 'Remix',
        emoji: { name: '🎨' },
        custom_id: `${JOB_BUTTON.remix}:${snapshot.jobId}`,
      });
    }
  }
  return row.length ? [{ type: ComponentType.ActionRow, components: row }] : [];
}

function againButton(snapshot: JobSnapshot, label: string, emoji: string): APIButtonComponent {
  return {
    type: ComponentType.Button,
    style: ButtonStyle.Secondary,
    label,
    emoji: { name: emoji },
    custom_id: `${JOB_BUTTON.retry}:${snapshot.jobId}`,
  };
}

/** Discord refuses link buttons whose URL is not http(s) or longer than 512 characters. */
function isLinkable(url: string): boolean {
  return /^https?:\/\//.test(url) && url.length <= 512;
}
