import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type APIApplicationCommand,
  type APIAttachment,
  type APIDMChannel,
  type APIEmbed,
  type APIMessage,
  type APIPublicThreadChannel,
  type APIRole,
  type APITextChannel,
  type APIUser,
  ApplicationFlags,
  GatewayDispatchEvents,
  type GatewayGuildMembersChunkDispatchData,
  type GatewayRequestGuildMembersData,
  type Locale,
  MessageType,
} from 'discord-api-types/v10';
import {
  type DispatchRecord,
  FakeGateway,
  type IdentifyRecord,
  type RefusedIdentify,
  type SessionFilter,
  shardOfGuild,
} from './fake-discord-gateway.ts';
import type { Fault, FaultSpec } from './fake-discord-http.ts';
import {
  type AutocompleteOptions,
  type ButtonOptions,
  InteractionFactory,
  type MessageContextMenuOptions,
  type MessageRef,
  type SlashCommandOptions,
  type SubmitModalOptions,
} from './fake-discord-interactions.ts';
import { attachReply, mentionsOf, visibleText } from './fake-discord-messages.ts';

export { visibleText };

import {
  type AttachmentInput,
  baseMessage,
  DEFAULT_APP_PERMISSIONS,
  DEFAULT_MEMBER_PERMISSIONS,
  type FakeGuild,
  type FakeMember,
  guildCreatePayload,
  guildMemberPayload,
  Intent,
  isoTime,
  MessageFlag as MessageFlags,
  MiB,
  makeDMChannel,
  makeRole,
  makeTextChannel,
  makeThreadChannel,
  makeUser,
  messageMemberPayload,
  type PermissionsInput,
  permissionString,
} from './fake-discord-payloads.ts';
import { type FakeDiscordSettings, FakeRest } from './fake-discord-rest.ts';
import {
  type FakeChannel,
  FakeDiscordState,
  type FakeEntitlement,
  type FakeInteraction,
  type MessageEvent,
  type MessageRecord,
  type RequestRecord,
} from './fake-discord-state.ts';
import { HttpInteractionsClient } from './http-interactions.ts';
import { snowflake, snowflakeOnShard } from './snowflake.ts';
import type { WaitOptions } from './watch.ts';

/**
 * A small fake Discord for integration tests: real HTTP REST and a real gateway WebSocket on
 * 127.0.0.1, so the real discord.js Client runs against it unchanged
 * (`new Client({ intents, rest: { api: discord.apiUrl } })`, `client.login(discord.botToken)`).
 * `fake-discord.test.ts` shows the behaviour it models and how to use it:
 *
 *   const discord = await startFakeDiscord();
 *   const client = new Client({ intents, rest: { api: discord.apiUrl } });
 *   await client.login(discord.botToken); await discord.ready();
 *   const ix = discord.slashCommand({ name: 'video', options: [...], attachments: [{ filename, bytes }] });
 *   await discord.waitForCallback(ix);                                   // the defer (type 5)
 *   await discord.waitForOriginal(ix, (m) => m.content.includes('50%')); // a progress edit
 *   const done = await discord.waitForOriginal(ix, (m) => m.attachments.length > 0);
 *   discord.attachmentBytes(done.attachments[0]!);                       // the uploaded bytes
 *   await client.destroy(); await discord.close();
 *
 * Sharded, as on Discord: `startFakeDiscord({ shardCount: 2 })`, one client per shard
 * (`new Client({ shards: [1], shardCount: 2, … })`), `discord.guildOnShard(1)` for a guild whose
 * events go only to shard 1, and `discord.ready({ shard: 1 })` / `discord.allShardsReady()`.
 */

export type {
  DispatchRecord,
  IdentifyRecord,
  RefusedIdentify,
  SessionFilter,
} from './fake-discord-gateway.ts';
export type { Fault, FaultSpec, UploadedFile } from './fake-discord-http.ts';
export type * from './fake-discord-interactions.ts';
export {
  type AttachmentInput,
  DEFAULT_APP_PERMISSIONS,
  DEFAULT_ATTACHMENT_SIZE_LIMIT,
  DEFAULT_MEMBER_PERMISSIONS,
  type FakeGuild,
  type FakeMember,
  Intent,
  MessageFlag,
  MiB,
} from './fake-discord-payloads.ts';
export type { FakeDiscordSettings } from './fake-discord-rest.ts';
export type {
  FakeChannel,
  FakeEntitlement,
  FakeInteraction,
  MessageRecord,
  RequestRecord,
} from './fake-discord-state.ts';
export { snowflake, snowflakeOnShard, snowflakeTime } from './snowflake.ts';

