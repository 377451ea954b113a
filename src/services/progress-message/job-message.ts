import { userMention } from '@discordjs/formatters';
import {
  type APIActionRowComponent,
  type APIButtonComponent,
  type APIMessageTopLevelComponent,
  ButtonStyle,
  ComponentType,
} from 'discord.js';
import { isMemberText, memberText } from '../i18n/member-text.ts';
import { type Translator, translatorFor } from '../i18n/translator.ts';
import type { JobReason, JobSnapshot } from '../jobs/job.ts';
import { money } from '../quotas/quota-format.ts';
import { JOB_BUTTON } from '../shared/custom-ids.ts';
import { plainText, shortened } from '../shared/plain-text.ts';
import type { LinkReason } from '../video-service/download/downloaded-video.ts';
import {
  allComponents,
  isCard,
  noteCard,
  playableUrl,
  renderCard,
  textDisplay,
  visibleText,
  withoutExternalLinks,
} from './job-card.ts';
import type { MessageStyle } from './message-style.ts';

/**
 * How a job looks in Discord, as plain API JSON so the same payload can go through discord.js
 * (`editReply`, `message.edit`) or a raw multipart upload: text with a row of buttons, or a
 * Components V2 card (`flags` set, no `content`).
 */
export interface JobMessage {
  content?: string;
  flags?: number;
  components: APIMessageTopLevelComponent[];
}

/** Today's text message: content and one row of buttons. */
export interface TextJobMessage extends JobMessage {
  content: string;
  components: APIActionRowComponent<APIButtonComponent>[];
}

export type { MessageStyle } from './message-style.ts';

export interface RenderOptions {
  style?: MessageStyle;
  /** The name the video is uploaded under with this message: a card plays it by `attachment://`. */
  fileName?: string;
}

const PROMPT_PREVIEW_LENGTH = 180;
const NOTE_LENGTH = 120;
const REASON_LENGTH = 300;
const NOTICE_LENGTH = 400;
const BAR_CELLS = 12;

/** In the job's language (`request.locale`) unless told another one; English when neither is known. */
export function renderJobMessage(snapshot: JobSnapshot, locale = snapshot.request.locale): TextJobMessage {
  const t = translatorFor(locale);
  const { about, details, status } = jobLines(snapshot, t);
  return {
    content: [...about, ...details, ...status].filter(Boolean).join('\n'),
    components: buttons(snapshot, t),
  };
}

/** The job as a Components V2 card: the same lines, the video playing in it once delivered. */
export function renderJobCard(
  snapshot: JobSnapshot,
  locale = snapshot.request.locale,
  fileName?: string,
): JobMessage {
  const t = translatorFor(locale);
  const { about, details, status } = jobLines(snapshot, t);
  const join = (lines: string[]) => lines.filter(Boolean).join('\n');
  return renderCard({
    state: snapshot.state,
    texts: [join(about), join(details), join(status)],
    mediaUrl: mediaOf(snapshot, fileName),
    mediaSpoiler: snapshot.request.spoiler,
    mediaDescription: t('job.videoAlt', {
      prompt: shortened(snapshot.request.prompt, PROMPT_PREVIEW_LENGTH),
    }),
    buttons: buttons(snapshot, t),
  });
}

/** The job's message in the configured style: every surface renders through here. */
export function renderJob(
  snapshot: JobSnapshot,
  locale = snapshot.request.locale,
  options: RenderOptions = {},
): JobMessage {
  return (options.style ?? 'cards') === 'text'
    ? renderJobMessage(snapshot, locale)
    : renderJobCard(snapshot, locale, options.fileName);
}

/** Who and what (headline, prompt); the options (model, length, ratio, fallbacks); the status. */
function jobLines(snapshot: JobSnapshot, t: Translator) {
  const notice = snapshot.request.notice ? `-# ${plainText(snapshot.request.notice, NOTICE_LENGTH)}` : '';
  return {
    about: [headline(snapshot, t), quotePrompt(snapshot.request.prompt)],
    details: [optionsLine(snapshot, t), ...fallbackLines(snapshot, t), notice],
    status: statusLines(snapshot, t),
  };
}

