import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type APIInteraction, InteractionResponseType, InteractionType } from 'discord.js';
import type { Logger } from '../logging/logger.ts';
import type { InteractionCallbacks } from './interaction-callbacks.ts';
import { checkSignature, publicKeyFromHex } from './signature.ts';

export interface InteractionsEndpointOptions {
  port: number;
  /** The application's public key (hex), from the Developer Portal. */
  publicKey: string;
  callbacks: InteractionCallbacks;
  /** Hands a verified interaction to the same handlers the gateway's go to. */
  handle: (interaction: APIInteraction) => void;
  logger: Logger;
}

export const INTERACTIONS_PATH = '/interactions';
/** Discord waits 3 s for the HTTP answer; leave room for the way back. */
const ANSWER_WITHIN_MS = 2_500;
/** Interactions are small; a resolved message with many embeds is the largest. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;

/**
 * Discord's Interactions Endpoint URL: `POST /interactions`. Each request is verified (Ed25519,
 * and not replayed: see signature.ts) before anything reads it; a PING is answered at once;
 * every other interaction goes to the router, and its first answer becomes the HTTP response.
 * Holds no state between requests, so several front doors can sit behind one load balancer.
 */
export class InteractionsEndpoint {
  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(options: InteractionsEndpointOptions): Promise<InteractionsEndpoint> {
    const key = publicKeyFromHex(options.publicKey);
    const { logger } = options;
    const server = createServer((request, response) => {
      serve(request, response).catch((error) => {
        logger.error('interactions_endpoint_failed', { error });
        if (!response.headersSent) response.writeHead(500).end();
      });
    });

    async function serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
      const path = new URL(request.url ?? '/', 'http://endpoint').pathname;
      if (path !== INTERACTIONS_PATH) return void response.writeHead(404).end();
      if (request.method !== 'POST') return void response.writeHead(405, { allow: 'POST' }).end();
      const body = await readBody(request);
      if (!body) return void response.writeHead(413).end();
      const verdict = checkSignature(
        key,
        {
          signature: header(request, 'x-signature-ed25519'),
          timestamp: header(request, 'x-signature-timestamp'),
        },
        body,
      );
      if (verdict !== 'valid') {
        // Discord sends bad signatures on purpose when the URL is saved: a warning, not an error.
        logger.warn('interaction_signature_refused', { reason: verdict });
        return void response
          .writeHead(401, { 'content-type': 'text/plain' })
          .end('invalid request signature');
      }
      const interaction = JSON.parse(body.toString('utf8')) as APIInteraction;
      if (interaction.type === InteractionType.Ping) {
        return void json(response, { type: InteractionResponseType.Pong });
      }
      const answered = options.callbacks.awaitAnswer(interaction.id, ANSWER_WITHIN_MS);
      options.handle(interaction);
      const answer = await answered;
      if (!answer) {
        logger.warn('interaction_unanswered', { interactionId: interaction.id, type: interaction.type });
        return void response.writeHead(503).end();
      }
      response.writeHead(200, { 'content-type': answer.contentType }).end(answer.body);
    }

    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return new InteractionsEndpoint(server, (server.address() as AddressInfo).port);
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }
}

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function json(response: ServerResponse, body: unknown): void {
  response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

/** The raw bytes (the signature covers them exactly); undefined when too large. */
async function readBody(request: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