export interface FakeDiscordOptions {
  botToken?: string;
  botUsername?: string;
  /** Default 15 min; also settable later through `discord.settings`. */
  tokenLifetimeMs?: number;
  /** Default 3000 ms. */
  callbackDeadlineMs?: number;
  /** Per-file limit on bot routes; default 10 MiB. */
  guildUploadLimit?: number;
  /** Default true: the bot's own messages come back as MESSAGE_CREATE/UPDATE/DELETE. */
  dispatchOwnMessages?: boolean;
  /** HELLO heartbeat interval; default 41 250 ms. */
  heartbeatIntervalMs?: number;
  /** Intents that make IDENTIFY fail with close code 4014 (e.g. `Intent.MessageContent`). */
  disallowedIntents?: number;
  /** The clock for token expiry, callback deadlines and timestamps; default `Date.now`. */
  now?: () => number;
  /**
   * Shards the bot must connect with (`GET /gateway/bot` recommends it); default 1. IDENTIFY with
   * fewer is closed with 4011, with more or an id out of range with 4010.
   */
  shardCount?: number;
  /** `session_start_limit.max_concurrency`: shards one client may IDENTIFY at once; default 1. */
  maxConcurrency?: number;
}

export interface ReadyOptions extends WaitOptions {
  /** Wait for a session of this shard id; default any. */
  shard?: number;
}

export interface GuildOptions {
  name?: string;
  /** Names of its text channels; default `['general']`. */
  channels?: string[];
  /** Its language in Discord (`preferred_locale`); default en-US. */
  preferredLocale?: Locale;
}

export interface MemberOptions {
  id?: string;
  username?: string;
  roles?: string[];
  /** Total permissions in the channel; default @everyone's plus the roles' (no ManageGuild). */
  permissions?: PermissionsInput;
  bot?: boolean;
  nick?: string;
  guild?: FakeGuild | string;
}

export interface RoleOptions {
  name: string;
  permissions?: PermissionsInput;
  id?: string;
  guild?: FakeGuild | string;
}

export interface SendMessageOptions {
  content?: string;
  /** Default `discord.defaultMember`; a plain APIUser is looked up among the guild's members. */
  author?: FakeMember | APIUser;
  attachments?: AttachmentInput[];
  embeds?: APIEmbed[];
  /** Prefix `<@bot>` and list the bot in `mentions` (content then arrives even without MessageContent). */
  mentionsBot?: boolean;
  /** Make it a reply (type 19) to this message; the replied author is pinged unless `replyPing: false`. */
  referencedMessage?: MessageRef;
  replyPing?: boolean;
  /** Sent by a webhook with this id (author is the webhook, no member). */
  webhookId?: string;
  /** Default `discord.channel` (ignored with `dm`). */
  channel?: FakeChannel | string;
  /** Sent in the author's DM with the bot. */
  dm?: boolean;
  createdAt?: number;
}

export interface MessageWaitOptions extends WaitOptions {
  channelId?: string;
  /** Also match messages as they are now (default true). */
  includeExisting?: boolean;
}

export interface RequestWaitOptions extends WaitOptions {
  /** Only consider requests from this index of `discord.requests` on (see `discord.mark()`). */
  since?: number;
  /** Describes the wait in the timeout error. */
  what?: string;
}

export interface EditRateLimitOptions {
  /** Edits allowed per message within `windowMs` (default 5). */
  limit?: number;
  windowMs?: number;
}

export interface RegisteredCommands {
  global: APIApplicationCommand[];
  guilds: Record<string, APIApplicationCommand[]>;
}

export async function startFakeDiscord(options: FakeDiscordOptions = {}): Promise<FakeDiscord> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return new FakeDiscord(server, (server.address() as AddressInfo).port, options);
}

export class FakeDiscord {
  readonly baseUrl: string;
  /** Pass as `rest.api` (discord.js appends `/v10`). */
  readonly apiUrl: string;
  readonly gatewayUrl: string;
  readonly botToken: string;
  readonly applicationId: string;
  readonly botUser: APIUser;
  readonly settings: FakeDiscordSettings;
  /** The shard count IDENTIFY must name (`options.shardCount`). */
  readonly shardCount: number;
  /** The default guild; on shard 0. */
  readonly guild: FakeGuild;
  /** The first text channel of `guild` (type 0). */
  readonly channel: APITextChannel;
  /** A second text channel of `guild`. */
  readonly otherChannel: APITextChannel;
  /** A second guild the bot is in, with one text channel; on shard 1 when there are several. */
  readonly otherGuild: FakeGuild;
  readonly otherGuildChannel: APITextChannel;
  /** A normal member of `guild` without ManageGuild: the default actor of interactions and messages. */
  readonly defaultMember: FakeMember;
  private readonly state: FakeDiscordState;
  private readonly gateway: FakeGateway;
  private readonly rest: FakeRest;
  private readonly factory: InteractionFactory;

