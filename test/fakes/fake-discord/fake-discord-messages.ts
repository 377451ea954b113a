import type {
  APIAllowedMentions,
  APIAttachment,
  APIEmbed,
  APIMessage,
  APIMessageTopLevelComponent,
  APIUser,
  RESTAPIAttachment,
  RESTAPIMessageReference,
} from 'discord-api-types/v10';
import { discordError, formError, type UploadedFile } from './fake-discord-http.ts';
import { isoTime, MessageFlag } from './fake-discord-payloads.ts';
import type { MessageRecord } from './fake-discord-state.ts';

/**
 * How a create or edit body turns into the message's next state, with the validation Discord does
 * (2000 characters, 10 embeds, custom_id ≤ 100, Components V2 without content and within its limits,
 * a V2 flag never removed, no empty message)
 * and PATCH semantics: fields present replace, `attachments` keeps only the listed existing ones
 * plus the new uploads.
 */

/** The union of what message create, webhook execute, interaction callback and edit bodies carry. */
export interface MessageBody {
  content?: string | null;
  embeds?: APIEmbed[] | null;
  components?: APIMessageTopLevelComponent[] | null;
  flags?: number | null;
  attachments?: RESTAPIAttachment[] | null;
  allowed_mentions?: APIAllowedMentions | null;
  tts?: boolean;
  nonce?: string | number;
  message_reference?: RESTAPIMessageReference;
  sticker_ids?: string[];
  poll?: unknown;
}

export type MentionKind = 'users' | 'roles' | 'everyone';

export interface ApplyContext {
  creating: boolean;
  now: number;
  /** What `parse` means when the body gives no `allowed_mentions` (interactions and webhooks: users only). */
  defaultParse: MentionKind[];
  /** Stores an upload on the fake CDN and returns its attachment object. */
  storeUpload(upload: UploadedFile, filename: string, description: string | undefined): APIAttachment;
  findUser(id: string): APIUser | undefined;
}

const CREATE_FLAGS =
  MessageFlag.SuppressEmbeds |
  MessageFlag.Ephemeral |
  MessageFlag.SuppressNotifications |
  MessageFlag.IsComponentsV2;
const EDIT_FLAGS = MessageFlag.SuppressEmbeds | MessageFlag.IsComponentsV2;

export function asMessageBody(json: unknown): MessageBody {
  if (json === undefined || json === null) return {};
  if (typeof json !== 'object' || Array.isArray(json))
    throw formError('_root', 'DICT_TYPE_CONVERT', 'Must be an object.');
  return json as MessageBody;
}

/** Returns the next state of `previous` after `body` and `uploads`; throws DiscordError on invalid input. */
export function applyMessageBody(
  previous: APIMessage,
  body: MessageBody,
  uploads: UploadedFile[],
  context: ApplyContext,
): APIMessage {
  const next: APIMessage = { ...previous };
  if (body.content !== undefined) next.content = body.content ?? '';
  if (body.embeds !== undefined) next.embeds = body.embeds ?? [];
  if (body.components !== undefined) next.components = body.components ?? [];
  if (
    !context.creating &&
    ((previous.flags ?? 0) & MessageFlag.IsComponentsV2) !== 0 &&
    body.flags !== undefined &&
    body.flags !== null &&
    (body.flags & MessageFlag.IsComponentsV2) === 0
  ) {
    throw formError(
      'flags',
      'MESSAGE_CANNOT_REMOVE_COMPONENTS_V2_FLAG',
      'The IS_COMPONENTS_V2 flag cannot be removed.',
    );
  }
  next.flags = nextFlags(previous.flags ?? 0, body.flags, context.creating);
  next.attachments = nextAttachments(previous.attachments, body.attachments, uploads, context);
  if (context.creating) {
    next.tts = body.tts ?? false;
    if (body.nonce !== undefined) next.nonce = body.nonce;
  } else if (!(((previous.flags ?? 0) & MessageFlag.Loading) !== 0)) {
    next.edited_timestamp = isoTime(context.now);
  }
  if (
    body.content !== undefined ||
    body.components !== undefined ||
    body.allowed_mentions !== undefined ||
    context.creating
  ) {
    // A card's Text Displays ping like content does.
    Object.assign(next, mentionsOf(visibleText(next), body.allowed_mentions ?? undefined, context));
  }
  validateMessage(next, body);
  return next;
}

