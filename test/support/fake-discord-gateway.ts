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
 * Several clients may connect one after another (a bot restarted inside a test); every identified
 * session receives every dispatch it is entitled to.
 */

export interface IdentifyRecord {
  at: number;
  sessionId: string;
  intents: number;
  shard: [number, number] | undefined;
  properties: GatewayIdentifyData['properties'];
  compress: boolean;
  largeThreshold: number | undefined;
}

/** What `dispatch` builders see about each receiving session. */
export interface GatewaySessionInfo {
  sessionId: string;
  intents: number;
}

export interface GatewayOptions {
  botToken: string;
  heartbeatIntervalMs: number;
  /** Intents that make IDENTIFY fail with close code 4014 (privileged intents not enabled). */
  disallowedIntents: number;
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

export class FakeGateway {
  readonly identifies: IdentifyRecord[] = [];
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

  /** Sends an event to every session; `build` returns the `d` for that session, or undefined to skip it. */
  dispatch(event: string, build: (session: GatewaySessionInfo) => unknown): number {
    let delivered = 0;
    for (const session of this.sessions.values()) {
      const d = build({ sessionId: session.id, intents: session.intents });
      if (d === undefined) continue;
      this.sendDispatch(session, event, d);
      delivered += 1;
    }
    return delivered;
  }

  /** Resolves once a client is connected and has been sent READY and every GUILD_CREATE (now, if one already is). */
  ready(timeoutMs?: number): Promise<IdentifyRecord> {
    const connected = [...this.sessions.values()].filter((session) => session.socket);
    return this.readyWatch.wait(() => true, {
      timeoutMs,
      existing: connected.map((session) => session.identify).slice(-1),
      what: 'a gateway client to IDENTIFY (did the bot call client.login with discord.botToken?)',
    });
  }

  /** Resolves on the next READY (or RESUMED) sent after this call. */
  nextReady(timeoutMs?: number): Promise<IdentifyRecord> {
    return this.readyWatch.wait(() => true, { timeoutMs, what: 'the next gateway IDENTIFY or RESUME' });
  }

  /** Sends op 7 Reconnect: discord.js closes with 4200 and resumes on resume_gateway_url. */
  requestReconnect(): void {
    for (const session of this.sessions.values()) {
      if (session.socket) send(session.socket, { op: GatewayOpcodes.Reconnect, d: null });
    }
  }

  /** Drops every connection with `code` (default 4000, resumable); sessions stay resumable unless code is 1000. */
  disconnectAll(code: number = GatewayCloseCodes.UnknownError): void {
    for (const socket of this.sockets) socket.close(code, 'fake discord: disconnect');
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
    if (stripBot(data.token) !== this.options.botToken) {
      ws.close(GatewayCloseCodes.AuthenticationFailed, 'Authentication failed.');
      return;
    }
    const intents = Number(data.intents);
    if ((intents & this.options.disallowedIntents) !== 0) {
      ws.close(GatewayCloseCodes.DisallowedIntents, 'Disallowed intent(s).');
      return;
    }
    const shard = data.shard ?? [0, 1];
    const identify: IdentifyRecord = {
      at: Date.now(),
      sessionId: randomBytes(16).toString('hex'),
      intents,
      shard: data.shard,
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

function send(ws: WebSocket, frame: Frame): void {
  if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(frame));
}

function stripBot(token: string): string {
  return token.replace(/^Bot\s+/i, '');
}