/** The video a delivered card plays: the file uploaded with it, or the link it was delivered as. */
function mediaOf(snapshot: JobSnapshot, fileName: string | undefined): string | undefined {
  if (snapshot.state !== 'delivered') return undefined;
  const delivery = snapshot.delivery;
  if (!delivery || delivery.kind === 'file') return fileName ? `attachment://${fileName}` : undefined;
  return playableUrl(snapshot.videoUrl);
}

/** A short note in the style of the job's messages (a card once the message is one). */
export function noteMessage(text: string, style: MessageStyle = 'cards'): JobMessage {
  return style === 'text' ? { content: text, components: [] } : noteCard(text);
}

/** A reason in the member's language: the bot's own by its key, the service's as it wrote it. */
export function reasonText(reason: JobReason, t: Translator): string {
  return isMemberText(reason) ? t.text(reason) : reason;
}

/** A prompt shown back: shortened, markdown escaped, and unable to ping anyone even if parsed. */
export function quotePrompt(prompt: string): string {
  return `> ${plainText(prompt, PROMPT_PREVIEW_LENGTH)}`;
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
  const links = allComponents(message.components)
    .filter((component) => component.type === ComponentType.Button && component.style === ButtonStyle.Link)
    .map((button) => linkText(String(button.url)));
  const components = withoutExternalLinks(message.components);
  if (isCard(message)) {
    const shown = visibleText({ ...message, components });
    const missing = links.filter((link) => !shown.includes(link));
    if (!missing.length) return { ...message, components };
    const [container, ...rest] = components;
    const linkLines = textDisplay(missing.map((link) => `🔗 ${link}`).join('\n'));
    if (container?.type !== ComponentType.Container)
      return { ...message, components: [...components, linkLines] };
    return {
      ...message,
      components: [{ ...container, components: [...container.components, linkLines] }, ...rest],
    };
  }
  const text = message.content ?? '';
  const missing = links.filter((link) => !text.includes(link));
  const content = [text, ...missing.map((link) => `🔗 ${link}`)].join('\n');
  return { ...message, content, components };
}

