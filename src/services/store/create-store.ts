import type { Logger } from '../logging/logger.ts';
import { openRedisStore } from './redis-backend.ts';
import { openSqliteStore } from './sqlite-backend.ts';
import type { Store } from './store.ts';

export interface StoreOptions {
  dataDir: string;
  redisUrl?: string;
  logger: Logger;
  /** The longest any one store call may take before it counts as an outage. */
  timeoutMs: number;
}

/** Redis when a URL is set (several processes share it), else the embedded SQLite file. */
export async function createStore({ dataDir, redisUrl, logger, timeoutMs }: StoreOptions): Promise<Store> {
  const store = redisUrl
    ? await openRedisStore({ url: redisUrl, timeoutMs, logger })
    : await openSqliteStore({ dataDir, timeoutMs, logger });
  logger.info('store_opened', { backend: store.backend });
  return store;
}
