import { randomUUID } from 'node:crypto';
import type Keyv from 'keyv';
import type { Collection } from './store.ts';
import type { StoreGuard } from './store-guard.ts';

/**
 * Named collections of JSON values on one keyv, for plain key/value data (server settings, quota
 * rules). `update` is serialised by a lock: in this process always, across processes on Redis too.
 */
export class KeyvCollections {
  constructor(
    private readonly keyv: Keyv,
    private readonly lock: KeyLock,
    private readonly guard: StoreGuard,
  ) {}

  collection<T>(name: string): Collection<T> {
    if (name.includes(':')) throw new Error(`Collection names cannot contain ':' (got "${name}")`);
    const prefix = `${name}:`;
    const { keyv, lock, guard } = this;
    const collection: Collection<T> = {
      get: (key) => guard.run('get', () => keyv.get<T>(prefix + key)),
      set: (key, value, ttlMs) =>
        guard.run('set', async () => {
          await keyv.set(prefix + key, value, ttlMs);
        }),
      delete: (key) => guard.run('delete', () => keyv.delete(prefix + key)),
      entries: () =>
        guard.run('entries', async () => {
          const found: Array<[string, T]> = [];
          if (!keyv.iterator) throw new Error('This store backend cannot list its keys');
          // The generated iterator ignores its argument; the namespace is already bound.
          for await (const [key, value] of keyv.iterator(undefined)) {
            if (typeof key === 'string' && key.startsWith(prefix))
              found.push([key.slice(prefix.length), value as T]);
          }
          return found;
        }),
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
}

/** Proof of holding a lock; checked right before the write it protects. */
export interface Lease {
  assertHeld(): void;
}

export interface KeyLock {
  withLock<R>(key: string, critical: (lease: Lease) => Promise<R>): Promise<R>;
}

const alwaysHeld: Lease = { assertHeld: () => {} };

/** One holder per key inside this process; waiters queue in arrival order. */
export class ProcessLock implements KeyLock {
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
      // Forget the key once nobody queued behind us, so the map does not grow with every key ever seen.
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}

/**
 * Takes the in-process lock first, so parallel callers in one process wait in memory instead of
 * all polling Redis, then the Redis lock that excludes the other processes.
 */
export class LayeredLock implements KeyLock {
  constructor(
    private readonly outer: KeyLock,
    private readonly inner: KeyLock,
  ) {}

  withLock<R>(key: string, critical: (lease: Lease) => Promise<R>): Promise<R> {
    return this.outer.withLock(key, () => this.inner.withLock(key, critical));
  }
}

/** The part of the node-redis client the lock uses. */
export interface LockClient {
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
 * A single-Redis lock for admin-rate updates (settings, rules): `SET key token NX PX ttl`, released
 * only by its holder. Quota accounting never uses it: its steps are atomic scripts.
 */
export class RedisLock implements KeyLock {
  constructor(
    private readonly client: LockClient,
    private readonly keyPrefix: string,
    private readonly guard: StoreGuard,
  ) {}

  async withLock<R>(key: string, critical: (lease: Lease) => Promise<R>): Promise<R> {
    const lockKey = `${this.keyPrefix}lock:${key}`;
    const token = randomUUID();
    const acquiredAt = await this.acquire(lockKey, token);
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
      await this.guard
        .run('unlock', () => this.client.eval(RELEASE_IF_OURS, { keys: [lockKey], arguments: [token] }))
        // The lock expires by itself; a failed release only delays the next holder.
        .catch(() => undefined);
    }
  }

  private async acquire(lockKey: string, token: string): Promise<number> {
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (let attempt = 0; ; attempt++) {
      const startedAt = Date.now();
      const taken = await this.guard.run('lock', () =>
        this.client.set(lockKey, token, { NX: true, PX: LOCK_TTL_MS }),
      );
      if (taken === 'OK') return startedAt;
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
