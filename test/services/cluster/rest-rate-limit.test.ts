import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterRateLimit } from '../../../src/services/cluster/rest-rate-limit.ts';
import { type RedisServer, startRedisServer } from '../../harness/redis-server.ts';

describe('ClusterRateLimit on a real redis-server', () => {
  let redis: RedisServer;
  let server: Server;
  let base = '';
  const arrivals: string[] = [];

  beforeAll(async () => {
    redis = await startRedisServer();
    server = createServer((request, response) => {
      arrivals.push(request.url ?? '');
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    await redis.stop();
    await new Promise((resolve) => server.close(resolve));
  });

  const limiter = (namespace: string, requestsPerSecond: number, redisUrl = redis.url) =>
    new ClusterRateLimit({ redisUrl, requestsPerSecond, timeoutMs: 1_000, namespace });

  async function connected(limit: ClusterRateLimit): Promise<ClusterRateLimit> {
    // The client connects in the background; the first answered slot shows it is there.
    while ((await limit.takeSlot()) === undefined) await new Promise((resolve) => setTimeout(resolve, 20));
    return limit;
  }

  it('keeps two processes together under the budget of one bot, window by window', async () => {
    const namespace = `rest-${randomUUID()}`;
    const first = await connected(limiter(namespace, 5));
    const second = await connected(limiter(namespace, 5));
    const windows = await Promise.all(
      Array.from({ length: 16 }, (_, index) => (index % 2 ? first : second).takeSlot()),
    );
    const perWindow = new Map<number, number>();
    for (const window of windows) perWindow.set(window ?? -1, (perWindow.get(window ?? -1) ?? 0) + 1);
    expect(perWindow.has(-1)).toBe(false);
    // Sixteen requests at five a second need at least four windows.
    expect([...perWindow.values()].every((count) => count <= 5)).toBe(true);
    expect(perWindow.size).toBeGreaterThanOrEqual(4);
    await Promise.all([first.close(), second.close()]);
  });

  it('never holds back an interaction answer or a deferred reply edit behind a full window', async () => {
    const limit = await connected(limiter(`rest-${randomUUID()}`, 1));
    const send = limit.makeRequest();
    // The window this request starts in is full from here on.
    await limit.takeSlot();
    arrivals.length = 0;
    const post = send(`${base}/channels/1/messages`, { method: 'POST' });
    const defer = send(`${base}/interactions/123/token/callback`, { method: 'POST' });
    const edit = send(`${base}/webhooks/1/token/messages/@original`, { method: 'PATCH' });
    await Promise.all([post, defer, edit]);
    // The channel post waited for the next window; the interaction routes did not.
    expect(arrivals.at(-1)).toBe('/channels/1/messages');
    expect(arrivals.slice(0, 2).sort()).toEqual([
      '/interactions/123/token/callback',
      '/webhooks/1/token/messages/@original',
    ]);
    await limit.close();
  });

  it('lets requests go when Redis cannot be reached, rather than stalling the bot', async () => {
    // Port 1: nothing listens there, so every connection is refused.
    const limit = limiter(`rest-${randomUUID()}`, 1, 'redis://127.0.0.1:1');
    expect(await limit.takeSlot()).toBeUndefined();
    const response = await limit.makeRequest()(`${base}/channels/1/messages`, { method: 'POST' });
    expect(response.status).toBe(200);
    await limit.close();
  });
});
