import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SQLITE_FILE_NAME } from '../../../src/services/store/sqlite-backend.ts';
import type { Store } from '../../../src/services/store/store.ts';
import { snowflake } from '../../fakes/fake-discord/snowflake.ts';
import { storeBackends } from '../../harness/store-backends.ts';

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

  describe('job records and leases', () => {
    const record = (state: string) => ({ state });
    const freshJob = () => `job-${snowflake()}`;

    it('a process whose lease ran out is dead; a renewed or live one is alive; a clean stop ends it at once', async () => {
      const { processes } = await open();
      const [a, b, c] = [freshJob(), freshJob(), freshJob()];
      const now = Date.now();
      await processes.renew(a, 60_000, now);
      await processes.renew(b, 60_000, now);
      await processes.renew(c, 1_000, now);
      await processes.remove(b);
      // Redis counts the lease from its own clock, SQLite from the writer's: wait it out for real.
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      expect(await processes.alive([a, b, c, 'never-seen'], Date.now())).toEqual(new Set([a]));
    });

    it('only the owner at its epoch writes a record; a takeover fences out every later write of the old owner', async () => {
      const { jobRecords, processes } = await open();
      const id = freshJob();
      const old = { ownerId: freshJob(), epoch: 1 };
      expect(await jobRecords.write(id, record('generating'), old, false, Date.now())).toBe(true);
      // The owner is alive: nobody may take its job.
      await processes.renew(old.ownerId, 60_000, Date.now());
      expect(await jobRecords.claim(id, old, 'survivor', Date.now())).toBeUndefined();
      await processes.remove(old.ownerId);
      const fence = await jobRecords.claim(id, old, 'survivor', Date.now());
      expect(fence).toEqual({ ownerId: 'survivor', epoch: 2 });
      // A second survivor racing the first finds the job already taken.
      expect(await jobRecords.claim(id, old, 'another', Date.now())).toBeUndefined();
      await jobRecords.write(
        id,
        record('interrupted'),
        fence as { ownerId: string; epoch: number },
        true,
        Date.now(),
      );
      // The old owner's write, delayed past its lease (a pause, a replay after a reconnect), lands too late.
      expect(await jobRecords.write(id, record('delivered'), old, true, Date.now())).toBe(false);
      expect(await jobRecords.get(id)).toMatchObject({
        record: { state: 'interrupted' },
        ownerId: 'survivor',
        epoch: 2,
        final: true,
      });
    });

    it('lists unfinished records only, and prunes finished ones past their keeping time', async () => {
      const { jobRecords } = await open();
      const fence = { ownerId: freshJob(), epoch: 1 };
      const [running, done] = [freshJob(), freshJob()];
      await jobRecords.write(running, record('generating'), fence, false, Date.now());
      await jobRecords.write(done, record('delivered'), fence, true, 1_000);
      const unfinished = (await jobRecords.unfinished()).map((job) => job.id);
      expect(unfinished).toContain(running);
      expect(unfinished).not.toContain(done);
      await jobRecords.pruneFinished(Date.now());
      // SQLite deletes it now; Redis gave it an expiry when it was written final.
      if (backend.name === 'sqlite') expect(await jobRecords.get(done)).toBeUndefined();
      expect(await jobRecords.get(running)).toBeDefined();
    });
  });
});