  constructor(
    private readonly server: Server,
    port: number,
    options: FakeDiscordOptions,
  ) {
    this.baseUrl = `http://127.0.0.1:${port}`;
    this.apiUrl = `${this.baseUrl}/api`;
    this.gatewayUrl = `ws://127.0.0.1:${port}/gateway`;
    this.botToken = options.botToken ?? `fake-bot-token.${snowflake()}`;
    this.botUser = makeUser({ username: options.botUsername ?? 'sora-bot', bot: true });
    this.applicationId = this.botUser.id;
    this.settings = {
      tokenLifetimeMs: options.tokenLifetimeMs ?? 15 * 60_000,
      callbackDeadlineMs: options.callbackDeadlineMs ?? 3_000,
      guildUploadLimit: options.guildUploadLimit ?? 10 * MiB,
      dispatchOwnMessages: options.dispatchOwnMessages ?? true,
    };
    this.state = new FakeDiscordState(
      this.botUser,
      this.applicationId,
      this.baseUrl,
      options.now ?? Date.now,
    );
    this.state.onMessageEvent = (event, record) => this.dispatchMessageEvent(event, record);
    this.shardCount = options.shardCount ?? 1;
    if (!Number.isInteger(this.shardCount) || this.shardCount < 1) {
      throw new Error(`fake discord: shardCount must be a positive integer, not ${this.shardCount}`);
    }
    this.state.gatewayBot = { shardCount: this.shardCount, maxConcurrency: options.maxConcurrency ?? 1 };

    this.guild = this.addGuild('Sora Test Guild', ['general', 'renders'], 0);
    [this.channel, this.otherChannel] = this.guild.channels as [APITextChannel, APITextChannel];
    this.otherGuild = this.addGuild('Other Guild', ['general'], 1 % this.shardCount);
    [this.otherGuildChannel] = this.otherGuild.channels as [APITextChannel];
    this.defaultMember = this.member({ username: 'alice' });

    this.gateway = new FakeGateway(
      {
        botToken: this.botToken,
        heartbeatIntervalMs: options.heartbeatIntervalMs ?? 41_250,
        disallowedIntents: options.disallowedIntents ?? 0,
        shardCount: this.shardCount,
        ready: ({ sessionId, resumeUrl, shard }) => ({
          v: 10,
          user: this.botUser,
          guilds: this.guildsOfShard(shard).map((guild) => ({ id: guild.id, unavailable: true })),
          session_id: sessionId,
          resume_gateway_url: resumeUrl,
          shard,
          application: {
            id: this.applicationId,
            flags: ApplicationFlags.GatewayMessageContentLimited,
            flags_new: String(ApplicationFlags.GatewayMessageContentLimited),
          },
        }),
        guildCreates: (shard) =>
          this.guildsOfShard(shard).map((guild) => guildCreatePayload(guild, this.botUser.id)),
        membersChunk: (request) => this.membersChunk(request),
      },
      this.gatewayUrl,
    );
    this.rest = new FakeRest(this.state, this.settings, this.botToken, this.gatewayUrl);
    this.factory = new InteractionFactory({
      state: this.state,
      defaultMember: this.defaultMember,
      defaultChannel: this.channel,
      dispatch: (ix) => this.dispatchInteraction(ix),
    });
    server.on('request', (request, response) => {
      this.rest.handle(request, response).catch((error: unknown) => {
        console.error('fake discord: request failed', error);
        if (!response.headersSent) response.writeHead(500).end();
      });
    });
    server.on('upgrade', (request, socket, head) => this.gateway.handleUpgrade(request, socket, head));
  }

  // ---- fixtures ------------------------------------------------------------------------------

  /**
   * A server the bot was never added to, with one text channel: interactions there come from
   * members' own installs; the bot's token gets 403 Missing Access for its channels and 404
   * Unknown Guild for the server. Never sent over the gateway.
   */
  guildWithoutBot(): { id: string; channel: APITextChannel } {
    const id = snowflake();
    const channel = makeTextChannel(id, 'chat', 0);
    this.state.guildsWithoutBot.add(id);
    this.state.channels.set(channel.id, channel);
    return { id, channel };
  }

  /** A DM between `member` and another member: the bot is not in it (403 Missing Access to its token). */
  privateChannel(member: FakeMember): APIDMChannel {
    const channel = makeDMChannel(makeUser({ username: `${member.user.username}-friend` }));
    this.state.channelsWithoutBot.add(channel.id);
    this.state.channels.set(channel.id, channel);
    return channel;
  }

  /**
   * Discord's side of the bot's Interactions Endpoint URL, with a fresh application key:
   * `publicKeyHex` is the bot's DISCORD_PUBLIC_KEY. Build interactions with `dispatch: false` and
   * `deliver` them to the endpoint instead of the gateway.
   */
  httpInteractions(): HttpInteractionsClient {
    return new HttpInteractionsClient({
      apiUrl: this.apiUrl,
      applicationId: this.applicationId,
      markDispatched: (ix) => {
        ix.dispatchedAt = this.state.now();
      },
    });
  }

  /** Adds a member (and its user) to a guild; returns what interactions and messages take as `member`/`author`. */
  member(options: MemberOptions = {}): FakeMember {
    const guild = this.resolveGuild(options.guild);
    const user = makeUser({ id: options.id, username: options.username, bot: options.bot });
    const roles = options.roles ?? [];
    const rolePermissions = guild.roles
      .filter((role) => role.id === guild.id || roles.includes(role.id))
      .reduce((bits, role) => bits | BigInt(role.permissions), 0n);
    const member: FakeMember = {
      user,
      guildId: guild.id,
      roles,
      permissions: permissionString(options.permissions ?? rolePermissions),
      nick: options.nick ?? null,
      joinedAt: isoTime(this.state.now() - 86_400_000),
    };
    this.state.users.set(user.id, user);
    guild.members.set(user.id, member);
    return member;
  }

