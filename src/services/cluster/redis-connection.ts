import { createClient } from '@redis/client';
import { createNodeRedisClient, type IRedisClient } from 'bullmq';

/**
 * A Redis connection shaped for BullMQ 6.
 *
 * BullMQ only builds its own client when `ioredis` is installed (and, in ESM, not even then), and
 * this project has no ioredis: it hands BullMQ a `@redis/client` instance in BullMQ's node-redis
 * adapter. That adapter is written for node-redis v5 and tears connections down with `destroy()`;
 * `@redis/client` v1 calls it `disconnect()`, so each client (and every duplicate BullMQ makes for
 * a worker's blocking connection) gets the missing method.
 *
 * Commands wait in the offline queue while Redis is away (the node-redis equivalent of ioredis'
 * `maxRetriesPerRequest: null`, which BullMQ workers require), and the client keeps reconnecting.
 * Both the client and the adapter keep an error listener for their whole life: BullMQ removes its
 * own when it closes, and an `error` event with no listener would end the process.
 */

type RawClient = ReturnType<typeof createClient>;

export interface BullConnection {
  client: IRedisClient;
  close(): Promise<void>;
}

const MAX_RECONNECT_DELAY_MS = 2_000;

export function createBullConnection(url: string, onError: (error: unknown) => void): BullConnection {
  const raw = fitForBullmq(
    createClient({
      url,
      socket: {
        reconnectStrategy: (retries: number) => Math.min(100 * 2 ** retries, MAX_RECONNECT_DELAY_MS),
      },
    }),
    onError,
  );
  const client = createNodeRedisClient(raw);
  (client as unknown as NodeJS.EventEmitter).on('error', onError);
  return { client, close: () => closeRawClient(raw) };
}

function fitForBullmq(raw: RawClient, onError: (error: unknown) => void): RawClient {
  raw.on('error', onError);
  const duplicate = raw.duplicate.bind(raw);
  Object.assign(raw, {
    destroy: () => raw.disconnect().catch(() => {}),
    duplicate: (...args: Parameters<typeof duplicate>) => fitForBullmq(duplicate(...args), onError),
  });
  return raw;
}

async function closeRawClient(raw: RawClient): Promise<void> {
  if (raw.isReady) await raw.quit().catch(() => {});
  if (raw.isOpen) await raw.disconnect().catch(() => {});
}
