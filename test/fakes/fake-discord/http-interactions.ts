import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import type { FakeInteraction } from './fake-discord-state.ts';

/**
 * Discord's side of an Interactions Endpoint URL: it signs each interaction with the
 * application's Ed25519 key (`X-Signature-Ed25519` over `X-Signature-Timestamp` + body), POSTs it
 * to the bot, and takes the HTTP answer as the interaction's callback — forwarded here to the
 * fake's own callback route, so the fake's records (acknowledged, @original, modal shown…) and
 * its checks apply exactly as for a callback sent over REST.
 */

export type Signing =
  /** Signed with the application's key, now. */
  | 'valid'
  /** No signature headers at all. */
  | 'unsigned'
  /** Signed, then one byte of the body changed. */
  | 'tampered'
  /** Signed properly, ten minutes ago: a captured request replayed. */
  | 'stale'
  /** Signed with some other key. */
  | 'wrong-key';

export interface EndpointAnswer {
  status: number;
  contentType: string | null;
  /** The parsed JSON answer (or the text, when not JSON). */
  body: unknown;
}

export interface HttpInteractionsHost {
  apiUrl: string;
  applicationId: string;
  /** Starts the interaction's 3 s clock, as the gateway dispatch does. */
  markDispatched(ix: FakeInteraction): void;
}

export class HttpInteractionsClient {
  /** The application's public key as the Developer Portal shows it: `DISCORD_PUBLIC_KEY`. */
  readonly publicKeyHex: string;
  private readonly privateKey: KeyObject;
  private readonly otherKey: KeyObject;

  constructor(private readonly host: HttpInteractionsHost) {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    this.privateKey = privateKey;
    this.otherKey = generateKeyPairSync('ed25519').privateKey;
    const jwk = publicKey.export({ format: 'jwk' });
    this.publicKeyHex = Buffer.from(String(jwk.x), 'base64url').toString('hex');
  }

  /** A PING, as Discord sends when the URL is saved. */
  ping(url: string, signing: Signing = 'valid'): Promise<EndpointAnswer> {
    const body = { id: '1', application_id: this.host.applicationId, type: 1, token: 'ping', version: 1 };
    return this.post(url, JSON.stringify(body), signing);
  }

  /**
   * Sends an interaction built with `dispatch: false`; a 200 answer becomes its callback. Resolves
   * with the bot's HTTP answer.
   */
  async deliver(url: string, ix: FakeInteraction, signing: Signing = 'valid'): Promise<EndpointAnswer> {
    this.host.markDispatched(ix);
    const raw = JSON.stringify(ix.payload);
    const response = await this.send(url, raw, signing);
    const bytes = Buffer.from(await response.arrayBuffer());
    const contentType = response.headers.get('content-type');
    if (response.status === 200) {
      const callback = `${this.host.apiUrl}/v10/interactions/${ix.id}/${ix.token}/callback`;
      await fetch(callback, {
        method: 'POST',
        headers: { 'content-type': contentType ?? 'application/json' },
        body: bytes,
      });
    }
    return { status: response.status, contentType, body: parse(bytes) };
  }

  private async post(url: string, raw: string, signing: Signing): Promise<EndpointAnswer> {
    const response = await this.send(url, raw, signing);
    const bytes = Buffer.from(await response.arrayBuffer());
    return { status: response.status, contentType: response.headers.get('content-type'), body: parse(bytes) };
  }

  private send(url: string, raw: string, signing: Signing): Promise<Response> {
    const seconds = Math.floor(Date.now() / 1000) - (signing === 'stale' ? 600 : 0);
    const timestamp = String(seconds);
    const key = signing === 'wrong-key' ? this.otherKey : this.privateKey;
    const signature = sign(null, Buffer.from(timestamp + raw), key).toString('hex');
    const body =
      signing === 'tampered'
        ? raw.replace(/"type":(\d)/, (_all, digit) => `"type":${(Number(digit) + 1) % 10}`)
        : raw;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (signing !== 'unsigned') {
      headers['x-signature-ed25519'] = signature;
      headers['x-signature-timestamp'] = timestamp;
    }
    return fetch(url, { method: 'POST', headers, body });
  }
}

function parse(bytes: Buffer): unknown {
  const text = bytes.toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