  /** Adds a role to a guild (GUILD_ROLE_CREATE is sent to connected clients). Use its id in `member({ roles })`. */
  role(options: RoleOptions): APIRole {
    const guild = this.resolveGuild(options.guild);
    const role = makeRole({ ...options, position: guild.roles.length });
    guild.roles.push(role);
    if (this.gateway.hasSessions) {
      this.gateway.dispatch(GatewayDispatchEvents.GuildRoleCreate, guild.id, () => ({
        guild_id: guild.id,
        role,
      }));
    }
    return role;
  }

  /**
   * A new guild (the bot and its role in it) whose snowflake routes it to `shardId`; clients of that
   * shard already connected are sent its GUILD_CREATE, as when the bot joins a guild.
   */
  guildOnShard(shardId: number, options: GuildOptions = {}): FakeGuild {
    if (!Number.isInteger(shardId) || shardId < 0 || shardId >= this.shardCount) {
      throw new Error(`fake discord: no shard ${shardId} (the fake has ${this.shardCount})`);
    }
    const guild = this.addGuild(
      options.name ?? `Shard ${shardId} Guild`,
      options.channels ?? ['general'],
      shardId,
    );
    if (options.preferredLocale) guild.preferredLocale = options.preferredLocale;
    this.gateway.dispatch(GatewayDispatchEvents.GuildCreate, guild.id, () =>
      guildCreatePayload(guild, this.botUser.id),
    );
    return guild;
  }

  /** The shard a guild's events go to (`(id >> 22) % shardCount`); shard 0 for DMs (no guild). */
  shardOf(guild: FakeGuild | string | undefined): number {
    return shardOfGuild(typeof guild === 'object' ? guild.id : guild, this.shardCount);
  }

  /**
   * A new text channel of a guild, age-restricted (`nsfw`) or not; clients already connected are
   * sent its CHANNEL_CREATE, so the bot's cache has it before any later event.
   */
  addChannel(options: { name: string; nsfw?: boolean; guild?: FakeGuild | string }): APITextChannel {
    const guild = this.resolveGuild(options.guild);
    const channel = {
      ...makeTextChannel(guild.id, options.name, guild.channels.length),
      nsfw: options.nsfw ?? false,
    };
    guild.channels.push(channel);
    this.state.channels.set(channel.id, channel);
    if (this.gateway.hasSessions)
      this.gateway.dispatch(GatewayDispatchEvents.ChannelCreate, guild.id, () => channel);
    return channel;
  }

  /** A public thread under `parent` (THREAD_CREATE to connected clients); it has no `nsfw` of its own. */
  addThread(parent: APITextChannel, name = 'a thread'): APIPublicThreadChannel {
    const guild = this.resolveGuild(parent.guild_id);
    const thread = makeThreadChannel(parent, name, this.defaultMember.user.id);
    guild.threads = [...(guild.threads ?? []), thread];
    this.state.channels.set(thread.id, thread);
    if (this.gateway.hasSessions)
      this.gateway.dispatch(GatewayDispatchEvents.ThreadCreate, guild.id, () => ({
        ...thread,
        newly_created: true,
      }));
    return thread;
  }

  /** The DM channel between the bot and `user` (created on first use). */
  dmChannel(user: APIUser | FakeMember): APIDMChannel {
    return this.state.dmChannelWith('user' in user ? user.user : user);
  }

  /** The bot's permissions (`app_permissions`, and checks on channel routes) in one channel, or everywhere. */
  setAppPermissions(permissions: PermissionsInput, channelId?: string): void {
    if (channelId) this.state.appPermissions.set(channelId, BigInt(permissions));
    else this.state.defaultAppPermissions = BigInt(permissions);
  }

  get registeredCommands(): RegisteredCommands {
    return {
      global: this.state.globalCommands,
      guilds: Object.fromEntries(this.state.guildCommands),
    };
  }

  // ---- gateway -------------------------------------------------------------------------------

  /**
   * Resolves when a client (of `options.shard`, if given) is connected and has been sent READY +
   * GUILD_CREATE (immediately if one is).
   */
  ready(options: ReadyOptions = {}): Promise<IdentifyRecord> {
    return this.gateway.ready(options.timeoutMs, options.shard);
  }

  /** Resolves when every shard `0 … shardCount - 1` has a ready client; one record per shard, in order. */
  allShardsReady(options: WaitOptions = {}): Promise<IdentifyRecord[]> {
    const shards = Array.from({ length: this.shardCount }, (_, shard) => shard);
    return Promise.all(shards.map((shard) => this.ready({ ...options, shard })));
  }

  /**
   * Resolves on the next IDENTIFY (or RESUME) completed after this call (of `options.shard`, if
   * given): use it around a bot restart.
   */
  nextReady(options: ReadyOptions = {}): Promise<IdentifyRecord> {
    return this.gateway.nextReady(options.timeoutMs, options.shard);
  }

