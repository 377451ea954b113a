import type {
  APIApplicationCommand,
  APIApplicationCommandAutocompleteInteraction,
  APIApplicationCommandOptionChoice,
  APIAttachment,
  APIChatInputApplicationCommandInteraction,
  APIDMChannel,
  APIMessage,
  APIMessageApplicationCommandInteraction,
  APIMessageComponentButtonInteraction,
  APIMessageInteractionMetadata,
  APIModalInteractionResponseCallbackData,
  APIModalSubmitInteraction,
  APIPublicThreadChannel,
  APITextChannel,
  APIUser,
  InteractionResponseType,
} from 'discord-api-types/v10';
import type { UploadedFile } from './fake-discord-http.ts';
import {
  attachmentPayload,
  contentTypeFor,
  DEFAULT_APP_PERMISSIONS,
  type FakeGuild,
  type FakeMember,
  makeDMChannel,
} from './fake-discord-payloads.ts';
import { snowflake } from './snowflake.ts';
import { Watch } from './watch.ts';

/** Everything the fake remembers: guilds, channels, messages with their history, interactions, files, requests. */

export type InteractionPayload =
  | APIChatInputApplicationCommandInteraction
  | APIMessageComponentButtonInteraction
  | APIMessageApplicationCommandInteraction
  | APIModalSubmitInteraction
  | APIApplicationCommandAutocompleteInteraction;

/** A dispatched interaction and what the bot has done with it so far (fields update live). */
export interface FakeInteraction<P extends InteractionPayload = InteractionPayload> {
  readonly id: string;
  readonly token: string;
  readonly payload: P;
  /** When the interaction was created (its snowflake time); the token expires `tokenLifetimeMs` after it. */
  readonly createdAt: number;
  /** When INTERACTION_CREATE was sent; the callback must come within `callbackDeadlineMs` of it. */
  dispatchedAt: number;
  readonly attachmentSizeLimit: number;
  readonly channelId: string;
  readonly guildId: string | undefined;
  readonly user: APIUser;
  /** Metadata Discord puts on messages created or edited through this interaction. */
  readonly metadata: APIMessageInteractionMetadata;
  acknowledged: boolean;
  callbackType: InteractionResponseType | undefined;
  callbackAt: number | undefined;
  /** The message `@original` refers to: the new reply (types 4/5) or the component's message (6/7). */
  originalMessageId: string | undefined;
  followupIds: string[];
  /** The modal shown with callback type 9. */
  modal: APIModalInteractionResponseCallbackData | undefined;
  autocompleteChoices: APIApplicationCommandOptionChoice[] | undefined;
  /** Set by `discord.expireToken(ix)`: webhook routes answer 401 50027 from then on. */
  tokenRevoked: boolean;
}

export type MessageOrigin = 'interaction' | 'followup' | 'bot' | 'user' | 'webhook';

export interface MessageRecord {
  readonly id: string;
  readonly channelId: string;
  readonly guildId: string | undefined;
  /** Current state, as GET would return it. */
  message: APIMessage;
  /** Every state the message has had, oldest first; the last one is the current state. */
  readonly history: APIMessage[];
  readonly ephemeral: boolean;
  readonly origin: MessageOrigin;
  readonly interactionId: string | undefined;
  deleted: boolean;
}

export type AuthKind = 'bot' | 'none' | 'invalid' | 'other';

export interface RequestRecord {
  /** Position in `discord.requests`. */
  index: number;
  /** Arrival time, ms since the Unix epoch. */
  at: number;
  durationMs: number;
  method: string;
  /** Decoded path below `/api/v10` (e.g. `/webhooks/1…/tok/messages/@original`), or the CDN path. */
  path: string;
  query: Record<string, string>;
  /** The matched route pattern, e.g. `/webhooks/:applicationId/:token/messages/@original`. */
  route: string;
  auth: AuthKind;
  headers: Record<string, string>;
  /** Parsed JSON body, or `payload_json` of a multipart body. */
  body: unknown;
  files: UploadedFile[];
  status: number;
  response: unknown;
  /** True when the answer came from `failNext` or the edit rate limiter. */
  injected: boolean;
  interactionId: string | undefined;
  messageId: string | undefined;
}

export interface CdnFile {
  filename: string;
  contentType: string;
  size: number;
  bytes: Buffer | undefined;
}

export type MessageEvent = 'create' | 'update' | 'delete';

export type FakeChannel = APITextChannel | APIDMChannel | APIPublicThreadChannel;

