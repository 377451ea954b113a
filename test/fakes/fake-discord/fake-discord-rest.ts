import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type APIApplicationCommand,
  type APIMessage,
  type APIModalInteractionResponseCallbackData,
  type APIUser,
  ApplicationCommandType,
  InteractionResponseType,
  InteractionType,
  MessageType,
  PermissionFlagsBits,
  type RESTPostAPIApplicationCommandsJSONBody,
  type RESTPostAPIInteractionCallbackWithResponseResult,
} from 'discord-api-types/v10';
import { validateCommands } from './fake-discord-commands.ts';
import {
  bucketOf,
  DiscordError,
  discordError,
  type Fault,
  faultFailure,
  faultMatches,
  formError,
  genericRoute,
  HttpFailure,
  matchPattern,
  type ParsedBody,
  parseBody,
  permissiveHeaders,
  rateLimitHeaders,
  readBody,
  tooManyRequests,
  type UploadedFile,
  writeJson,
} from './fake-discord-http.ts';
import {
  type ApplyContext,
  applyMessageBody,
  asMessageBody,
  attachReply,
  type MentionKind,
} from './fake-discord-messages.ts';
import {
  applicationPayload,
  baseMessage,
  guildCreatePayload,
  guildMemberPayload,
  hasPermission,
  MessageFlag,
} from './fake-discord-payloads.ts';
import type {
  AuthKind,
  FakeDiscordState,
  FakeInteraction,
  MessageOrigin,
  MessageRecord,
  RequestRecord,
} from './fake-discord-state.ts';
import { snowflake } from './snowflake.ts';

/**
 * The REST half of the fake: routes below `/api/v10`, the CDN below `/attachments`, auth by bot
 * token or by the token in the URL, the request log, `failNext` faults and the edit rate limiter.
 */

/** Knobs a test may change at any time through `discord.settings`. */
export interface FakeDiscordSettings {
  /** Interaction tokens (edits, followups) die this long after the interaction's creation. Default 15 min. */
  tokenLifetimeMs: number;
  /** The interaction callback must arrive within this long after dispatch, else 404 10062. Default 3000. */
  callbackDeadlineMs: number;
  /** Per-file upload limit on bot routes (`channel.send`, message edits). Default 10 MiB. */
  guildUploadLimit: number;
  /** Send MESSAGE_CREATE/UPDATE/DELETE for the bot's own messages too, as Discord does. Default true. */
  dispatchOwnMessages: boolean;
}

interface Context {
  params: Record<string, string>;
  query: URLSearchParams;
  body: ParsedBody;
  log: RequestRecord;
}

interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

interface RouteDef {
  method: string;
  pattern: string;
  /** `bot`: needs `Authorization: Bot <token>`; `url`: authenticated by the token in the path. */
  auth: 'bot' | 'url';
  handle(context: Context): Reply | Promise<Reply>;
}

const API_PREFIX = '/api/v10';
const OK = (body: unknown): Reply => ({ status: 200, body });
const NO_CONTENT: Reply = { status: 204 };
const WEBHOOK_MENTIONS: MentionKind[] = ['users'];
const CHANNEL_MENTIONS: MentionKind[] = ['users', 'roles', 'everyone'];

interface EditRateLimit {
  limit: number;
  windowMs: number;
  hits: Map<string, number[]>;
}

export class FakeRest {
  readonly faults: Fault[] = [];
  editRateLimit: EditRateLimit | undefined;
  /** Link-button (and external media) URLs to answer 400 50035 for, as Discord does for URLs it will not take. */
  refusesLinkUrl: ((url: string) => boolean) | undefined;
  private readonly routes: RouteDef[];
  private readonly timers = new Set<AbortController>();

  constructor(
    private readonly state: FakeDiscordState,
    private readonly settings: FakeDiscordSettings,
    private readonly botToken: string,
    private readonly gatewayUrl: string,
  ) {
    this.routes = this.defineRoutes();
  }

  close(): void {
    for (const controller of this.timers) controller.abort();
  }