  /** Every IDENTIFY accepted, oldest first (intents, shard, properties). */
  get identifies(): readonly IdentifyRecord[] {
    return this.gateway.identifies;
  }

  /** Every IDENTIFY answered by closing the socket (4004, 4010, 4011, 4014), oldest first. */
  get refusedIdentifies(): readonly RefusedIdentify[] {
    return this.gateway.refusedIdentifies;
  }

  /** Shard ids that have a connected, identified client now, ascending. */
  get connectedShards(): number[] {
    return this.gateway.connectedShards;
  }

  /**
   * Every event routed to the shards (not READY with its GUILD_CREATEs, RESUMED or member chunks),
   * oldest first: event, guild, the shard it went to, the sessions that were sent it.
   */
  get dispatches(): readonly DispatchRecord[] {
    return this.gateway.dispatches;
  }

  get lastIdentify(): IdentifyRecord | undefined {
    return this.gateway.identifies.at(-1);
  }

  /**
   * A member buys a consumable SKU (Premium Apps): the entitlement exists from now on (the list
   * route shows it until consumed); `event: true` also sends ENTITLEMENT_CREATE.
   */
  purchase(options: { userId: string; skuId: string; guildId?: string; event?: boolean }): FakeEntitlement {
    const entitlement: FakeEntitlement = {
      id: snowflake(),
      sku_id: options.skuId,
      application_id: this.state.applicationId,
      user_id: options.userId,
      ...(options.guildId ? { guild_id: options.guildId } : {}),
      type: 1,
      consumed: false,
      deleted: false,
      consumeCalls: 0,
    };
    this.state.entitlements.set(entitlement.id, entitlement);
    if (options.event ?? true) this.dispatchEntitlement(entitlement);
    return entitlement;
  }

  /** Sends ENTITLEMENT_CREATE for a purchase (again: Discord may deliver an event twice). */
  dispatchEntitlement(entitlement: FakeEntitlement): void {
    const { consumeCalls: _calls, ...payload } = entitlement;
    this.gateway.dispatch('ENTITLEMENT_CREATE', undefined, () => payload);
  }

  entitlement(id: string): FakeEntitlement | undefined {
    return this.state.entitlements.get(id);
  }

  /** Sends a raw dispatch to the sessions of the shard its guild (`guild_id`, or `id` of GUILD_*) routes to. */
  dispatch(event: string, data: unknown): void {
    this.gateway.dispatch(event, guildIdOf(event, data), () => data);
  }

  /** Sends op 7 (to `filter.shard` only, if given): discord.js reconnects and RESUMEs; events sent meanwhile are replayed. */
  requestReconnect(filter?: SessionFilter): void {
    this.gateway.requestReconnect(filter);
  }

  /** Closes every gateway socket (of `filter.shard`, if given) with `code` (default 4000, resumable). */
  disconnectAll(code?: number, filter?: SessionFilter): void {
    this.gateway.disconnectAll(code, filter);
  }

  // ---- interactions and messages from users --------------------------------------------------

  /** A slash command (INTERACTION_CREATE type 2, data.type 1). Attachments are served by the fake CDN. */
  slashCommand(options: SlashCommandOptions) {
    return this.factory.slashCommand(options);
  }

  autocomplete(options: AutocompleteOptions) {
    return this.factory.autocomplete(options);
  }

  /** A click on a button of a message in the fake (throws if it has no such enabled button, unless `force`). */
  clickButton(options: ButtonOptions) {
    return this.factory.clickButton(options);
  }

  /** A message context-menu command (data.type 3) targeting a message, unredacted, in `resolved.messages`. */
  messageContextMenu(options: MessageContextMenuOptions) {
    return this.factory.messageContextMenu(options);
  }

  /** Submits the modal the bot showed (mirrors its layout and checks required/min/max), or plain rows if none. */
  submitModal(options: SubmitModalOptions) {
    return this.factory.submitModal(options);
  }

  /** (Re)sends INTERACTION_CREATE for an interaction built with `dispatch: false`; restarts its 3 s clock. */
  dispatchInteraction(ix: FakeInteraction): void {
    if (!this.gateway.hasSessionFor(ix.guildId)) {
      const shard = this.shardCount > 1 ? ` of shard ${this.shardOf(ix.guildId)}` : '';
      throw new Error(
        `fake discord: no gateway client${shard} is connected; await discord.ready() before sending interactions`,
      );
    }
    ix.dispatchedAt = this.state.now();
    this.gateway.dispatch(GatewayDispatchEvents.InteractionCreate, ix.guildId, () => ix.payload);
  }

