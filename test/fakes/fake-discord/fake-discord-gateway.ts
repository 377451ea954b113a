import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  GatewayCloseCodes,
  GatewayDispatchEvents,
  type GatewayGuildCreateDispatchData,
  type GatewayGuildMembersChunkDispatchData,
  type GatewayIdentifyData,
  GatewayOpcodes,
  type GatewayReadyDispatchData,
  type GatewayRequestGuildMembersData,
  type GatewayResumeData,
} from 'discord-api-types/v10';
import { type WebSocket, WebSocketServer } from 'ws';
import { Watch } from './watch.ts';

/**
 * The gateway half of the fake: HELLO, heartbeat ACKs, IDENTIFY → READY + GUILD_CREATE, RESUME with
 * replay of what was dispatched while the client was away, and `dispatch` with increasing `s`.
 * Several clients may connect one after another (a bot restarted inside a test) or side by side (one
 * per shard); every identified session receives every dispatch it is entitled to. Sharding is as on
 * Discord: IDENTIFY must name `[id, count]` with the configured count, and a guild's events go only
 * to the session of shard `(guild_id >> 22) % count`, events without a guild (DMs) to shard 0.
 */

export interface IdentifyRecord {
  at: number;
  sessionId: string;
  intents: number;
  /** As the client sent it (discord.js always sends one). */
  shard: [number, number] | undefined;
  /** The shard the session serves: `shard`, or `[0, 1]` when the client sent none. */
  shardId: number;
  shardCount: number;
  properties: GatewayIdentifyData['properties'];
  compress: boolean;
  largeThreshold: number | undefined;
}

/** An IDENTIFY the gateway answered by closing the socket (bad token, intents or shard). */
export interface RefusedIdentify {
  at: number;
  shard: [number, number] | undefined;
  intents: number;
  code: GatewayCloseCodes;
  reason: string;
}

/** One `dispatch`: where it was routed and which sessions were sent it (none if that shard was away). */
export interface DispatchRecord {
  at: number;
  event: string;
  /** The guild it belongs to; undefined for DMs and other events without a guild (shard 0). */
  guildId: string | undefined;
  shardId: number;
  sessionIds: string[];
}

/** What `dispatch` builders see about each receiving session. */
export interface GatewaySessionInfo {
  sessionId: string;
  intents: number;
  shard: [number, number];
}

/** Which sessions a `requestReconnect` or `disconnectAll` applies to; all when `shard` is omitted. */
export interface SessionFilter {
  shard?: number;
}

export interface GatewayOptions {
  botToken: string;
  heartbeatIntervalMs: number;
  /** Intents that make IDENTIFY fail with close code 4014 (privileged intents not enabled). */
  disallowedIntents: number;
  /** The shard count IDENTIFY must name (4011 when fewer, 4010 when more or an id out of range). */
  shardCount: number;
  ready(session: { sessionId: string; resumeUrl: string; shard: [number, number] }): GatewayReadyDispatchData;
  guildCreates(shard: [number, number]): GatewayGuildCreateDispatchData[];
  membersChunk(request: GatewayRequestGuildMembersData): GatewayGuildMembersChunkDispatchData;
}

interface Frame {
  op: GatewayOpcodes;
  d: unknown;
  s?: number | null;
  t?: string | null;
}

interface Session {
  id: string;
  intents: number;
  seq: number;
  socket: WebSocket | null;
  /** Dispatches kept for RESUME: everything after the client's last seen `s` is replayed. */
  backlog: Frame[];
  identify: IdentifyRecord;
}

const BACKLOG_LIMIT = 1_000;

/** Discord's routing: a guild's events go to shard `(guild_id >> 22) % count`; no guild means shard 0. */
export function shardOfGuild(guildId: string | undefined, shardCount: number): number {
  return guildId === undefined ? 0 : Number((BigInt(guildId) >> 22n) % BigInt(shardCount));
}

export class FakeGateway {
  readonly identifies: IdentifyRecord[] = [];
  readonly refusedIdentifies: RefusedIdentify[] = [];
  readonly dispatches: DispatchRecord[] = [];
  private readonly server = new WebSocketServer({ noServer: true });
  private readonly sessions = new Map<string, Session>();
  private readonly sockets = new Set<WebSocket>();
  private readonly readyWatch = new Watch<IdentifyRecord>();