function nextFlags(previous: number, requested: number | null | undefined, creating: boolean): number {
  if (creating) return (requested ?? 0) & CREATE_FLAGS;
  const kept = previous & (MessageFlag.Ephemeral | MessageFlag.IsComponentsV2);
  if (requested === undefined || requested === null) return previous & ~MessageFlag.Loading;
  return kept | (requested & EDIT_FLAGS);
}

function uploadIndex(upload: UploadedFile, position: number): string {
  return /\d+/.exec(upload.field)?.[0] ?? String(position);
}

function nextAttachments(
  existing: APIAttachment[],
  listed: RESTAPIAttachment[] | null | undefined,
  uploads: UploadedFile[],
  context: ApplyContext,
): APIAttachment[] {
  const pending = new Map(uploads.map((upload, position) => [uploadIndex(upload, position), upload]));
  const result: APIAttachment[] = [];
  if (listed === undefined) {
    if (!context.creating) result.push(...existing);
  } else {
    for (const [index, entry] of (listed ?? []).entries()) {
      const id = String(entry.id);
      const kept = existing.find((attachment) => attachment.id === id);
      const upload = pending.get(id);
      if (kept) {
        result.push(entry.description !== undefined ? { ...kept, description: entry.description } : kept);
      } else if (upload) {
        pending.delete(id);
        result.push(context.storeUpload(upload, entry.filename ?? upload.name, entry.description));
      } else {
        throw formError(`attachments.${index}.id`, 'ATTACHMENT_NOT_FOUND', `Unknown attachment id ${id}`);
      }
    }
  }
  for (const upload of pending.values()) result.push(context.storeUpload(upload, upload.name, undefined));
  return result;
}

/** Who a message pings, given its content, `allowed_mentions` and the route's default `parse`. */
export function mentionsOf(
  content: string,
  allowed: APIAllowedMentions | undefined,
  context: Pick<ApplyContext, 'defaultParse' | 'findUser'>,
): Pick<APIMessage, 'mentions' | 'mention_roles' | 'mention_everyone'> {
  const parse = new Set<string>(allowed?.parse ?? (allowed ? [] : context.defaultParse));
  const allowedUsers = new Set(allowed?.users ?? []);
  const allowedRoles = new Set(allowed?.roles ?? []);
  const userIds = [...content.matchAll(/<@!?(\d{17,20})>/g)].map((match) => match[1] ?? '');
  const roleIds = [...content.matchAll(/<@&(\d{17,20})>/g)].map((match) => match[1] ?? '');
  const mentions = [...new Set(userIds)]
    .filter((id) => parse.has('users') || allowedUsers.has(id))
    .map((id) => context.findUser(id))
    .filter((user): user is APIUser => user !== undefined);
  return {
    mentions,
    mention_roles: [...new Set(roleIds)].filter((id) => parse.has('roles') || allowedRoles.has(id)),
    mention_everyone: parse.has('everyone') && /@(everyone|here)\b/.test(content),
  };
}

function isEmpty(message: APIMessage, body: MessageBody): boolean {
  return (
    message.content === '' &&
    message.embeds.length === 0 &&
    message.attachments.length === 0 &&
    (message.components?.length ?? 0) === 0 &&
    !body.sticker_ids?.length &&
    !body.poll
  );
}

