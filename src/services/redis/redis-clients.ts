import { createClient } from '@redis/client';
import { Redis } from 'ioredis';

/**
 * The one maker of Redis clients, for the store, the cluster's small jobs (the cancel bus, the shared
 * REST window) and BullMQ. Two libraries, each where it must be: node-redis everywhere we choose,
 * since keyv's Redis adapter (@keyv/redis) is built on it; ioredis only for BullMQ, which is built
 * and tested on it (its queue, its workers' blocking reads, its reconnects) and takes no other.
 *
 * Every client reconnects on its own with the same backoff and always has an error listener
 * (without one, the first socket error would be an uncaught exception that ends the process).
 */

export type RedisClient = ReturnType<typeof createClient>;

const MAX_RECONNECT_DELAY_MS = 2_000;

/** Wait before reconnect attempt `attempt`: doubling from 100 ms, at most 2 s. */
function reconnectDelayMs(attempt: number): number {
  return Math.min(100 * 2 ** attempt, MAX_RECONNECT_DELAY_MS);
}

export interface RedisClientOptions {
  /** True: commands fail at once while offline instead of being replayed on reconnect. */
  disableOfflineQueue: boolean;
  onError: (error: unknown) => void;
  /** How long one connection attempt may take; node-redis's default when unset. */
  connectTimeoutMs?: number;
}

/** A node-redis client, not yet connected. */
export function createRedisClient(url: string, options: RedisClientOptions): RedisClient {
  const client = createClient({
    url,
    disableOfflineQueue: options.disableOfflineQueue,
    socket: {
      ...(options.connectTimeoutMs === undefined ? {} : { connectTimeout: options.connectTimeoutMs }),
      reconnectStrategy: reconnectDelayMs,
    },
  });
  client.on('error', options.onError);
  return client;
}

/** QUIT while it answers, else drop the socket: a clean stop never waits for a Redis that is away. */
export async function closeRedisClient(client: RedisClient): Promise<void> {
  if (client.isReady) await client.quit().catch(() => {});
  if (client.isOpen) await client.disconnect().catch(() => {});
}

/**
 * A Redis connection for BullMQ (ioredis). `maxRetriesPerRequest: null` is what BullMQ workers
 * require: a command waits while Redis is away instead of failing after a few tries, and ioredis
 * keeps reconnecting. BullMQ keeps connections of its own either way.
 */
export interface BullConnection {
  client: Redis;
  close(): Promise<void>;
}

export function createBullConnection(url: string, onError: (error: unknown) => void): BullConnection {
  const client = new Redis(url, { maxRetriesPerRequest: null, retryStrategy: reconnectDelayMs });
  client.on('error', onError);
  return {
    client,
    async close() {
      if (client.status === 'end') return;
      // QUIT would wait for a Redis that is away (commands wait, by design): just drop the socket.
      if (client.status !== 'ready') return client.disconnect();
      await client.quit().catch(() => client.disconnect());
    },
  };
}