export function hasLinkButton(message: JobMessage): boolean {
  return allComponents(message.components).some(
    (component) => component.type === ComponentType.Button && component.style === ButtonStyle.Link,
  );
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

function headline(snapshot: JobSnapshot, t: Translator): string {
  const who = userMention(snapshot.request.requesterId);
  switch (snapshot.state) {
    case 'delivered':
    case 'failed':
    case 'interrupted':
      return t(`job.headline.${snapshot.state}`, { who });
    case 'cancelled':
      return t('job.headline.cancelled', {
        who: userMention(snapshot.cancelledBy ?? snapshot.request.requesterId),
      });
    default:
      return t('job.headline.working', { who });
  }
}

function optionsLine(snapshot: JobSnapshot, t: Translator): string {
  const { request } = snapshot;
  const parts = [request.model];
  if (request.durationSeconds) parts.push(t('job.options.seconds', { seconds: request.durationSeconds }));
  if (request.aspectRatio) parts.push(request.aspectRatio);
  parts.push(t(request.imageUrl ? 'job.options.fromImage' : 'job.options.textOnly'));
  return `-# ${parts.join(' · ')}`;
}

/** Which model made the video when the one asked for was gone, and why; a length it could not make. */
function fallbackLines(snapshot: JobSnapshot, t: Translator): string[] {
  const { request } = snapshot;
  if (!request.fallbackFrom) return [];
  const names = { model: plainText(request.model, 100), from: plainText(request.fallbackFrom, 100) };
  const lines = [`-# ${t(`job.fallback.${request.fallbackReason ?? 'model_unavailable'}`, names)}`];
  if (request.durationAskedSeconds !== undefined && request.durationSeconds !== undefined) {
    lines.push(
      `-# ${t('job.fallback.durationSnapped', {
        model: names.model,
        seconds: request.durationSeconds,
        asked: request.durationAskedSeconds,
      })}`,
    );
  }
  return lines;
}

function statusLines(snapshot: JobSnapshot, t: Translator): string[] {
  const elapsed = formatElapsed(snapshot.elapsedMs);
  switch (snapshot.state) {
    case 'waiting':
      return [t('job.status.waiting', { position: snapshot.queuePosition ?? 1, elapsed })];
    case 'queued': {
      const position = snapshot.serviceQueuePosition;
      const status =
        position === undefined
          ? t('job.status.queued', { elapsed })
          : t('job.status.queuedAtService', { position, elapsed });
      return [status, noteLine(snapshot, t)];
    }
    case 'generating': {
      const percent = snapshot.percent;
      const status =
        percent === undefined
          ? t('job.status.generating', { elapsed })
          : t('job.status.generatingPercent', {
              bar: progressBar(percent),
              percent: Math.floor(percent),
              elapsed,
            });
      return [status, noteLine(snapshot, t)];
    }
    case 'fetching':
      return [t('job.status.fetching', { elapsed })];
    case 'delivered':
      return [deliveredLine(snapshot, elapsed, t)];
    case 'failed':
      return [
        t('job.status.why', {
          reason: plainText(reasonText(snapshot.reason ?? t('failure.unknown'), t), REASON_LENGTH),
        }),
        t('job.status.notCounted', { elapsed }),
      ];
    case 'cancelled':
      return [t('job.status.notCounted', { elapsed })];
    case 'interrupted':
      return [
        plainText(reasonText(snapshot.reason ?? RESTARTED, t), REASON_LENGTH),
        t('job.status.pressRetry'),
      ];
  }
}

const RESTARTED = memberText('failure.restarted');

function deliveredLine(snapshot: JobSnapshot, elapsed: string, t: Translator): string {
  const delivery = snapshot.delivery;
  const { priceCurrency } = snapshot.request;
  const cost =
    snapshot.cost === undefined || !priceCurrency
      ? ''
      : ` ${t('job.status.cost', { cost: money(snapshot.cost, t, priceCurrency) })}`;
  const madeIn = `${t('job.status.madeIn', { elapsed })}${cost}`;
  if (!delivery || delivery.kind === 'file') return madeIn;
  // A service whose file needs its key may have no public link at all: say so, never show a private one.
  if (!snapshot.videoUrl) return `${t('job.status.noPublicLink')}\n${madeIn}`;
  // The server's spoiler setting covers a video shown as a link too: Discord blurs a spoiler's preview.
  const link = snapshot.request.spoiler ? `||${linkText(snapshot.videoUrl)}||` : linkText(snapshot.videoUrl);
  return `${t(LINK_REASONS[delivery.why])} ${link}\n${madeIn}`;
}

const LINK_REASONS: Record<LinkReason, string> = {
  'too-large': 'job.link.tooLarge',
  'upload-refused': 'job.link.uploadRefused',
  'upload-failed': 'job.link.uploadFailed',
  'download-failed': 'job.link.downloadFailed',
  'download-refused': 'job.link.downloadRefused',
};

/**
 * The service's own progress words, when it sends any, quoted as the service's: the state and
 * percent above are ours, in the member's language; this line is whatever the service wrote.
 */
function noteLine(snapshot: JobSnapshot, t: Translator): string {
  return snapshot.note ? t('job.status.serviceNote', { note: plainText(snapshot.note, NOTE_LENGTH) }) : '';
}

function buttons(snapshot: JobSnapshot, t: Translator): APIActionRowComponent<APIButtonComponent>[] {
  const row: APIButtonComponent[] = [];
  if (snapshot.state === 'waiting' || snapshot.state === 'queued' || snapshot.state === 'generating') {
    row.push({
      type: ComponentType.Button,
      style: ButtonStyle.Secondary,
      label: t('job.button.cancel'),
      emoji: { name: '✖️' },
      custom_id: `${JOB_BUTTON.cancel}:${snapshot.jobId}`,
    });
  }
  if (snapshot.state === 'failed' || snapshot.state === 'interrupted') {
    row.push(againButton(snapshot, t('job.button.retry'), '🔁'));
  }
  if (snapshot.state === 'delivered') {
    if (snapshot.videoUrl && isLinkable(snapshot.videoUrl)) {
      row.push({
        type: ComponentType.Button,
        style: ButtonStyle.Link,
        label: t('job.button.openVideo'),
        url: snapshot.videoUrl,
      });
    }
    row.push(againButton(snapshot, t('job.button.regenerate'), '🎲'));
    if (snapshot.remixable) {
      row.push({
        type: ComponentType.Button,
        style: ButtonStyle.Secondary,
        label: t('job.button.remix'),
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
