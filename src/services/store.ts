import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import KeyvRedis from '@keyv/redis';
import KeyvSqlite from '@keyv/sqlite';
import Keyv from 'keyv';
import type { Logger } from './logger.ts';

/**
 * The bot's persistent key-value store. One keyv underneath, on one of two backends:
 *
 * - SQLite (default): a file at `${dataDir}/sora-bot.sqlite`, nothing else to install. Atomic
 *   updates use an in-process lock, so **SQLite mode supports one bot process** per file.
 * - Redis (when `redisUrl` is set): several bot processes share the data. Atomic updates also take
 *   a Redis lock (`SET NX PX`, released by a compare-and-delete script), so they are atomic across
 *   processes.
 *
 * The rest of the bot sees only named collections of JSON values and never knows which backend runs.
 */

export interface Collection<T> {
  get(key: string): Promise<T | undefined>;
  set(key: string, value: T): Promise<void>;
  /** Resolves true when there was something to delete. */
  delete(key: string): Promise<boolean>;
  /**
   * Every entry of the collection. Scans all of the bot's keys, so it suits start-up and admin
   * views, not per-message paths.
   */
  entries(): Promise<Array<[key: string, value: T]>>;
  /**
   * Atomic read-modify-write of one key: no other `update` of the same key, in this process or (on
   * Redis) another, runs between the read and the write. `change` must be synchronous; returning
   * `next: undefined` leaves the key as it was.
   */
  update<R>(key: string, change: (current: T | undefined) => Update<T, R>): Promise<R>;
}

export interface Update<T, R> {
  next: T | undefined;
  result: R;
}

export interface Store {
  collection<T>(name: string): Collection<T>;
  close(): Promise<void>;
}

export interface StoreOptions {
  dataDir: string;
  redisUrl?: string;
  logger: Logger;
}

export const SQLITE_FILE_NAME = 'sora-bot.sqlite';
const KEY_NAMESPACE = 'sora-bot';

export function createStore({ dataDir, redisUrl, logger }: StoreOptions): Store {
  const backend = redisUrl ? openRedis(redisUrl) : openSqlite(dataDir);
  backend.keyv.on('error', (error: unknown) => logger.warn('store_error', { error }));
  logger.info('store_opened', { backend: backend.name });
  return new KeyvStore(backend.keyv, backend.lock);
}

interface Backend {
  name: 'sqlite' | 'redis';
  keyv: Keyv;
  lock: KeyLock;
}

/**
 * Everything stored is plain JSON, so plain JSON it is: keyv's default serializer also handles
 * Buffers and BigInts, and costs several times more CPU on every quota reservation.
 */
const PLAIN_JSON = { serialize: JSON.stringify, deserialize: JSON.parse } as const;

function openSqlite(dataDir: string): Backend {
  mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, SQLITE_FILE_NAME);
  // iterationLimit is the page size of entries(); the adapter's default of 10 means a query per 10 rows.
  const adapter = new KeyvSqlite({ uri: `sqlite://${file}`, busyTimeout: 5_000, iterationLimit: 500 });
  const keyv = new Keyv({ store: adapter, namespace: KEY_NAMESPACE, throwOnErrors: true, ...PLAIN_JSON });
  return { name: 'sqlite', keyv, lock: new ProcessLock() };
}

function openRedis(redisUrl: string): Backend {
  // throwErrors: by default the adapter swallows failures and answers "no value", which would read
  // as "no usage yet" and hand out videos nobody pays attention to.
  const adapter = new KeyvRedis<unknown>(redisUrl, { throwErrors: true });
  // The adapter prefixes keys with the namespace itself; keyv must not prefix them a second time.
  const keyv = new Keyv({
    store: adapter,
    namespace: KEY_NAMESPACE,
    useKeyPrefix: false,
    throwOnErrors: true,
    ...PLAIN_JSON,
  });
  const redisLock = new RedisLock(() => adapter.getClient() as Promise<LockClient>);
  return { name: 'redis', keyv, lock: new LayeredLock(new ProcessLock(), redisLock) };
}

class KeyvStore implements Store {
  constructor(
    private readonly keyv: Keyv,
    private readonly lock: KeyLock,
  ) {}

