import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { silentLogger } from '../../src/services/logging/logger.ts';
import { createStore } from '../../src/services/store/create-store.ts';
import type { Store } from '../../src/services/store/store.ts';
import { type RedisServer, startRedisServer } from './redis-server.ts';

/**
 * The two store backends, for tests that must hold on both: `describe.each(storeBackends())`.
 * Each `openStore()` is a new Store on the same data, like another bot process (Redis) or the same
 * bot after a restart (SQLite).
 */
export interface StoreBackend {
  name: 'sqlite' | 'redis';
  start(): Promise<void>;
  openStore(): Promise<Store>;
  stop(): Promise<void>;
  /** Where the SQLite file lives; the Redis backend never touches it. */
  readonly dataDir: string;
  /** The Redis backend's server, for tests that read its keys raw. */
  readonly redisUrl?: string;
}

export function storeBackends(): StoreBackend[] {
  return [sqliteBackend(), redisBackend()];
}

function sqliteBackend(): StoreBackend {
  let root = '';
  return {
    name: 'sqlite',
    get dataDir() {
      // A directory that does not exist yet: the store must create it.
      return path.join(root, 'data');
    },
    async start() {
      root = mkdtempSync(path.join(tmpdir(), 'sora-bot-store-'));
    },
    openStore() {
      return createStore({ dataDir: this.dataDir, logger: silentLogger, timeoutMs: 5_000 });
    },
    async stop() {
      rmSync(root, { recursive: true, force: true });
    },
  };
}

function redisBackend(): StoreBackend {
  let redis: RedisServer | undefined;
  return {
    name: 'redis',
    dataDir: path.join(tmpdir(), 'sora-bot-redis-mode-never-written'),
    get redisUrl() {
      return redis?.url;
    },
    async start() {
      redis = await startRedisServer();
    },
    openStore() {
      if (!redis) throw new Error('Redis was not started');
      return createStore({
        dataDir: this.dataDir,
        redisUrl: redis.url,
        logger: silentLogger,
        timeoutMs: 5_000,
      });
    },
    async stop() {
      await redis?.stop();
    },
  };
}
