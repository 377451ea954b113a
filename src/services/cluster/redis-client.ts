import { createClient } from '@redis/client';

/**
 * A node-redis client for the cluster's own small jobs (the cancel bus, the shared REST window):
 * it reconnects on its own, backing off to 2 s, and always has an error listener (without one, the
 * first socket error would be an uncaught exception that ends the process).
 */

export type RedisClient = ReturnType<typeof createClient>;

const MAX_RECONNECT_DELAY_MS = 2_000;

export function createRedisClient(
  url: string,
  options: { disableOfflineQueue: boolean; onError: (error: unknown) => void },
): RedisClient {
  const client = createClient({
    url,
    disableOfflineQueue: options.disableOfflineQueue,
    socket: { reconnectStrategy: (retries: number) => Math.min(100 * 2 ** retries, MAX_RECONNECT_DELAY_MS) },
  });
  client.on('error', options.onError);
  return client;
}

/** QUIT while it answers, else drop the socket: a clean stop never waits for a Redis that is away. */
export async function closeRedisClient(client: RedisClient): Promise<void> {
  if (client.isReady) await client.quit().catch(() => {});
  if (client.isOpen) await client.disconnect().catch(() => {});
}
