import {
  type APIActionRowComponent,
  type APIButtonComponent,
  type APIComponentInContainer,
  type APIContainerComponent,
  type APIMediaGalleryComponent,
  type APIMessageTopLevelComponent,
  type APITextDisplayComponent,
  ButtonStyle,
  ComponentType,
  MessageFlags,
} from 'discord.js';
import type { JobState } from '../jobs/job.ts';

/**
 * The job as a Components V2 card: a container whose accent colour says the state, Text Displays
 * with the same lines as the text message, the video in a Media Gallery once delivered, and the
 * buttons in an Action Row inside the container. Pure functions of what `renderJobMessage` already
 * decided, so every surface (reply, channel message, DM) shows the same card for a snapshot.
 */

export const COMPONENTS_V2 = MessageFlags.IsComponentsV2;

/** Discord's limits for a V2 message (components/reference.mdx). */
export const CARD_LIMITS = { components: 40, textLength: 4000 } as const;

/** One colour per state, readable on light and dark themes: blue while working, then the outcome. */
export const ACCENT_COLOURS: Record<JobState, number> = {
  waiting: 0x99aab5,
  queued: 0x5865f2,
  generating: 0x3498db,
  fetching: 0x1abc9c,
  delivered: 0x57f287,
  failed: 0xed4245,
  cancelled: 0x747f8d,
  interrupted: 0xfee75c,
};

/** What the card shows, in the order it shows it; each text block is one Text Display. */
export interface CardParts {
  state: JobState;
  /** Headline and prompt; the options (model, length, ratio); the status. Empty blocks are left out. */
  texts: string[];
  /** The video to play in the card: `attachment://<file>` for an upload, or the service's link. */
  mediaUrl?: string;
  /** The video's alt text, for screen readers (plain text, not markdown). */
  mediaDescription?: string;
  /** The server shows videos as spoilers (`/video-settings spoiler`): the player is blurred until clicked. */
  mediaSpoiler?: boolean;
  buttons: APIActionRowComponent<APIButtonComponent>[];
}

export function renderCard(parts: CardParts): { flags: number; components: APIMessageTopLevelComponent[] } {
  const inner: APIComponentInContainer[] = fitTexts(parts.texts.filter(Boolean)).map(textDisplay);
  if (parts.mediaUrl) inner.push(mediaGallery(parts.mediaUrl, parts.mediaDescription, parts.mediaSpoiler));
  inner.push(...parts.buttons);
  const container: APIContainerComponent = {
    type: ComponentType.Container,
    accent_color: ACCENT_COLOURS[parts.state],
    components: inner,
  };
  return { flags: COMPONENTS_V2, components: [container] };
}

/** A one-line card, for the notes that replace a job's message (handed over, finished below). */
export function noteCard(text: string) {
  const container: APIContainerComponent = { type: ComponentType.Container, components: [textDisplay(text)] };
  return { flags: COMPONENTS_V2, components: [container] as APIMessageTopLevelComponent[] };
}

/** Media the card may play: an upload by reference, or an http(s) link Discord can fetch. */
export function playableUrl(url: string | undefined): string | undefined {
  if (!url) return undefined;
  if (url.startsWith('attachment://')) return url;
  return /^https?:\/\//.test(url) && url.length <= 2048 ? url : undefined;
}

export function isCard(message: { flags?: number }): boolean {
  return ((message.flags ?? 0) & COMPONENTS_V2) !== 0;
}

/** Every component of a message, nested ones included (rows, containers, sections' accessories). */
export function allComponents(components: readonly unknown[] | undefined): Record<string, unknown>[] {
  const found: Record<string, unknown>[] = [];
  for (const component of components ?? []) {
    if (typeof component !== 'object' || component === null) continue;
    const record = component as Record<string, unknown>;
    found.push(record);
    if (Array.isArray(record.components)) found.push(...allComponents(record.components));
    if (record.accessory) found.push(...allComponents([record.accessory]));
  }
  return found;
}

/** The text a member reads in a message: its content, or a card's Text Displays. */
export function visibleText(message: {
  content?: string;
  flags?: number;
  components?: readonly unknown[];
}): string {
  if (!isCard(message)) return message.content ?? '';
  return allComponents(message.components)
    .filter((component) => component.type === ComponentType.TextDisplay)
    .map((component) => String(component.content ?? ''))
    .join('\n');
}

/** The card without link buttons and external media, for when Discord refuses their URL. */
export function withoutExternalLinks(
  components: APIMessageTopLevelComponent[],
): APIMessageTopLevelComponent[] {
  const keep = (component: Record<string, unknown>): boolean => {
    if (component.type === ComponentType.Button) return component.style !== ButtonStyle.Link;
    if (component.type === ComponentType.MediaGallery) {
      const items = (component as unknown as APIMediaGalleryComponent).items;
      return items.every((item) => item.media.url.startsWith('attachment://'));
    }
    return true;
  };
  const strip = (list: readonly unknown[]): unknown[] =>
    (list as Record<string, unknown>[])
      .filter(keep)
      .map((component) =>
        Array.isArray(component.components)
          ? { ...component, components: strip(component.components) }
          : component,
      )
      .filter(
        (component) =>
          component.type !== ComponentType.ActionRow || (component.components as unknown[]).length > 0,
      );
  return strip(components) as APIMessageTopLevelComponent[];
}

export function textDisplay(content: string): APITextDisplayComponent {
  return { type: ComponentType.TextDisplay, content };
}

/** Discord's limit for a gallery item's description. */
const MEDIA_DESCRIPTION_LENGTH = 1024;

function mediaGallery(url: string, description?: string, spoiler = false): APIMediaGalleryComponent {
  const alt =
    description && description.length > MEDIA_DESCRIPTION_LENGTH
      ? `${description.slice(0, MEDIA_DESCRIPTION_LENGTH - 1)}…`
      : description;
  return {
    type: ComponentType.MediaGallery,
    items: [{ media: { url }, ...(alt ? { description: alt } : {}), ...(spoiler ? { spoiler } : {}) }],
  };
}

/**
 * Keeps the card's text within Discord's total: every block is bounded already (the prompt, a
 * reason, a note), so only a very long link could pass it; the longest block is shortened.
 */
function fitTexts(texts: string[]): string[] {
  const fitted = [...texts];
  const total = () => fitted.reduce((sum, text) => sum + text.length, 0);
  while (total() > CARD_LIMITS.textLength) {
    const longest = fitted.reduce(
      (best, text, index) => (text.length > (fitted[best]?.length ?? 0) ? index : best),
      0,
    );
    const text = fitted[longest] ?? '';
    const keep = Math.max(0, text.length - (total() - CARD_LIMITS.textLength) - 1);
    fitted[longest] = `${text.slice(0, keep)}…`;
  }
  return fitted;
}