  /** A user (or webhook) message: stored, then MESSAGE_CREATE to clients with the right intents. */
  sendMessage(options: SendMessageOptions = {}): APIMessage {
    const state = this.state;
    const author = options.author ?? this.defaultMember;
    const user = 'user' in author ? author.user : author;
    const channel = options.dm
      ? state.dmChannelWith(user)
      : typeof options.channel === 'string'
        ? state.channels.get(options.channel)
        : (options.channel ?? this.channel);
    if (!channel) throw new Error(`fake discord: unknown channel ${String(options.channel)}`);
    const guildId = 'guild_id' in channel ? channel.guild_id : undefined;
    const at = options.createdAt ?? state.now();
    const webhookAuthor: APIUser | undefined = options.webhookId
      ? {
          id: options.webhookId,
          username: 'Captain Hook',
          discriminator: '0000',
          global_name: null,
          avatar: null,
          bot: true,
        }
      : undefined;
    const referenced = options.referencedMessage
      ? state.messages.get(
          typeof options.referencedMessage === 'string'
            ? options.referencedMessage
            : options.referencedMessage.id,
        )
      : undefined;
    if (options.referencedMessage && !referenced)
      throw new Error('fake discord: referencedMessage is not in the fake');
    let content = options.content ?? '';
    const botMention = `<@${this.botUser.id}>`;
    if (options.mentionsBot && !content.includes(botMention)) content = `${botMention} ${content}`.trimEnd();
    const message = baseMessage({
      channelId: channel.id,
      author: webhookAuthor ?? user,
      content,
      at,
      type: referenced ? MessageType.Reply : MessageType.Default,
    });
    message.embeds = options.embeds ?? [];
    message.attachments = (options.attachments ?? []).map((file) =>
      state.storeFile({
        channelId: channel.id,
        filename: file.filename,
        contentType: file.contentType,
        bytes: file.bytes === undefined ? undefined : Buffer.from(file.bytes),
        size: file.size,
        description: file.description,
      }),
    );
    Object.assign(
      message,
      mentionsOf(content, undefined, {
        defaultParse: ['users', 'roles', 'everyone'],
        findUser: (id) => state.users.get(id),
      }),
    );
    if (options.webhookId) message.webhook_id = options.webhookId;
    if (referenced) attachReply(message, referenced, options.replyPing ?? true);
    return state.addMessage({ message, guildId, origin: options.webhookId ? 'webhook' : 'user' }).message;
  }

  // ---- faults and limits ---------------------------------------------------------------------

  /**
   * Scripts the next `times` (default 1) matching requests: answer `status` (with `code`/`message`,
   * or a full 429 with `retryAfter`), after `delayMs` if given; with no `status` only delays.
   * `route` is a substring of the decoded path, an exact route pattern, or a RegExp on the path.
   */
  failNext(spec: FaultSpec): Fault {
    const fault: Fault = { ...spec, remaining: spec.times ?? 1, hits: 0 };
    this.rest.faults.push(fault);
    return fault;
  }

  clearFaults(): void {
    this.rest.faults.length = 0;
  }

  /**
   * Refuses, with 400 50035 Invalid Form Body, any request carrying a link button whose URL
   * `refuses` matches (every link button with no argument); `null` turns it off.
   */
  refuseLinkButtons(refuses: ((url: string) => boolean) | null = () => true): void {
    this.rest.refusesLinkUrl = refuses ?? undefined;
  }

  /** Answers 429 (scope shared) past `limit` edits of one message within `windowMs`; `null` turns it off. */
  enforceEditRateLimit(options: EditRateLimitOptions | null = {}): void {
    this.rest.editRateLimit = options
      ? { limit: options.limit ?? 5, windowMs: options.windowMs ?? 2_000, hits: new Map() }
      : undefined;
  }

  /** A moderator deletes a message: MESSAGE_DELETE goes out, and edits of it get 404 10008. */
  deleteMessage(message: MessageRef): void {
    const id = typeof message === 'string' ? message : message.id;
    const record = this.state.messages.get(id);
    if (!record || record.deleted) throw new Error(`fake discord: no live message ${id} to delete`);
    this.state.deleteMessage(record);
  }

  /** Makes this interaction's token invalid now: edits and followups get 401 50027. */
  expireToken(ix: FakeInteraction): void {
    ix.tokenRevoked = true;
  }

  // ---- inspection ----------------------------------------------------------------------------

  /** Every HTTP request received (API and CDN), in completion order, with parsed body and uploaded files. */
  get requests(): readonly RequestRecord[] {
    return this.state.requests;
  }

  /** The current length of `requests`: pass it as `since` to wait only for what comes after. */
  mark(): number {
    return this.state.requests.length;
  }

  /** Requests that used this interaction's id or token (callback, @original, followups). */
  requestsFor(ix: FakeInteraction): RequestRecord[] {
    return this.state.requests.filter((request) => request.interactionId === ix.id);
  }

  /** Resolves with the first request (already logged from `since`, or future) matching `predicate`. */
  waitForRequest(
    predicate: (request: RequestRecord) => boolean,
    options: RequestWaitOptions = {},
  ): Promise<RequestRecord> {
    return this.state.requestWatch.wait(predicate, {
      timeoutMs: options.timeoutMs,
      existing: this.state.requests.slice(options.since ?? 0),
      what: options.what ?? 'a matching request',
      history: () => this.state.describeRecentRequests(),
    });
  }

  /** Resolves with the successful callback request (defer, reply, update, modal…) of this interaction. */
  waitForCallback(ix: FakeInteraction, options: WaitOptions = {}): Promise<RequestRecord> {
    return this.waitForRequest(
      (request) =>
        request.interactionId === ix.id && request.route.endsWith('/callback') && request.status < 300,
      { ...options, what: `the callback of interaction ${ix.id}` },
    );
  }