  async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const at = Date.now();
    const url = new URL(request.url ?? '/', 'http://fake.invalid');
    const method = (request.method ?? 'GET').toUpperCase();
    const decoded = safeDecode(url.pathname);
    const isApi = decoded.startsWith(`${API_PREFIX}/`);
    const path = isApi ? decoded.slice(API_PREFIX.length) : decoded;
    const raw = await readBody(request);
    const found = isApi ? this.match(method, path) : undefined;
    const route =
      found?.def.pattern ??
      (isCdnPath(path) ? '/attachments/:channelId/:attachmentId/:filename' : genericRoute(path));
    const log: RequestRecord = {
      index: -1,
      at,
      durationMs: 0,
      method,
      path,
      query: Object.fromEntries(url.searchParams),
      route,
      auth: this.authOf(request.headers.authorization),
      headers: flatHeaders(request),
      body: undefined,
      files: [],
      status: 0,
      response: undefined,
      injected: false,
      interactionId: this.interactionIdOf(found?.params),
      messageId: found?.params.messageId === '@original' ? undefined : found?.params.messageId,
    };
    const { reply, file } = await this.answer(request, raw, url, isApi, found, log);
    log.status = reply.status;
    log.response = reply.body;
    log.durationMs = Date.now() - at;
    log.index = this.state.requests.length;
    this.state.requests.push(log);
    if (file && !response.destroyed) {
      response.writeHead(200, {
        'content-type': file.contentType,
        'content-length': String(file.bytes.length),
      });
      response.end(method === 'HEAD' ? undefined : file.bytes);
    } else {
      const headers = reply.status === 429 ? {} : permissiveHeaders(route);
      writeJson(response, reply.status, reply.body, { ...headers, ...reply.headers });
    }
    this.state.requestWatch.emit(log);
  }

  /** Faults first, then auth, then the route's handler (or the CDN); errors become Discord-shaped replies. */
  private async answer(
    request: IncomingMessage,
    raw: Buffer,
    url: URL,
    isApi: boolean,
    found: { def: RouteDef; params: Record<string, string> } | undefined,
    log: RequestRecord,
  ): Promise<{ reply: Reply; file?: { bytes: Buffer; contentType: string } }> {
    try {
      const parsed = isApi
        ? await parseBody(raw, request.headers['content-type'])
        : { json: undefined, files: [] };
      log.body = parsed.json;
      log.files = parsed.files;
      const fault = this.faults.find((candidate) =>
        faultMatches(candidate, log.method, log.path, log.route, log.files.length > 0, log.body),
      );
      if (fault) {
        fault.remaining -= 1;
        fault.hits += 1;
        if (fault.delayMs) await this.delay(fault.delayMs);
        if (fault.status !== undefined) {
          log.injected = true;
          throw faultFailure(fault);
        }
      }
      if (!isApi) return { reply: { status: 200 }, file: this.serveCdn(log.path) };
      this.checkLinkButtons(parsed.json);
      if (!found) return { reply: { status: 404, body: { message: '404: Not Found', code: 0 } } };
      if (found.def.auth === 'bot' && log.auth !== 'bot') throw new DiscordError(401, 0, '401: Unauthorized');
      return {
        reply: await found.def.handle({ params: found.params, query: url.searchParams, body: parsed, log }),
      };
    } catch (error) {
      if (error instanceof HttpFailure) {
        if (error.status === 429) log.injected = true;
        return { reply: { status: error.status, body: error.body, headers: error.headers } };
      }
      console.error('fake discord: handler crashed', error);
      return { reply: { status: 500, body: { message: `fake discord crashed: ${String(error)}`, code: 0 } } };
    }
  }

  /** 400 50035 when any link button (style 5) or external gallery media in the body has a URL `refusesLinkUrl` matches. */
  private checkLinkButtons(json: unknown): void {
    const refuses = this.refusesLinkUrl;
    if (!refuses) return;
    const url = findLinkUrls(json).find(refuses);
    if (url !== undefined) {
      throw formError(
        'components.0.components.0.url',
        'URL_TYPE_INVALID_URL',
        `Not a well formed URL: ${url}`,
      );
    }
  }

  /** Answers 429 past `limit` PATCHes of one message within `windowMs`. Returns the headers for an allowed edit. */
  private checkEditRate(messageId: string): Record<string, string> {
    const rate = this.editRateLimit;
    if (!rate) return {};
    const now = Date.now();
    const hits = (rate.hits.get(messageId) ?? []).filter((hit) => now - hit < rate.windowMs);
    const bucket = bucketOf(`edit:${messageId}`);
    if (hits.length >= rate.limit) {
      rate.hits.set(messageId, hits);
      const retryAfterSeconds = Math.max(0.001, (rate.windowMs - (now - (hits[0] ?? now))) / 1000);
      throw tooManyRequests({ retryAfterSeconds, bucket, limit: rate.limit, scope: 'shared' });
    }
    hits.push(now);
    rate.hits.set(messageId, hits);
    const resetAfterSeconds = (rate.windowMs - (now - (hits[0] ?? now))) / 1000;
    return rateLimitHeaders({
      limit: rate.limit,
      remaining: rate.limit - hits.length,
      resetAfterSeconds,
      bucket,
    });
  }

  private async delay(ms: number): Promise<void> {
    const controller = new AbortController();
    this.timers.add(controller);
    try {
      await sleep(ms, undefined, { signal: controller.signal });
    } catch {
      // closed while waiting
    } finally {
      this.timers.delete(controller);
    }
  }

  private match(method: string, path: string): { def: RouteDef; params: Record<string, string> } | undefined {
    const lookup = method === 'HEAD' ? 'GET' : method;
    for (const def of this.routes) {
      if (def.method !== lookup) continue;
      const params = matchPattern(def.pattern, path);
      if (params) return { def, params };
    }
    return undefined;
  }

  /** Interaction routes are logged with the interaction even when a fault answers before the handler. */
  private interactionIdOf(params: Record<string, string> | undefined): string | undefined {
    if (!params) return undefined;
    if (params.interactionId && this.state.interactions.has(params.interactionId))
      return params.interactionId;
    return params.token ? this.state.interactionsByToken.get(params.token)?.id : undefined;
  }

  private authOf(header: string | undefined): AuthKind {
    if (!header) return 'none';
    if (header === `Bot ${this.botToken}`) return 'bot';
    return header.startsWith('Bot ') ? 'invalid' : 'other';
  }

  private serveCdn(path: string): { bytes: Buffer; contentType: string } {
    const id = /^(?:\/media)?\/attachments\/\d+\/(\d+)\//.exec(path)?.[1];
    const file = id ? this.state.files.get(id) : undefined;
    if (!file) throw new HttpFailure(404, { message: 'Not Found (fake CDN)' });
    return { bytes: file.bytes ?? Buffer.alloc(file.size), contentType: file.contentType };
  }

  private defineRoutes(): RouteDef[] {
    const bot = (method: string, pattern: string, handle: RouteDef['handle']): RouteDef => ({
      method,
      pattern,
      auth: 'bot',
      handle,
    });
    const url = (method: string, pattern: string, handle: RouteDef['handle']): RouteDef => ({
      method,
      pattern,
      auth: 'url',
      handle,
    });
    const state = this.state;
    const original = '/webhooks/:applicationId/:token/messages/@original';
    const webhookMessage = '/webhooks/:applicationId/:token/messages/:messageId';
    return [
      bot('GET', '/gateway/bot', () =>
        OK({
          url: this.gatewayUrl,
          shards: state.gatewayBot.shardCount,
          session_start_limit: {
            total: 1000,
            remaining: 999,
            reset_after: 86_400_000,
            max_concurrency: state.gatewayBot.maxConcurrency,
          },
        }),
      ),
      url('GET', '/gateway', () => OK({ url: this.gatewayUrl })),
      bot('GET', '/users/@me', () => OK(state.botUser)),
      bot('POST', '/users/@me/channels', ({ body }) => {
        const recipient = state.users.get(String((body.json as { recipient_id?: string })?.recipient_id));
        if (!recipient) throw discordError(400, 50035, 'Invalid Recipient(s)');
        return OK(state.dmChannelWith(recipient));
      }),
      bot('GET', '/users/:userId', ({ params }) => OK(this.user(params.userId))),
      bot('GET', '/applications/@me', () => OK(applicationPayload(state.applicationId, state.botUser))),
      // Premium Apps: the entitlements list (unconsumed ones, with exclude_ended) and consume.
      bot('GET', '/applications/:applicationId/entitlements', ({ query }) => {
        const userId = query.get('user_id');
        return OK(
          [...state.entitlements.values()]
            .filter((each) => !each.deleted && (!userId || each.user_id === userId))
            .filter((each) => query.get('exclude_ended') !== 'true' || !each.consumed)
            .map(({ consumeCalls: _calls, ...entitlement }) => entitlement),
        );
      }),
      bot('POST', '/applications/:applicationId/entitlements/:entitlementId/consume', ({ params }) => {
        const entitlement = state.entitlements.get(params.entitlementId ?? '');
        if (!entitlement) throw new HttpFailure(404, { message: 'Unknown Entitlement', code: 10_075 });
        entitlement.consumed = true;
        entitlement.consumeCalls += 1;
        return NO_CONTENT;
      }),
      bot('GET', '/applications/:applicationId/commands', ({ params }) => OK(this.commands(params).list)),
      bot('PUT', '/applications/:applicationId/commands', (context) => this.overwriteCommands(context)),
      bot('POST', '/applications/:applicationId/commands', (context) => this.createCommand(context)),
      bot('DELETE', '/applications/:applicationId/commands/:commandId', (context) =>
        this.deleteCommand(context),
      ),
      bot('GET', '/applications/:applicationId/guilds/:guildId/commands', ({ params }) =>
        OK(this.commands(params).list),
      ),
      bot('PUT', '/applications/:applicationId/guilds/:guildId/commands', (context) =>
        this.overwriteCommands(context),
      ),
      bot('POST', '/applications/:applicationId/guilds/:guildId/commands', (context) =>
        this.createCommand(context),
      ),
      bot('DELETE', '/applications/:applicationId/guilds/:guildId/commands/:commandId', (context) =>
        this.deleteCommand(context),
      ),
      bot('GET', '/guilds/:guildId', ({ params }) => {
        const {
          channels: _channels,
          members: _members,
          ...guild
        } = guildCreatePayload(this.guild(params.guildId), state.botUser.id);
        return OK(guild);
      }),
      bot('GET', '/guilds/:guildId/channels', ({ params }) => OK(this.guild(params.guildId).channels)),
      bot('GET', '/guilds/:guildId/roles', ({ params }) => OK(this.guild(params.guildId).roles)),
      bot('GET', '/guilds/:guildId/members/:userId', ({ params }) => {
        const member = this.guild(params.guildId).members.get(params.userId ?? '');
        if (!member) throw discordError(404, 10007);
        return OK(guildMemberPayload(member));
      }),
      bot('GET', '/channels/:channelId', ({ params }) => OK(this.channel(params.channelId))),
      bot('POST', '/channels/:channelId/typing', ({ params }) => {
        this.channel(params.channelId);
        return NO_CONTENT;
      }),
      bot('GET', '/channels/:channelId/messages', (context) => this.listChannelMessages(context)),
      bot('POST', '/channels/:channelId/messages', (context) => this.postChannelMessage(context)),
      bot('GET', '/channels/:channelId/messages/:messageId', ({ params, log }) =>
        OK(this.channelMessage(params, log).message),
      ),
      bot('PATCH', '/channels/:channelId/messages/:messageId', (context) => this.editChannelMessage(context)),
      bot('DELETE', '/channels/:channelId/messages/:messageId', (context) =>
        this.deleteChannelMessage(context),
      ),
      bot('PUT', '/channels/:channelId/messages/:messageId/reactions/:emoji/@me', ({ params, log }) => {
        const record = this.channelMessage(params, log);
        state.reactions.push({
          channelId: record.channelId,
          messageId: record.id,
          emoji: params.emoji ?? '',
          at: Date.now(),
        });
        return NO_CONTENT;
      }),
      url('POST', '/interactions/:interactionId/:token/callback', (context) => this.callback(context)),
      url('GET', original, (context) => OK(this.webhookTarget(context).record.message)),
      url('PATCH', original, (context) => this.editWebhookMessage(context)),
      url('DELETE', original, (context) => this.deleteWebhookMessage(context)),
      url('GET', webhookMessage, (context) => OK(this.webhookTarget(context).record.message)),
      url('PATCH', webhookMessage, (context) => this.editWebhookMessage(context)),
      url('DELETE', webhookMessage, (context) => this.deleteWebhookMessage(context)),
      url('POST', '/webhooks/:applicationId/:token', (context) => this.followup(context)),
    ];
  }

  // ---- lookups -------------------------------------------------------------------------------

  private user(id: string | undefined): APIUser {
    const user = id ? this.state.users.get(id) : undefined;
    if (!user) throw discordError(404, 10013);
    return user;
  }

  private guild(id: string | undefined) {
    const guild = id ? this.state.guilds.get(id) : undefined;
    if (!guild) throw discordError(404, 10004, 'Unknown Guild');
    return guild;
  }

  private channel(id: string | undefined) {
    const channel = id ? this.state.channels.get(id) : undefined;
    if (!channel) throw discordError(404, 10003);
    // A server the bot is not in: its channels are closed to the bot's token (Missing Access).
    if ('guild_id' in channel && channel.guild_id && this.state.guildsWithoutBot.has(channel.guild_id))
      throw discordError(403, 50001);
    if (this.state.channelsWithoutBot.has(channel.id)) throw discordError(403, 50001);
    return channel;
  }

  private channelMessage(params: Record<string, string>, log: RequestRecord): MessageRecord {
    this.channel(params.channelId);
    log.messageId = params.messageId;
    const record = this.state.channelMessage(params.channelId ?? '', params.messageId ?? '');
    if (!record) throw discordError(404, 10008);
    return record;
  }

  private requireAppPermissions(channelId: string, needed: bigint[]): void {
    if (!this.state.guildOf(channelId)) return;
    const permissions = this.state.appPermissionsIn(channelId);
    if (!needed.every((flag) => hasPermission(permissions, flag))) throw discordError(403, 50013);
  }

  private applyContext(
    channelId: string,
    creating: boolean,
    defaultParse: MentionKind[],
    ephemeral = false,
  ): ApplyContext {
    return {
      creating,
      now: this.state.now(),
      defaultParse,
      storeUpload: (upload, filename, description) =>
        this.state.storeFile({
          channelId,
          filename,
          contentType: upload.contentType,
          bytes: upload.bytes,
          description,
          ephemeral,
        }),
      findUser: (id) => this.state.users.get(id),
    };
  }

  // ---- application commands -----------------------------------------------------------------

  private commands(params: Record<string, string>): {
    list: APIApplicationCommand[];
    guildId: string | undefined;
  } {
    if (params.applicationId !== this.state.applicationId) throw discordError(403, 20012);
    const guildId = params.guildId;
    if (!guildId) return { list: this.state.globalCommands, guildId };
    if (!this.state.guilds.has(guildId)) throw discordError(403, 50001);
    let list = this.state.guildCommands.get(guildId);
    if (!list) {
      list = [];
      this.state.guildCommands.set(guildId, list);
    }
    return { list, guildId };
  }

  private toStored(
    body: RESTPostAPIApplicationCommandsJSONBody,
    existing: APIApplicationCommand[],
    guildId: string | undefined,
  ): APIApplicationCommand {
    const type = body.type ?? ApplicationCommandType.ChatInput;
    const previous = existing.find((command) => command.name === body.name && command.type === type);
    return {
      ...(body as object),
      id: previous?.id ?? snowflake(),
      application_id: this.state.applicationId,
      ...(guildId ? { guild_id: guildId } : {}),
      name: body.name,
      description:
        type === ApplicationCommandType.ChatInput && 'description' in body ? (body.description ?? '') : '',
      type,
      version: snowflake(),
      default_member_permissions: body.default_member_permissions ?? null,
      nsfw: body.nsfw ?? false,
    } as APIApplicationCommand;
  }

  private overwriteCommands({ params, body }: Context): Reply {
    const { list, guildId } = this.commands(params);
    if (!Array.isArray(body.json)) throw formError('_root', 'LIST_TYPE_CONVERT', 'Must be an array.');
    const bodies = body.json as RESTPostAPIApplicationCommandsJSONBody[];
    validateCommands(bodies);
    const stored = bodies.map((command) => this.toStored(command, list, guildId));
    list.splice(0, list.length, ...stored);
    return OK(stored);
  }

  private createCommand({ params, body }: Context): Reply {
    const { list, guildId } = this.commands(params);
    const command = body.json as RESTPostAPIApplicationCommandsJSONBody;
    validateCommands([command]);
    const stored = this.toStored(command, list, guildId);
    const index = list.findIndex((existing) => existing.id === stored.id);
    if (index >= 0) list[index] = stored;
    else list.push(stored);
    return { status: index >= 0 ? 200 : 201, body: stored };
  }

  private deleteCommand({ params }: Context): Reply {
    const { list } = this.commands(params);
    const index = list.findIndex((command) => command.id === params.commandId);
    if (index < 0) throw discordError(404, 10063, 'Unknown application command');
    list.splice(index, 1);
    return NO_CONTENT;
  }

  // ---- channel messages (bot token) ----------------------------------------------------------

  private listChannelMessages({ params, query }: Context): Reply {
    const channel = this.channel(params.channelId);
    const limit = Math.min(100, Math.max(1, Number(query.get('limit') ?? 50)));
    const before = query.get('before');
    const after = query.get('after');
    const messages = [...this.state.messages.values()]
      .filter((record) => record.channelId === channel.id && !record.deleted && !record.ephemeral)
      .filter(
        (record) =>
          (!before || BigInt(record.id) < BigInt(before)) && (!after || BigInt(record.id) > BigInt(after)),
      )
      .map((record) => record.message)
      .reverse()
      .slice(0, limit);
    return OK(messages);
  }

  private postChannelMessage({ params, body, log }: Context): Reply {
    const channel = this.channel(params.channelId);
    const json = asMessageBody(body.json);
    const needed = [PermissionFlagsBits.ViewChannel, PermissionFlagsBits.SendMessages];
    if (body.files.length > 0) needed.push(PermissionFlagsBits.AttachFiles);
    this.requireAppPermissions(channel.id, needed);
    checkUploads(body.files, this.settings.guildUploadLimit);
    const reference = json.message_reference;
    const referenced = reference
      ? this.state.channelMessage(reference.channel_id ?? channel.id, reference.message_id)
      : undefined;
    if (reference && !referenced && reference.fail_if_not_exists !== false) {
      throw formError('message_reference', 'MESSAGE_REFERENCE_UNKNOWN_MESSAGE', 'Unknown message');
    }
    const at = this.state.now();
    const base = baseMessage({
      channelId: channel.id,
      author: this.state.botUser,
      at,
      type: referenced ? MessageType.Reply : MessageType.Default,
    });
    const message = applyMessageBody(
      base,
      json,
      body.files,
      this.applyContext(channel.id, true, CHANNEL_MENTIONS),
    );
    if (referenced) attachReply(message, referenced, json.allowed_mentions?.replied_user ?? true);
    const record = this.state.addMessage({
      message,
      guildId: this.state.guildOf(channel.id)?.id,
      origin: 'bot',
    });
    log.messageId = record.id;
    return OK(record.message);
  }

  private editChannelMessage({ params, body, log }: Context): Reply {
    const record = this.channelMessage(params, log);
    if (record.message.author.id !== this.state.botUser.id) throw discordError(403, 50005);
    checkUploads(body.files, this.settings.guildUploadLimit);
    const headers = this.checkEditRate(record.id);
    const next = applyMessageBody(
      record.message,
      asMessageBody(body.json),
      body.files,
      this.applyContext(record.channelId, false, CHANNEL_MENTIONS),
    );
    this.state.updateMessage(record, next);
    return { status: 200, body: next, headers };
  }

  private deleteChannelMessage({ params, log }: Context): Reply {
    const record = this.channelMessage(params, log);
    if (record.message.author.id !== this.state.botUser.id) {
      this.requireAppPermissions(record.channelId, [PermissionFlagsBits.ManageMessages]);
    }
    this.state.deleteMessage(record);
    return NO_CONTENT;
  }

  // ---- interaction callback ------------------------------------------------------------------

  private callback({ params, body, query, log }: Context): Reply {
    const ix = this.state.interactions.get(params.interactionId ?? '');
    if (!ix || ix.token !== params.token) throw discordError(404, 10062);
    log.interactionId = ix.id;
    if (ix.acknowledged) throw discordError(400, 40060);
    if (this.state.now() - ix.dispatchedAt > this.settings.callbackDeadlineMs) throw discordError(404, 10062);
    const response = (body.json ?? {}) as { type?: InteractionResponseType; data?: unknown };
    const type = response.type;
    if (type === undefined || !allowedCallbacks(ix).includes(type)) {
      throw formError(
        'type',
        'INTERACTION_RESPONSE_TYPE_INVALID',
        `Callback type ${String(type)} is not valid here.`,
      );
    }
    checkUploads(body.files, ix.attachmentSizeLimit);
    const data = asMessageBody(response.data);
    const componentMessage = 'message' in ix.payload ? ix.payload.message : undefined;
    let message: APIMessage | undefined;
    switch (type) {
      case InteractionResponseType.ChannelMessageWithSource:
        message = this.createInteractionMessage(ix, data, body.files, 'interaction').message;
        break;
      case InteractionResponseType.DeferredChannelMessageWithSource:
        message = this.createLoadingMessage(ix, data.flags ?? 0).message;
        break;
      case InteractionResponseType.DeferredMessageUpdate:
      case InteractionResponseType.UpdateMessage: {
        const record = componentMessage ? this.state.messages.get(componentMessage.id) : undefined;
        if (!componentMessage || !record) {
          throw formError(
            'type',
            'INTERACTION_RESPONSE_TYPE_INVALID',
            'This interaction has no message to update.',
          );
        }
        if (type === InteractionResponseType.UpdateMessage) {
          const next = applyMessageBody(
            record.message,
            data,
            body.files,
            this.webhookApplyContext(record, false),
          );
          ix.originalMessageId = record.id;
          this.state.updateMessage(record, next);
        } else {
          ix.originalMessageId = record.id;
        }
        message = record.message;
        break;
      }
      case InteractionResponseType.ApplicationCommandAutocompleteResult:
        ix.autocompleteChoices = (response.data as { choices?: [] } | undefined)?.choices ?? [];
        break;
      case InteractionResponseType.Modal:
        ix.modal = validateModal(response.data);
        break;
    }
    ix.acknowledged = true;
    ix.callbackType = type;
    ix.callbackAt = this.state.now();
    log.messageId = message?.id;
    if (query.get('with_response') !== 'true') return NO_CONTENT;
    const result: RESTPostAPIInteractionCallbackWithResponseResult = {
      interaction: {
        id: ix.id,
        type: ix.payload.type,
        ...(message
          ? {
              response_message_id: message.id,
              response_message_loading: ((message.flags ?? 0) & MessageFlag.Loading) !== 0,
              response_message_ephemeral: ((message.flags ?? 0) & MessageFlag.Ephemeral) !== 0,
            }
          : {}),
      },
      resource: { type, ...(message ? { message } : {}) },
    };
    return OK(result);
  }

  private interactionMessageBase(ix: FakeInteraction, origin: MessageOrigin, flags: number): APIMessage {
    const payload = ix.payload;
    const isCommand = payload.type === InteractionType.ApplicationCommand && origin === 'interaction';
    const commandType = isCommand && 'data' in payload ? (payload.data as { type?: number }).type : undefined;
    const message = baseMessage({
      channelId: ix.channelId,
      author: this.state.botUser,
      at: this.state.now(),
      type:
        commandType === ApplicationCommandType.ChatInput
          ? MessageType.ChatInputCommand
          : commandType !== undefined
            ? MessageType.ContextMenuCommand
            : MessageType.Default,
      flags,
    });
    message.webhook_id = this.state.applicationId;
    message.application_id = this.state.applicationId;
    message.interaction_metadata =
      origin === 'followup' && ix.originalMessageId
        ? { ...ix.metadata, original_response_message_id: ix.originalMessageId }
        : ix.metadata;
    if (isCommand && 'data' in payload) {
      const name = (payload.data as { name?: string }).name ?? '';
      message.interaction = { id: ix.id, type: InteractionType.ApplicationCommand, name, user: ix.user };
    }
    return message;
  }

  private createLoadingMessage(ix: FakeInteraction, requestedFlags: number): MessageRecord {
    const ephemeral = (requestedFlags & MessageFlag.Ephemeral) !== 0;
    const flags = MessageFlag.Loading | (ephemeral ? MessageFlag.Ephemeral : 0);
    return this.addInteractionMessage(
      ix,
      this.interactionMessageBase(ix, 'interaction', flags),
      ephemeral,
      'interaction',
    );
  }

  private createInteractionMessage(
    ix: FakeInteraction,
    data: ReturnType<typeof asMessageBody>,
    files: UploadedFile[],
    origin: MessageOrigin,
  ): MessageRecord {
    const ephemeral = ((data.flags ?? 0) & MessageFlag.Ephemeral) !== 0;
    const base = this.interactionMessageBase(ix, origin, 0);
    const message = applyMessageBody(
      base,
      data,
      files,
      this.applyContext(ix.channelId, true, WEBHOOK_MENTIONS, ephemeral),
    );
    return this.addInteractionMessage(ix, message, ephemeral, origin);
  }

  /** Records the reply or followup; `@original` is set first so waiters see it on the create event. */
  private addInteractionMessage(
    ix: FakeInteraction,
    message: APIMessage,
    ephemeral: boolean,
    origin: MessageOrigin,
  ): MessageRecord {
    if (origin === 'interaction') ix.originalMessageId = message.id;
    else ix.followupIds.push(message.id);
    return this.state.addMessage({ message, guildId: ix.guildId, ephemeral, origin, interactionId: ix.id });
  }

  private webhookApplyContext(record: MessageRecord, creating: boolean): ApplyContext {
    return this.applyContext(record.channelId, creating, WEBHOOK_MENTIONS, record.ephemeral);
  }

  // ---- interaction webhooks (token in the URL) ----------------------------------------------

  private webhookInteraction({ params, log }: Context): FakeInteraction {
    if (params.applicationId !== this.state.applicationId) throw discordError(404, 10015);
    const ix = this.state.interactionsByToken.get(params.token ?? '');
    if (!ix) throw discordError(401, 50027);
    log.interactionId = ix.id;
    const now = this.state.now();
    const expired = ix.tokenRevoked || now >= ix.createdAt + this.settings.tokenLifetimeMs;
    const neverAcknowledged = !ix.acknowledged && now - ix.dispatchedAt > this.settings.callbackDeadlineMs;
    if (expired || neverAcknowledged) throw discordError(401, 50027);
    return ix;
  }

  private webhookTarget(context: Context): { ix: FakeInteraction; record: MessageRecord } {
    const ix = this.webhookInteraction(context);
    const requested = context.params.messageId ?? '@original';
    const id = requested === '@original' ? ix.originalMessageId : requested;
    const componentMessageId = 'message' in ix.payload ? ix.payload.message?.id : undefined;
    const reachable =
      id !== undefined &&
      (id === ix.originalMessageId || ix.followupIds.includes(id) || id === componentMessageId);
    const record = id ? this.state.messages.get(id) : undefined;
    if (!reachable || !record || record.deleted) throw discordError(404, 10008);
    context.log.messageId = record.id;
    return { ix, record };
  }

  private editWebhookMessage(context: Context): Reply {
    const { ix, record } = this.webhookTarget(context);
    checkUploads(context.body.files, ix.attachmentSizeLimit);
    const headers = this.checkEditRate(record.id);
    const next = applyMessageBody(
      record.message,
      asMessageBody(context.body.json),
      context.body.files,
      this.webhookApplyContext(record, false),
    );
    this.state.updateMessage(record, next);
    return { status: 200, body: next, headers };
  }

  private deleteWebhookMessage(context: Context): Reply {
    const { record } = this.webhookTarget(context);
    this.state.deleteMessage(record);
    return NO_CONTENT;
  }

  private followup(context: Context): Reply {
    const ix = this.webhookInteraction(context);
    if (!ix.acknowledged) throw discordError(404, 10015);
    checkUploads(context.body.files, ix.attachmentSizeLimit);
    const record = this.createInteractionMessage(
      ix,
      asMessageBody(context.body.json),
      context.body.files,
      'followup',
    );
    context.log.messageId = record.id;
    return context.query.get('wait') === 'true' ? OK(record.message) : NO_CONTENT;
  }
}