function validateMessage(message: APIMessage, body: MessageBody): void {
  if (message.content.length > 2000) {
    throw formError('content', 'BASE_TYPE_MAX_LENGTH', 'Must be 2000 or fewer in length.');
  }
  if (message.embeds.length > 10) {
    throw formError('embeds', 'BASE_TYPE_MAX_LENGTH', 'Must be 10 or fewer in length.');
  }
  const flags = message.flags ?? 0;
  if ((flags & MessageFlag.IsComponentsV2) !== 0) {
    if (message.content !== '' || message.embeds.length > 0) {
      throw formError(
        'content',
        'MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2',
        'Cannot use content or embeds with IS_COMPONENTS_V2.',
      );
    }
    validateComponentsV2(message);
  } else if ((message.components?.length ?? 0) > 5) {
    throw formError('components', 'BASE_TYPE_MAX_LENGTH', 'Must be 5 or fewer in length.');
  } else {
    for (const [index, component] of (message.components ?? []).entries()) {
      if ((component as { type?: number }).type !== 1) {
        throw formError(
          `components.${index}.type`,
          'COMPONENT_LAYOUT_REQUIRES_COMPONENTS_V2',
          'This component type needs the IS_COMPONENTS_V2 flag.',
        );
      }
    }
  }
  validateComponents(message.components ?? [], 'components');
  if ((flags & MessageFlag.Loading) === 0 && isEmpty(message, body)) throw discordError(400, 50006);
}

