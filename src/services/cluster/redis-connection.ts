import { createClient } from '@redis/client';

/**
 * A node-redis client shaped for BullMQ 6.
 *
 * BullMQ only builds its own client when `ioredis` is installed (and, in ESM, not even then), and
 * this project has no ioredis: it hands BullMQ a ready-made `@redis/client` instance, which BullMQ
 * wraps in its node-redis adapter. That adapter is written for node-redis v5 and tears connections
 * down with `destroy()`; `@redis/client` v1 calls the same thing `disconnect()`, so each client (and
 * every duplicate BullMQ makes for its blocking connection) gets the missing method.
 *
 * Commands wait in the offline queue while Redis is away (the node-redis equivalent of ioredis'
 * `maxRetriesPerRequest: null`, which BullMQ workers require), and the client keeps reconnecting.
 */

export type BullRedisClient = ReturnType<typeof createClient>;

const MAX_RECONNECT_DELAY_MS = 2_000;

export function createBullRedisClient(url: string, onError: (error: unknown) => void): BullRedisClient {
  const client = createClient({
    url,
    socket: { reconnectStrategy: (retries: number) => Math.min(100 * 2 ** retries, MAX_RECONNECT_DELAY_MS) },
  });
  return fitForBullmq(client, onError);
}

function fitForBullmq(client: BullRedisClient, onError: (error: unknown) => void): BullRedisClient {
  // Without a listener, the first socket error would be an uncaught exception that ends the process.
  client.on('error', onError);
  const duplicate = client.duplicate.bind(client);
  Object.assign(client, {
    destroy: () => client.disconnect().catch(() => {}),
    duplicate: (...args: Parameters<typeof duplicate>) => fitForBullmq(duplicate(...args), onError),
  });
  return client;
}