function allowedCallbacks(ix: FakeInteraction): InteractionResponseType[] {
  const T = InteractionResponseType;
  switch (ix.payload.type) {
    case InteractionType.ApplicationCommand:
      return [T.ChannelMessageWithSource, T.DeferredChannelMessageWithSource, T.Modal];
    case InteractionType.MessageComponent:
      return [
        T.ChannelMessageWithSource,
        T.DeferredChannelMessageWithSource,
        T.DeferredMessageUpdate,
        T.UpdateMessage,
        T.Modal,
      ];
    case InteractionType.ApplicationCommandAutocomplete:
      return [T.ApplicationCommandAutocompleteResult];
    case InteractionType.ModalSubmit:
      return [
        T.ChannelMessageWithSource,
        T.DeferredChannelMessageWithSource,
        T.DeferredMessageUpdate,
        T.UpdateMessage,
      ];
    default:
      return [];
  }
}

function validateModal(data: unknown): APIModalInteractionResponseCallbackData {
  const modal = data as Partial<APIModalInteractionResponseCallbackData> | undefined;
  if (!modal?.custom_id || modal.custom_id.length > 100) {
    throw formError('data.custom_id', 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 100 in length.');
  }
  if (!modal.title || modal.title.length > 45) {
    throw formError('data.title', 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 45 in length.');
  }
  if (!Array.isArray(modal.components) || modal.components.length < 1 || modal.components.length > 5) {
    throw formError('data.components', 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 5 in length.');
  }
  return modal as APIModalInteractionResponseCallbackData;
}

/** The URLs of every link button (type 2, style 5) in a JSON body, however deeply nested. */
function findLinkUrls(json: unknown): string[] {
  if (Array.isArray(json)) return json.flatMap(findLinkUrls);
  if (typeof json !== 'object' || json === null) return [];
  const record = json as { type?: unknown; style?: unknown; url?: unknown; items?: unknown };
  const own = record.type === 2 && record.style === 5 && typeof record.url === 'string' ? [record.url] : [];
  // A Media Gallery's external URLs (not uploads) are links Discord checks the same way.
  const media =
    record.type === 12 && Array.isArray(record.items)
      ? (record.items as { media?: { url?: unknown } }[])
          .map((item) => item.media?.url)
          .filter((url): url is string => typeof url === 'string' && !url.startsWith('attachment://'))
      : [];
  return [...own, ...media, ...Object.values(json).flatMap(findLinkUrls)];
}

/** 413 40005 when any single file is over the limit (Discord checks per attachment). */
function checkUploads(files: UploadedFile[], limit: number): void {
  if (files.some((file) => file.size > limit)) throw discordError(413, 40005);
}

function safeDecode(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

function isCdnPath(path: string): boolean {
  return path.startsWith('/attachments/') || path.startsWith('/media/attachments/');
}

function flatHeaders(request: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}