function validateComponents(components: readonly unknown[], path: string): void {
  for (const [index, component] of components.entries()) {
    if (typeof component !== 'object' || component === null) continue;
    const record = component as { custom_id?: unknown; components?: unknown; type?: number };
    const where = `${path}.${index}`;
    if (
      typeof record.custom_id === 'string' &&
      (record.custom_id.length < 1 || record.custom_id.length > 100)
    ) {
      throw formError(`${where}.custom_id`, 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 100 in length.');
    }
    if (Array.isArray(record.components)) {
      if (record.type === 1 && record.components.length > 5) {
        throw formError(`${where}.components`, 'BASE_TYPE_MAX_LENGTH', 'Must be 5 or fewer in length.');
      }
      validateComponents(record.components, `${where}.components`);
    }
  }
}

/**
 * What a member reads in a message: its content, or for a Components V2 message its Text Displays
 * and its buttons' labels, one per line. Tests read messages through this (see `FakeDiscord`).
 */
export function visibleText(message: Pick<APIMessage, 'content' | 'flags' | 'components'>): string {
  if (((message.flags ?? 0) & MessageFlag.IsComponentsV2) === 0) return message.content;
  return walkComponents(message.components ?? [], 'components')
    .map(({ component }) => {
      if (component.type === 10) return String(component.content ?? '');
      if (component.type === 2 && typeof component.label === 'string') return component.label;
      return '';
    })
    .filter(Boolean)
    .join('\n');
}

/** Component types Discord knows in messages (components/reference.mdx). */
const MESSAGE_COMPONENT_TYPES = new Set([1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 17]);
const V2_TOP_LEVEL_TYPES = new Set([1, 9, 10, 12, 13, 14, 17]);
const V2_MAX_COMPONENTS = 40;
const V2_MAX_TEXT = 4000;

/** Every component of a tree with its path: rows', containers' and sections' children, accessories. */
function walkComponents(
  components: readonly unknown[],
  path: string,
): { component: Record<string, unknown>; where: string }[] {
  const found: { component: Record<string, unknown>; where: string }[] = [];
  for (const [index, component] of components.entries()) {
    const where = `${path}.${index}`;
    if (typeof component !== 'object' || component === null) {
      throw formError(where, 'MODEL_TYPE_CONVERT', 'Only dictionaries may be used in a ModelType');
    }
    const record = component as Record<string, unknown>;
    found.push({ component: record, where });
    if (Array.isArray(record.components))
      found.push(...walkComponents(record.components, `${where}.components`));
    if (record.accessory) found.push(...walkComponents([record.accessory], `${where}.accessory`));
  }
  return found;
}

/**
 * Discord's checks of a Components V2 message: known types only (layout ones at the top), at most
 * 40 components counting nested ones, at most 4000 characters of Text Display content, media
 * galleries of 1–10 items, and every `attachment://` reference naming a file of the message.
 */
function validateComponentsV2(message: APIMessage): void {
  const top = message.components ?? [];
  for (const [index, component] of top.entries()) {
    if (!V2_TOP_LEVEL_TYPES.has((component as { type?: number }).type ?? -1)) {
      throw formError(
        `components.${index}.type`,
        'UNION_TYPE_CHOICES',
        'Value of field "type" must be one of (1, 9, 10, 12, 13, 14, 17).',
      );
    }
  }
  const all = walkComponents(top, 'components');
  const unknown = all.find(({ component }) => !MESSAGE_COMPONENT_TYPES.has(component.type as number));
  if (unknown) throw formError(`${unknown.where}.type`, 'UNION_TYPE_CHOICES', 'Unknown component type.');
  if (all.length > V2_MAX_COMPONENTS) {
    throw formError(
      'components',
      'MESSAGE_COMPONENTS_TOO_MANY',
      `Must be ${V2_MAX_COMPONENTS} or fewer in total.`,
    );
  }
  const text = all
    .filter(({ component }) => component.type === 10)
    .reduce((sum, { component }) => sum + String(component.content ?? '').length, 0);
  if (text > V2_MAX_TEXT) {
    throw formError(
      'components',
      'MESSAGE_TEXT_TOO_LONG',
      `Text must be ${V2_MAX_TEXT} or fewer in length in total.`,
    );
  }
  const files = new Set(message.attachments.map((attachment) => attachment.filename));
  for (const { component, where } of all) {
    if (component.type === 12) {
      const items = component.items;
      if (!Array.isArray(items) || items.length < 1 || items.length > 10) {
        throw formError(`${where}.items`, 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 10 in length.');
      }
    }
    const urls = [
      ...(Array.isArray(component.items) ? component.items : []).map(
        (item: { media?: { url?: unknown } }) => item?.media?.url,
      ),
      (component.media as { url?: unknown } | undefined)?.url,
      (component.file as { url?: unknown } | undefined)?.url,
    ];
    for (const url of urls) {
      if (typeof url !== 'string' || !url.startsWith('attachment://')) continue;
      if (!files.has(url.slice('attachment://'.length))) {
        throw formError(where, 'UNFURLED_MEDIA_ITEM_ATTACHMENT_NOT_FOUND', `Attachment ${url} not found.`);
      }
    }
  }
}

/** The buttons of a message (top level rows and Components V2 containers/sections), for click checks. */
export function findButton(
  components: readonly unknown[] | undefined,
  customId: string,
): { custom_id: string; disabled?: boolean } | undefined {
  for (const component of components ?? []) {
    if (typeof component !== 'object' || component === null) continue;
    const record = component as {
      custom_id?: string;
      disabled?: boolean;
      components?: unknown[];
      accessory?: unknown;
    };
    if (record.custom_id === customId) return { custom_id: customId, disabled: record.disabled };
    const nested = findButton(
      [...(record.components ?? []), ...(record.accessory ? [record.accessory] : [])],
      customId,
    );
    if (nested) return nested;
  }
  return undefined;
}

/** Makes `message` a reply to `referenced`: reference, referenced_message, and the replied author pinged if `ping`. */
export function attachReply(message: APIMessage, referenced: MessageRecord, ping: boolean): void {
  message.message_reference = {
    type: 0,
    message_id: referenced.id,
    channel_id: referenced.channelId,
    ...(referenced.guildId ? { guild_id: referenced.guildId } : {}),
  };
  message.referenced_message = referenced.message;
  const repliedTo = referenced.message.author;
  if (ping && !message.mentions.some((user) => user.id === repliedTo.id)) {
    message.mentions = [...message.mentions, repliedTo];
  }
}