  collection<T>(name: string): Collection<T> {
    if (name.includes(':')) throw new Error(`Collection names cannot contain ':' (got "${name}")`);
    const prefix = `${name}:`;
    const keyv = this.keyv;
    const lock = this.lock;
    const collection: Collection<T> = {
      get: (key) => keyv.get<T>(prefix + key),
      set: async (key, value) => {
        await keyv.set(prefix + key, value);
      },
      delete: (key) => keyv.delete(prefix + key),
      entries: async () => {
        const found: Array<[string, T]> = [];
        if (!keyv.iterator) throw new Error('This store backend cannot list its keys');
        // The generated iterator ignores its argument; the namespace is already bound.
        for await (const [key, value] of keyv.iterator(undefined)) {
          if (typeof key === 'string' && key.startsWith(prefix))
            found.push([key.slice(prefix.length), value as T]);
        }
        return found;
      },
      update: (key, change) =>
        lock.withLock(prefix + key, async (lease) => {
          const { next, result } = change(await collection.get(key));
          if (next !== undefined) {
            lease.assertHeld();
            await collection.set(key, next);
          }
          return result;
        }),
    };
    return collection;
  }

  async close(): Promise<void> {
    await this.keyv.disconnect();
  }
}

/** Proof of holding a lock; checked right before the write it protects. */
interface Lease {
  assertHeld(): void;
}

interface KeyLock {
  withLock<R>(key: string, critical: (lease: Lease) => Promise<R>): Promise<R>;
}

const alwaysHeld: Lease = { assertHeld: () => {} };

/** One holder per key inside this process; waiters queue in arrival order. */
class ProcessLock implements KeyLock {
  private readonly tails = new Map<string, Promise<void>>();

  async withLock<R>(key: string, critical: (lease: Lease) => Promise<R>): Promise<R> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let unlock = () => {};
    const mine = new Promise<void>((resolve) => {
      unlock = resolve;
    });
    const tail = previous.then(() => mine);
    this.tails.set(key, tail);
    await previous;
    try {
      return await critical(alwaysHeld);
    } finally {
      unlock();
      // Forget the key once nobody queued behind us, so the map does not grow with every guild ever seen.
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}

/**
 * Takes the in-process lock first, so parallel callers in one process wait in memory instead of
 * all polling Redis, then the Redis lock that excludes the other processes.
 */
class LayeredLock implements KeyLock {
  constructor(
    private readonly outer: KeyLock,
    private readonly inner: KeyLock,
  ) {}

  withLock<R>(key: string, critical: (lease: Lease) => Promise<R>): Promise<R> {
    return this.outer.withLock(key, () => this.inner.withLock(key, critical));
  }
}

/** The part of the node-redis client the lock uses. */
interface LockClient {
  set(key: string, value: string, options: { NX: true; PX: number }): Promise<string | null>;
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
}

export class StoreLockError extends Error {
  override name = 'StoreLockError';
}

const LOCK_TTL_MS = 10_000;
/** Stop writing this long before the lock expires, to leave room for the write itself. */
const LOCK_SAFETY_MARGIN_MS = 2_000;
const LOCK_WAIT_MS = 15_000;
const RELEASE_IF_OURS = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0`;

/**
 * A single-Redis lock: `SET key token NX PX ttl`, released only by its holder. The lock expires so
 * a crashed process cannot hold it forever; a holder that took longer than the TTL (minus a margin)
 * refuses to write instead of overwriting a newer holder's result.
 */
class RedisLock implements KeyLock {
  constructor(private readonly client: () => Promise<LockClient>) {}

  async withLock<R>(key: string, critical: (lease: Lease) => Promise<R>): Promise<R> {
    const client = await this.client();
    const lockKey = `${KEY_NAMESPACE}:lock:${key}`;
    const token = randomUUID();
    const acquiredAt = await this.acquire(client, lockKey, token);
    const lease: Lease = {
      assertHeld: () => {
        if (Date.now() - acquiredAt > LOCK_TTL_MS - LOCK_SAFETY_MARGIN_MS) {
          throw new StoreLockError(`Lock on ${key} held too long; the update was not written`);
        }
      },
    };
    try {
      return await critical(lease);
    } finally {
      await client.eval(RELEASE_IF_OURS, { keys: [lockKey], arguments: [token] });
    }
  }

  private async acquire(client: LockClient, lockKey: string, token: string): Promise<number> {
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (let attempt = 0; ; attempt++) {
      const startedAt = Date.now();
      if ((await client.set(lockKey, token, { NX: true, PX: LOCK_TTL_MS })) === 'OK') return startedAt;
      if (startedAt > deadline) throw new StoreLockError(`Timed out waiting for the lock on ${lockKey}`);
      await sleep(retryDelayMs(attempt));
    }
  }
}

/** Short, growing, jittered waits: contention is brief, and jitter keeps processes from retrying in step. */
function retryDelayMs(attempt: number): number {
  const ceiling = Math.min(5 * 2 ** attempt, 100);
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
