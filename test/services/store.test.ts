import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SQLITE_FILE_NAME } from '../../src/services/store/sqlite-backend.ts';
import type { Store } from '../../src/services/store/store.ts';
import { snowflake } from '../support/snowflake.ts';
import { storeBackends } from '../support/store-backends.ts';

interface Job {
  state: string;
  attempts: number;
}

describe.each(storeBackends())('Store on $name', (backend) => {
  const stores: Store[] = [];
  const open = async () => {
    const store = await backend.openStore();
    stores.push(store);
    return store;
  };
  /** A collection no other test uses, so tests share the backend without seeing each other. */
  const freshName = () => `jobs${snowflake()}`;

  beforeAll(() => backend.start());

  afterAll(async () => {
    await Promise.all(stores.map((store) => store.close()));
    await backend.stop();
  });

  it(
    backend.name === 'sqlite' ? 'creates DATA_DIR and the SQLite file in it' : 'writes no SQLite file',
    async () => {
      const store = await open();
      await store.collection<Job>(freshName()).set('a', { state: 'queued', attempts: 0 });
      expect(existsSync(path.join(backend.dataDir, SQLITE_FILE_NAME))).toBe(backend.name === 'sqlite');
    },
  );

  it('gets, sets and deletes JSON values', async () => {
    const jobs = (await open()).collection<Job>(freshName());
    expect(await jobs.get('a')).toBeUndefined();
    await jobs.set('a', { state: 'queued', attempts: 0 });
    expect(await jobs.get('a')).toEqual({ state: 'queued', attempts: 0 });
    expect(await jobs.delete('a')).toBe(true);
    expect(await jobs.delete('a')).toBe(false);
    expect(await jobs.get('a')).toBeUndefined();
  });

  it('lists the entries of one collection only', async () => {
    const store = await open();
    const jobs = store.collection<Job>(freshName());
    const others = store.collection<Job>(freshName());
    await jobs.set('a', { state: 'queued', attempts: 0 });
    await jobs.set('b:with-colon', { state: 'done', attempts: 1 });
    await others.set('a', { state: 'other', attempts: 9 });
    const entries = await jobs.entries();
    expect(entries.sort(([a], [b]) => a.localeCompare(b))).toEqual([
      ['a', { state: 'queued', attempts: 0 }],
      ['b:with-colon', { state: 'done', attempts: 1 }],
    ]);
  });

  it('update is an atomic read-modify-write: parallel increments all land', async () => {
    const counters = (await open()).collection<number>(freshName());
    const increments = Array.from({ length: 25 }, () =>
      counters.update('n', (current) => {
        const next = (current ?? 0) + 1;
        return { next, result: next };
      }),
    );
    const results = await Promise.all(increments);
    expect(await counters.get('n')).toBe(25);
    expect(new Set(results).size).toBe(25);
  });

  it('update returning no next value leaves the key as it was', async () => {
    const jobs = (await open()).collection<Job>(freshName());
    await jobs.set('a', { state: 'queued', attempts: 0 });
    expect(await jobs.update('a', (current) => ({ next: undefined, result: current?.state }))).toBe('queued');
    expect(await jobs.get('a')).toEqual({ state: 'queued', attempts: 0 });
  });

  it('values survive closing and reopening the store', async () => {
    const name = freshName();
    const first = await open();
    await first.collection<Job>(name).set('a', { state: 'running', attempts: 2 });
    await first.close();
    stores.splice(stores.indexOf(first), 1);
    expect(await (await open()).collection<Job>(name).get('a')).toEqual({ state: 'running', attempts: 2 });
  });

  it("refuses collection names with ':', which would blur the key prefixes", async () => {
    const store = await open();
    expect(() => store.collection('a:b')).toThrow(/cannot contain ':'/);
  });
});