  constructor(
    private readonly options: GatewayOptions,
    readonly url: string,
  ) {}

  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const query = new URL(request.url ?? '/', 'http://fake').searchParams;
    this.server.handleUpgrade(request, socket, head, (ws) => {
      this.sockets.add(ws);
      ws.on('close', (code) => this.onClose(ws, code));
      ws.on('message', (data) => this.onMessage(ws, data.toString()));
      if (query.get('encoding') !== 'json' || query.has('compress')) {
        // Only JSON without transport compression is implemented (zlib-sync is not installed).
        ws.close(GatewayCloseCodes.DecodeError, 'fake discord: only encoding=json without compress');
        return;
      }
      send(ws, { op: GatewayOpcodes.Hello, d: { heartbeat_interval: this.options.heartbeatIntervalMs } });
    });
  }

  /** True when some session is connected, or could resume and get the event replayed. */
  get hasSessions(): boolean {
    return this.sessions.size > 0;
  }

  /** True when some session would receive (now, or on RESUME) an event of this guild, or a DM when undefined. */
  hasSessionFor(guildId: string | undefined): boolean {
    return [...this.sessions.values()].some((session) => this.receives(session, guildId));
  }

  /** Shard ids with a connected, identified session, ascending. */
  get connectedShards(): number[] {
    const ids = [...this.sessions.values()].filter((s) => s.socket).map((s) => s.identify.shardId);
    return [...new Set(ids)].sort((a, b) => a - b);
  }

  /**
   * Sends an event to the sessions of the shard `guildId` routes to (shard 0 without one); `build`
   * returns the `d` for that session, or undefined to skip it.
   */
  dispatch(
    event: string,
    guildId: string | undefined,
    build: (session: GatewaySessionInfo) => unknown,
  ): number {
    const record: DispatchRecord = {
      at: Date.now(),
      event,
      guildId,
      shardId: shardOfGuild(guildId, this.options.shardCount),
      sessionIds: [],
    };
    for (const session of this.sessions.values()) {
      if (!this.receives(session, guildId)) continue;
      const { shardId, shardCount } = session.identify;
      const d = build({ sessionId: session.id, intents: session.intents, shard: [shardId, shardCount] });
      if (d === undefined) continue;
      this.sendDispatch(session, event, d);
      record.sessionIds.push(session.id);
    }
    this.dispatches.push(record);
    return record.sessionIds.length;
  }

  /**
   * Resolves once a client (of `shard`, if given) is connected and has been sent READY and every
   * GUILD_CREATE (now, if one already is).
   */
  ready(timeoutMs?: number, shard?: number): Promise<IdentifyRecord> {
    const connected = [...this.sessions.values()].filter(
      (session) => session.socket && onShard(session.identify, shard),
    );
    return this.readyWatch.wait((identify) => onShard(identify, shard), {
      timeoutMs,
      existing: connected.map((session) => session.identify).slice(-1),
      what: `a gateway client${shard === undefined ? '' : ` of shard ${shard}`} to IDENTIFY (did the bot call client.login with discord.botToken?)`,
    });
  }

  /** Resolves on the next READY (or RESUMED) sent after this call (on `shard`, if given). */
  nextReady(timeoutMs?: number, shard?: number): Promise<IdentifyRecord> {
    return this.readyWatch.wait((identify) => onShard(identify, shard), {
      timeoutMs,
      what: `the next gateway IDENTIFY or RESUME${shard === undefined ? '' : ` of shard ${shard}`}`,
    });
  }

  /** Sends op 7 Reconnect: discord.js closes with 4200 and resumes on resume_gateway_url. */
  requestReconnect(filter: SessionFilter = {}): void {
    for (const session of this.sessions.values()) {
      if (session.socket && onShard(session.identify, filter.shard)) {
        send(session.socket, { op: GatewayOpcodes.Reconnect, d: null });
      }
    }
  }

  /** Drops every connection (of `filter.shard`) with `code` (default 4000); sessions stay resumable unless code is 1000. */
  disconnectAll(code: number = GatewayCloseCodes.UnknownError, filter: SessionFilter = {}): void {
    for (const socket of this.sockets) {
      if (filter.shard !== undefined) {
        const session = this.sessionOf(socket);
        if (!session || session.identify.shardId !== filter.shard) continue;
      }
      socket.close(code, 'fake discord: disconnect');
    }
  }

  close(): void {
    this.readyWatch.rejectAll(new Error('fake discord closed'));
    for (const socket of this.sockets) socket.terminate();
    this.sockets.clear();
    this.sessions.clear();
    this.server.close();
  }

  private onMessage(ws: WebSocket, raw: string): void {
    let frame: Frame;
    try {
      frame = JSON.parse(raw) as Frame;
    } catch {
      ws.close(GatewayCloseCodes.DecodeError, 'Error while decoding payload.');
      return;
    }
    switch (frame.op) {
      case GatewayOpcodes.Heartbeat:
        send(ws, { op: GatewayOpcodes.HeartbeatAck, d: null });
        return;
      case GatewayOpcodes.Identify:
        this.identify(ws, frame.d as GatewayIdentifyData);
        return;
      case GatewayOpcodes.Resume:
        this.resume(ws, frame.d as GatewayResumeData);
        return;
      case GatewayOpcodes.RequestGuildMembers: {
        const session = this.sessionOf(ws);
        if (session) {
          this.sendDispatch(
            session,
            GatewayDispatchEvents.GuildMembersChunk,
            this.options.membersChunk(frame.d as GatewayRequestGuildMembersData),
          );
        }
        return;
      }
      default:
        // Presence and voice state updates are accepted and ignored.
        return;
    }
  }

  private identify(ws: WebSocket, data: GatewayIdentifyData): void {
    if (this.sessionOf(ws)) {
      ws.close(GatewayCloseCodes.AlreadyAuthenticated, 'You sent more than one identify payload.');
      return;
    }
    const intents = Number(data.intents);
    const refusal = this.refusalOf(data, intents);
    if (refusal) {
      this.refusedIdentifies.push({ at: Date.now(), shard: data.shard, intents, ...refusal });
      ws.close(refusal.code, refusal.reason);
      return;
    }
    const shard: [number, number] = data.shard ?? [0, 1];
    const identify: IdentifyRecord = {
      at: Date.now(),
      sessionId: randomBytes(16).toString('hex'),
      intents,
      shard: data.shard,
      shardId: shard[0],
      shardCount: shard[1],
      properties: data.properties,
      compress: data.compress ?? false,
      largeThreshold: data.large_threshold,
    };
    const session: Session = { id: identify.sessionId, intents, seq: 0, socket: ws, backlog: [], identify };
    this.sessions.set(session.id, session);
    this.identifies.push(identify);
    this.sendDispatch(
      session,
      GatewayDispatchEvents.Ready,
      this.options.ready({ sessionId: session.id, resumeUrl: this.url, shard }),
    );
    for (const guild of this.options.guildCreates(shard)) {
      this.sendDispatch(session, GatewayDispatchEvents.GuildCreate, guild);
    }
    this.readyWatch.emit(identify);
  }

  /** Why Discord would close this IDENTIFY, or undefined to accept it. */
  private refusalOf(
    data: GatewayIdentifyData,
    intents: number,
  ): { code: GatewayCloseCodes; reason: string } | undefined {
    if (stripBot(data.token) !== this.options.botToken) {
      return { code: GatewayCloseCodes.AuthenticationFailed, reason: 'Authentication failed.' };
    }
    if ((intents & this.options.disallowedIntents) !== 0) {
      return { code: GatewayCloseCodes.DisallowedIntents, reason: 'Disallowed intent(s).' };
    }
    const [id, count] = data.shard ?? [0, 1];
    const valid = Number.isInteger(id) && Number.isInteger(count) && id >= 0 && id < count;
    if (valid && count < this.options.shardCount) {
      // The session would hold more guilds than Discord lets one shard have.
      return { code: GatewayCloseCodes.ShardingRequired, reason: 'Sharding is required.' };
    }
    if (!valid || count !== this.options.shardCount) {
      return { code: GatewayCloseCodes.InvalidShard, reason: 'Invalid shard.' };
    }
    return undefined;
  }

  private receives(session: Session, guildId: string | undefined): boolean {
    const { shardId, shardCount } = session.identify;
    return shardOfGuild(guildId, shardCount) === shardId;
  }

  private resume(ws: WebSocket, data: GatewayResumeData): void {
    const session = this.sessions.get(data.session_id);
    if (!session || stripBot(data.token) !== this.options.botToken) {
      send(ws, { op: GatewayOpcodes.InvalidSession, d: false });
      return;
    }
    if (session.socket && session.socket !== ws) session.socket.terminate();
    session.socket = ws;
    for (const frame of session.backlog) {
      if ((frame.s ?? 0) > data.seq) send(ws, frame);
    }
    this.sendDispatch(session, GatewayDispatchEvents.Resumed, null);
    this.readyWatch.emit(session.identify);
  }

  private onClose(ws: WebSocket, code: number): void {
    this.sockets.delete(ws);
    const session = this.sessionOf(ws);
    if (!session) return;
    session.socket = null;
    // A normal close (client.destroy()) ends the session, as on Discord; anything else may resume.
    if (code === 1000 || code === 1001) this.sessions.delete(session.id);
  }

  private sessionOf(ws: WebSocket): Session | undefined {
    for (const session of this.sessions.values()) {
      if (session.socket === ws) return session;
    }
    return undefined;
  }

  private sendDispatch(session: Session, event: string, d: unknown): void {
    session.seq += 1;
    const frame: Frame = { op: GatewayOpcodes.Dispatch, t: event, s: session.seq, d };
    session.backlog.push(frame);
    if (session.backlog.length > BACKLOG_LIMIT) session.backlog.shift();
    if (session.socket) send(session.socket, frame);
  }
}

function onShard(identify: IdentifyRecord, shard: number | undefined): boolean {
  return shard === undefined || identify.shardId === shard;
}

function send(ws: WebSocket, frame: Frame): void {
  if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(frame));
}

function stripBot(token: string): string {
  return token.replace(/^Bot\s+/i, '');
}
