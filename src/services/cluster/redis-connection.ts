import { Redis } from 'ioredis';

/**
 * A Redis connection for BullMQ: ioredis, the client BullMQ is built and tested on (its queue,
 * its workers' blocking reads, its reconnects). The rest of the bot talks to Redis through
 * node-redis; BullMQ keeps connections of its own either way.
 *
 * `maxRetriesPerRequest: null` is what BullMQ workers require: a command waits while Redis is away
 * instead of failing after a few tries, and ioredis keeps reconnecting. The client keeps an error
 * listener for its whole life: an `error` event with no listener would end the process.
 */

export interface BullConnection {
  client: Redis;
  close(): Promise<void>;
}

const MAX_RECONNECT_DELAY_MS = 2_000;

export function createBullConnection(url: string, onError: (error: unknown) => void): BullConnection {
  const client = new Redis(url, {
    maxRetriesPerRequest: null,
    retryStrategy: (times) => Math.min(100 * 2 ** times, MAX_RECONNECT_DELAY_MS),
  });
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
