import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BotMetrics, ProcessRole } from './metrics.ts';

/**
 * `GET /healthz` for the orchestrator and `GET /metrics` for Prometheus, on a plain node:http
 * server. The health is whatever the caller reports at that moment; this file only answers.
 */

export interface Health {
  ready: boolean;
  store: 'ok' | 'unavailable';
  role: ProcessRole;
  /** Gateway shards this process runs (empty for a worker). */
  shards: number[];
  processId: string;
}

export interface HealthServerOptions {
  /** 0 picks a free port (tests). */
  port: number;
  /** Default loopback: the figures are the operator's, not every neighbour's on the network. */
  host?: string;
  /** When set, `/metrics` wants `Authorization: Bearer <token>`; `/healthz` stays open for load balancers. */
  metricsToken?: string;
  health: () => Health | Promise<Health>;
  metrics: BotMetrics;
  onError?: (error: unknown) => void;
}

export class HealthServer {
  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(options: HealthServerOptions): Promise<HealthServer> {
    const onError = options.onError ?? (() => {});
    const server = createServer((request, response) => {
      answer(request, response, options).catch((error: unknown) => {
        onError(error);
        if (!response.headersSent) response.writeHead(500);
        response.end();
      });
    });
    server.on('error', onError);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    return new HealthServer(server, (server.address() as AddressInfo).port);
  }

  close(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.close((error) => (error ? reject(error) : resolve()));
      this.server.closeAllConnections();
    });
  }
}

async function answer(request: IncomingMessage, response: ServerResponse, options: HealthServerOptions) {
  const path = new URL(request.url ?? '/', 'http://localhost').pathname;
  if (request.method !== 'GET') return send(response, 404, 'text/plain', 'not found\n');
  if (path === '/healthz') {
    const health = await options.health();
    const healthy = health.ready && health.store === 'ok';
    return send(response, healthy ? 200 : 503, 'application/json', JSON.stringify(health));
  }
  if (path === '/metrics') {
    if (options.metricsToken !== undefined && !bearerMatches(request, options.metricsToken)) {
      response.setHeader('www-authenticate', 'Bearer');
      return send(response, 401, 'text/plain', 'unauthorized\n');
    }
    return send(response, 200, options.metrics.contentType, await options.metrics.text());
  }
  return send(response, 404, 'text/plain', 'not found\n');
}

function send(response: ServerResponse, status: number, contentType: string, body: string): void {
  response.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' });
  response.end(body);
}

/** Compares digests, so neither the token's length nor its prefix shows in the answer time. */
function bearerMatches(request: IncomingMessage, token: string): boolean {
  const given = /^Bearer (.+)$/i.exec(request.headers.authorization ?? '')?.[1] ?? '';
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(given), digest(token));
}