  /** Resolves with the first message state (existing or future create/edit) matching `predicate`. */
  waitForMessage(
    predicate: (message: APIMessage, record: MessageRecord) => boolean,
    options: MessageWaitOptions = {},
  ): Promise<APIMessage> {
    const matches = (record: MessageRecord) =>
      !record.deleted &&
      (options.channelId === undefined || record.channelId === options.channelId) &&
      predicate(asSeen(record.message), record);
    const existing = options.includeExisting === false ? [] : this.state.messages.values();
    return this.state.messageWatch
      .wait(matches, {
        timeoutMs: options.timeoutMs,
        existing,
        what: 'a matching message',
        history: () => this.describeRecentMessages(),
      })
      .then((record) => asSeen(record.message));
  }

  /** Resolves when this interaction's `@original` message satisfies `predicate` (default: it exists). */
  waitForOriginal(
    ix: FakeInteraction,
    predicate: (message: APIMessage) => boolean = () => true,
    options: WaitOptions = {},
  ): Promise<APIMessage> {
    return this.waitForMessage(
      (message, record) => record.id === ix.originalMessageId && predicate(message),
      options,
    );
  }

  /** The current state of the interaction's `@original` (reply, deferred reply, or updated component message). */
  originalResponse(ix: FakeInteraction | string): APIMessage | undefined {
    const found =
      typeof ix === 'string'
        ? (this.state.interactionsByToken.get(ix) ?? this.state.interactions.get(ix))
        : ix;
    return found?.originalMessageId ? this.messageState(found.originalMessageId) : undefined;
  }

  /** The interaction's followup messages, current states. */
  followups(ix: FakeInteraction): APIMessage[] {
    return ix.followupIds.map((id) => this.messageState(id)).filter((message) => message !== undefined);
  }

  /** Current state of a live message (undefined if unknown or deleted). */
  messageState(id: string): APIMessage | undefined {
    const record = this.state.messages.get(id);
    return record && !record.deleted ? asSeen(record.message) : undefined;
  }

  /** The full record: history of states, ephemeral, deleted, origin, interaction. */
  messageRecord(id: string): MessageRecord | undefined {
    return this.state.messages.get(id);
  }

  /** Every state of a message, oldest first (e.g. loading → 10% → 50% → done with file). */
  messageHistory(id: string): APIMessage[] {
    return (this.state.messages.get(id)?.history ?? []).map(asSeen);
  }

  /** Live messages of a channel (default `discord.channel`), oldest first, ephemeral ones included. */
  channelMessages(
    channel: FakeChannel | string = this.channel,
    options: { includeEphemeral?: boolean } = {},
  ): APIMessage[] {
    const channelId = typeof channel === 'string' ? channel : channel.id;
    return [...this.state.messages.values()]
      .filter((record) => record.channelId === channelId && !record.deleted)
      .filter((record) => options.includeEphemeral !== false || !record.ephemeral)
      .map((record) => asSeen(record.message));
  }

  /** The bytes the fake CDN serves for an attachment (object, URL or id). */
  attachmentBytes(attachment: APIAttachment | string): Buffer | undefined {
    const ref = typeof attachment === 'string' ? attachment : attachment.id;
    const id = /\/attachments\/\d+\/(\d+)\//.exec(ref)?.[1] ?? ref;
    const file = this.state.files.get(id);
    return file ? (file.bytes ?? Buffer.alloc(file.size)) : undefined;
  }

  /** Reactions the bot added (`PUT …/reactions/:emoji/@me`). */
  get reactions(): readonly { channelId: string; messageId: string; emoji: string; at: number }[] {
    return this.state.reactions;
  }