export class FakeDiscordState {
  readonly guilds = new Map<string, FakeGuild>();
  /** Servers the bot is not in: members reach it there only through their own install. */
  readonly guildsWithoutBot = new Set<string>();
  /** DMs between members: reached only through their own installs. */
  readonly channelsWithoutBot = new Set<string>();
  readonly channels = new Map<string, FakeChannel>();
  readonly users = new Map<string, APIUser>();
  readonly messages = new Map<string, MessageRecord>();
  readonly interactions = new Map<string, FakeInteraction>();
  readonly interactionsByToken = new Map<string, FakeInteraction>();
  readonly files = new Map<string, CdnFile>();
  readonly requests: RequestRecord[] = [];
  readonly globalCommands: APIApplicationCommand[] = [];
  readonly guildCommands = new Map<string, APIApplicationCommand[]>();
  readonly appPermissions = new Map<string, bigint>();
  readonly reactions: { channelId: string; messageId: string; emoji: string; at: number }[] = [];
  readonly messageWatch = new Watch<MessageRecord>();
  readonly requestWatch = new Watch<RequestRecord>();
  /** Purchases of the app's SKUs (Premium Apps), by entitlement id. */
  readonly entitlements = new Map<string, FakeEntitlement>();
  /** Set once at start: what `GET /gateway/bot` answers as `shards` and `max_concurrency`. */
  gatewayBot = { shardCount: 1, maxConcurrency: 1 };
  /** Set by the facade: sends MESSAGE_CREATE/UPDATE/DELETE through the gateway. */
  onMessageEvent: (event: MessageEvent, record: MessageRecord) => void = () => {};

  constructor(
    readonly botUser: APIUser,
    readonly applicationId: string,
    readonly cdnBase: string,
    readonly now: () => number,
  ) {
    this.users.set(botUser.id, botUser);
  }

  defaultAppPermissions = DEFAULT_APP_PERMISSIONS;

  appPermissionsIn(channelId: string): bigint {
    return this.appPermissions.get(channelId) ?? this.defaultAppPermissions;
  }

  guildOf(channelId: string): FakeGuild | undefined {
    const channel = this.channels.get(channelId);
    return channel && 'guild_id' in channel && channel.guild_id
      ? this.guilds.get(channel.guild_id)
      : undefined;
  }

  memberOf(guildId: string | undefined, userId: string): FakeMember | undefined {
    return guildId ? this.guilds.get(guildId)?.members.get(userId) : undefined;
  }

  dmChannelWith(user: APIUser): APIDMChannel {
    for (const channel of this.channels.values()) {
      if ('recipients' in channel && channel.recipients?.some((recipient) => recipient.id === user.id))
        return channel;
    }
    const channel = makeDMChannel(user);
    this.channels.set(channel.id, channel);
    return channel;
  }

  storeFile(options: {
    channelId: string;
    filename: string;
    contentType: string | undefined;
    bytes?: Buffer;
    size?: number;
    description?: string;
    ephemeral?: boolean;
  }): APIAttachment {
    const id = snowflake(this.now());
    const contentType = contentTypeFor(options.filename, options.contentType);
    const size = options.bytes?.length ?? options.size ?? 0;
    this.files.set(id, { filename: options.filename, contentType, size, bytes: options.bytes });
    return attachmentPayload({
      id,
      cdnBase: this.cdnBase,
      channelId: options.channelId,
      filename: options.filename,
      size,
      contentType,
      description: options.description,
      ephemeral: options.ephemeral,
    });
  }

  addMessage(options: {
    message: APIMessage;
    guildId: string | undefined;
    ephemeral?: boolean;
    origin: MessageOrigin;
    interactionId?: string;
  }): MessageRecord {
    const record: MessageRecord = {
      id: options.message.id,
      channelId: options.message.channel_id,
      guildId: options.guildId,
      message: options.message,
      history: [options.message],
      ephemeral: options.ephemeral ?? false,
      origin: options.origin,
      interactionId: options.interactionId,
      deleted: false,
    };
    this.messages.set(record.id, record);
    const channel = this.channels.get(record.channelId);
    if (channel && !record.ephemeral) channel.last_message_id = record.id;
    this.onMessageEvent('create', record);
    this.messageWatch.emit(record);
    return record;
  }

  updateMessage(record: MessageRecord, next: APIMessage): void {
    record.message = next;
    record.history.push(next);
    this.onMessageEvent('update', record);
    this.messageWatch.emit(record);
  }

  deleteMessage(record: MessageRecord): void {
    record.deleted = true;
    this.onMessageEvent('delete', record);
    this.messageWatch.emit(record);
  }

  /** A live message visible through bot routes (not deleted, not ephemeral) in that channel. */
  channelMessage(channelId: string, messageId: string): MessageRecord | undefined {
    const record = this.messages.get(messageId);
    return record && !record.deleted && !record.ephemeral && record.channelId === channelId
      ? record
      : undefined;
  }

  describeRecentRequests(count = 8): string {
    const recent = this.requests.slice(-count);
    if (recent.length === 0) return '\n  (no requests received yet)';
    return `\n  last ${recent.length} of ${this.requests.length} requests:\n${recent
      .map((request) => `    #${request.index} ${request.method} ${request.path} → ${request.status}`)
      .join('\n')}`;
  }
}

/** An entitlement as Discord sends it: a consumable purchase is type 1 (4 in test mode). */
export interface FakeEntitlement {
  id: string;
  sku_id: string;
  application_id: string;
  user_id: string;
  guild_id?: string;
  type: number;
  consumed: boolean;
  deleted: boolean;
  /** How many times the app called the consume route for it (Discord answers 204 each time). */
  consumeCalls: number;
}