  async close(): Promise<void> {
    const closed = new Error('fake discord closed');
    this.rest.close();
    this.gateway.close();
    this.state.messageWatch.rejectAll(closed);
    this.state.requestWatch.rejectAll(closed);
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ---- internals -----------------------------------------------------------------------------

  private addGuild(name: string, channelNames: string[], shardId: number): FakeGuild {
    const id = snowflakeOnShard(shardId, this.shardCount);
    const owner = makeUser({ username: `${name.split(' ')[0]?.toLowerCase()}-owner` });
    const botRole = makeRole({
      name: this.botUser.username,
      permissions: DEFAULT_APP_PERMISSIONS,
      managed: true,
      botId: this.botUser.id,
    });
    const guild: FakeGuild = {
      id,
      name,
      ownerId: owner.id,
      roles: [
        makeRole({ id, name: '@everyone', permissions: DEFAULT_MEMBER_PERMISSIONS, position: 0 }),
        botRole,
      ],
      channels: channelNames.map((channelName, position) => makeTextChannel(id, channelName, position)),
      members: new Map(),
      joinedAt: isoTime(this.state.now() - 7 * 86_400_000),
    };
    this.state.users.set(owner.id, owner);
    this.state.guilds.set(id, guild);
    for (const channel of guild.channels) this.state.channels.set(channel.id, channel);
    guild.members.set(this.botUser.id, {
      user: this.botUser,
      guildId: id,
      roles: [botRole.id],
      permissions: permissionString(DEFAULT_APP_PERMISSIONS),
      nick: null,
      joinedAt: guild.joinedAt,
    });
    return guild;
  }

  private resolveGuild(guild: FakeGuild | string | undefined): FakeGuild {
    if (guild === undefined) return this.guild;
    if (typeof guild !== 'string') return guild;
    const found = this.state.guilds.get(guild);
    if (!found) throw new Error(`fake discord: unknown guild ${guild}`);
    return found;
  }

  private guildsOfShard([shardId, shardCount]: [number, number]): FakeGuild[] {
    return [...this.state.guilds.values()].filter((guild) => shardOfGuild(guild.id, shardCount) === shardId);
  }

  private membersChunk(request: GatewayRequestGuildMembersData): GatewayGuildMembersChunkDispatchData {
    const members = [...(this.state.guilds.get(request.guild_id)?.members.values() ?? [])];
    const wanted = 'user_ids' in request ? [request.user_ids].flat() : undefined;
    const found = wanted
      ? members.filter((member) => wanted.includes(member.user.id))
      : members
          .filter((member) => member.user.username.startsWith('query' in request ? request.query : ''))
          .slice(0, 'limit' in request && request.limit > 0 ? request.limit : undefined);
    return {
      guild_id: request.guild_id,
      members: found.map(guildMemberPayload),
      chunk_index: 0,
      chunk_count: 1,
      not_found: wanted?.filter((id) => !found.some((member) => member.user.id === id)) ?? [],
      ...(request.nonce ? { nonce: request.nonce } : {}),
    };
  }

  /** MESSAGE_* to each session, by intent; content, embeds, attachments and components blanked without MessageContent. */
  private dispatchMessageEvent(event: MessageEvent, record: MessageRecord): void {
    if (record.ephemeral) return;
    const own = record.message.author.id === this.botUser.id;
    if (own && !this.settings.dispatchOwnMessages) return;
    const name = {
      create: GatewayDispatchEvents.MessageCreate,
      update: GatewayDispatchEvents.MessageUpdate,
      delete: GatewayDispatchEvents.MessageDelete,
    }[event];
    const guildId = record.guildId;
    const member =
      guildId && !record.message.webhook_id
        ? this.state.memberOf(guildId, record.message.author.id)
        : undefined;
    this.gateway.dispatch(name, guildId, ({ intents }) => {
      const needed = guildId ? Intent.GuildMessages : Intent.DirectMessages;
      if ((intents & needed) === 0) return undefined;
      if (event === 'delete')
        return { id: record.id, channel_id: record.channelId, ...(guildId ? { guild_id: guildId } : {}) };
      const exempt = !guildId || own || record.message.mentions.some((user) => user.id === this.botUser.id);
      const visible =
        (intents & Intent.MessageContent) !== 0 || exempt
          ? record.message
          : { ...record.message, content: '', embeds: [], attachments: [], components: [], poll: undefined };
      return {
        ...visible,
        // Discord says which kind of channel it is; discord.js needs it to build uncached DM channels.
        channel_type: this.state.channels.get(record.channelId)?.type ?? (guildId ? 0 : 1),
        ...(guildId ? { guild_id: guildId } : {}),
        ...(member ? { member: messageMemberPayload(member) } : {}),
      };
    });
  }

  private describeRecentMessages(): string {
    const recent = [...this.state.messages.values()].slice(-6);
    if (recent.length === 0) return '\n  (no messages in the fake yet)';
    return `\n  last messages:\n${recent
      .map(
        (record) =>
          `    ${record.id} in ${record.channelId} by ${record.message.author.username}${record.deleted ? ' (deleted)' : ''}: ${JSON.stringify(visibleText(record.message)).slice(0, 80)} [${record.message.attachments.length} files, flags ${record.message.flags ?? 0}]`,
      )
      .join('\n')}${this.state.describeRecentRequests(4)}`;
  }
}

/** The guild a raw dispatch belongs to: `guild_id`, or `id` for the guild's own events. */
function guildIdOf(event: string, data: unknown): string | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const { guild_id: guildId, id } = data as { guild_id?: unknown; id?: unknown };
  if (typeof guildId === 'string') return guildId;
  const ownEvents: string[] = [
    GatewayDispatchEvents.GuildCreate,
    GatewayDispatchEvents.GuildUpdate,
    GatewayDispatchEvents.GuildDelete,
  ];
  return ownEvents.includes(event) && typeof id === 'string' ? id : undefined;
}

/**
 * A message as tests read it: a Components V2 card's `content` is what a member reads in it (its
 * Text Displays and buttons' labels, see `visibleText`), so assertions on a job's text hold for
 * cards and text messages alike. The bot itself always gets Discord's shape (empty `content`);
 * `messageRecord` keeps the raw states too.
 */
export function asSeen(message: APIMessage): APIMessage {
  return ((message.flags ?? 0) & MessageFlags.IsComponentsV2) === 0
    ? message
    : { ...message, content: visibleText(message) };
}
