import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JobRecord, StoredJobRecord } from '../../../src/services/jobs/job-records.ts';
import { JobRecords } from '../../../src/services/jobs/job-records.ts';
import { JobSweep } from '../../../src/services/jobs/job-sweep.ts';
import { silentLogger } from '../../../src/services/logging/logger.ts';
import { QuotaCharges } from '../../../src/services/quotas/quota-charges.ts';
import { QuotaService, type Reservation } from '../../../src/services/quotas/quota-service.ts';
import { createStore } from '../../../src/services/store/create-store.ts';
import type { Store } from '../../../src/services/store/store.ts';

/**
 * The sweep against a real store (SQLite): which jobs it takes over, which reservations it settles
 * and how, and that a live process's jobs are never touched. Every path that used to strand a
 * reservation ends settled here.
 */

const DEFAULTS = {
  memberLimit: 5,
  serverLimit: 0,
  period: 'day' as const,
  maxRunningPerMember: 1,
  cooldownSeconds: 0,
};
const GUILD = '300000000000000001';
const LONG_AGO = 10 * 60_000;

let dataDir: string;
let store: Store;

beforeEach(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'sora-bot-sweep-'));
  store = await createStore({ dataDir, logger: silentLogger, timeoutMs: 5_000 });
});
afterEach(async () => {
  await store.close();
  rmSync(dataDir, { recursive: true, force: true });
});

/** One bot process as the sweep sees it: its id, its records, its quotas and what its runner has. */
function processNamed(processId: string, live: string[] = [], knownDead?: (ownerId: string) => boolean) {
  const records = new JobRecords(store, silentLogger, processId);
  const quotas = new QuotaService({
    store,
    defaults: DEFAULTS,
    ownerIds: [],
    logger: silentLogger,
    processId,
  });
  const recovered: StoredJobRecord[] = [];
  const sweep = new JobSweep({
    processId,
    leaseMs: 60_000,
    records,
    charges: new QuotaCharges({ quotas, logger: silentLogger }),
    processes: store.processes,
    isLive: (jobId) => live.includes(jobId),
    uploadTimeoutMs: 120_000,
    knownDead,
    recover: async (job) => {
      recovered.push(job);
      await records.save({ ...job.record, state: 'interrupted', updatedAt: Date.now() });
      if (job.record.reservation) await quotas.release(job.record.reservation);
    },
    logger: silentLogger,
  });
  return { processId, records, quotas, sweep, recovered };
}

const member = (userId: string) => ({ guildId: GUILD, userId, roleIds: [GUILD] });

async function reserve(
  owner: ReturnType<typeof processNamed>,
  userId: string,
  jobId: string,
  at = Date.now(),
) {
  const result = await owner.quotas.reserve(member(userId), at, jobId);
  if (!result.ok) throw new Error(result.reason);
  return result.reservation;
}

function recordOf(jobId: string, state: JobRecord['state'], reservation?: Reservation): JobRecord {
  return {
    id: jobId,
    request: {
      requesterId: '1',
      guildId: GUILD,
      channelId: '2',
      prompt: 'p',
      model: 'sora-2',
      source: 'slash',
    },
    state,
    location: { kind: 'channel', channelId: '2', uploadLimitBytes: 1 },
    reservation,
    createdAt: Date.now(),
    updatedAt: Date.now(),
  };
}

async function running(userId: string, quotas: QuotaService) {
  return (await quotas.usage(member(userId))).running;
}

describe('JobSweep', () => {
  it("takes over a dead process's unfinished job, never a live one's, and never its own live ones", async () => {
    const dead = processNamed('dead');
    const alive = processNamed('alive', ['alive-job']);
    const survivor = processNamed('survivor', ['own-job']);
    await store.processes.renew('alive', 60_000, Date.now());
    await survivor.sweep.start();
    for (const [owner, jobId] of [
      [dead, 'dead-job'],
      [alive, 'alive-job'],
      [survivor, 'own-job'],
    ] as const) {
      await owner.records.save(recordOf(jobId, 'generating', await reserve(owner, `u-${jobId}`, jobId)));
    }

    await survivor.sweep.sweep();

    expect(survivor.recovered.map((job) => job.id)).toEqual(['dead-job']);
    expect(await running('u-dead-job', survivor.quotas)).toBe(0);
    expect(await running('u-alive-job', survivor.quotas)).toBe(1);
    expect(await running('u-own-job', survivor.quotas)).toBe(1);
    expect((await survivor.records.get('alive-job'))?.state).toBe('generating');
    await survivor.sweep.stop();
  });

  it('settles a reservation whose job is final the way the job ended, and one whose job is missing by releasing it', async () => {
    const dead = processNamed('dead-2');
    const sweeper = processNamed('sweeper');
    const delivered = await reserve(dead, 'u1', 'delivered-job');
    await dead.records.save(recordOf('delivered-job', 'delivered', delivered));
    const failed = await reserve(dead, 'u2', 'failed-job');
    await dead.records.save(recordOf('failed-job', 'failed', failed));
    // The process died between reserving and recording its job.
    await reserve(dead, 'u3', 'never-recorded');

    await sweeper.sweep.sweep();

    expect(await sweeper.quotas.usage(member('u1'))).toMatchObject({ used: 1, running: 0 });
    expect(await sweeper.quotas.usage(member('u2'))).toMatchObject({ used: 0, running: 0 });
    expect(await sweeper.quotas.usage(member('u3'))).toMatchObject({ used: 0, running: 0 });
    expect(await sweeper.quotas.pendingReservations()).toEqual([]);
  });

  it("leaves a live process's fresh reservation alone while its job is not recorded yet", async () => {
    const busy = processNamed('busy');
    await store.processes.renew('busy', 60_000, Date.now());
    await reserve(busy, 'u4', 'about-to-start');
    await processNamed('other').sweep.sweep();
    expect(await running('u4', busy.quotas)).toBe(1);
  });

  it("settles this process's own units that its runner no longer has, once they are old enough", async () => {
    const me = processNamed('me');
    // A commit that failed during an outage: the job is delivered, its unit still pending.
    const stranded = await reserve(me, 'u5', 'ended-job', Date.now() - LONG_AGO);
    await me.records.save(recordOf('ended-job', 'delivered', stranded));
    const fresh = await reserve(me, 'u6', 'just-reserved');
    await me.sweep.sweep();
    expect(await me.quotas.usage(member('u5'))).toMatchObject({ used: 1, running: 0 });
    expect((await me.quotas.pendingReservations()).map((entry) => entry.id)).toEqual([fresh.id]);
  });

  it('two survivors sweeping at once take a dead process job over exactly once', async () => {
    const dead = processNamed('dead-3');
    await dead.records.save(recordOf('contested', 'queued', await reserve(dead, 'u7', 'contested')));
    const [a, b] = [processNamed('a'), processNamed('b')];
    await Promise.all([a.sweep.sweep(), b.sweep.sweep()]);
    expect(a.recovered.length + b.recovered.length).toBe(1);
    expect(await running('u7', a.quotas)).toBe(0);
  });

  it("takes a known-dead predecessor's jobs over at once, its lease still running, an upload it had started included", async () => {
    const predecessor = processNamed('host/1/before');
    await store.processes.renew('host/1/before', 60_000, Date.now());
    await predecessor.records.save(
      recordOf('polling', 'generating', await reserve(predecessor, 'u8', 'polling')),
    );
    await predecessor.records.save(
      recordOf('uploading', 'delivering', await reserve(predecessor, 'u9', 'uploading')),
    );
    const stranger = processNamed('elsewhere/7/x');
    await store.processes.renew('elsewhere/7/x', 60_000, Date.now());
    await stranger.records.save(recordOf('not-mine', 'generating'));
    const successor = processNamed('host/1/after', [], (owner) => owner.startsWith('host/1/'));

    await successor.sweep.sweep();

    expect(successor.recovered.map((job) => job.id).sort()).toEqual(['polling', 'uploading']);
    expect(await running('u8', successor.quotas)).toBe(0);
    expect(await running('u9', successor.quotas)).toBe(0);
    expect((await successor.records.get('not-mine'))?.state).toBe('generating');
  });

  it('without knowing its predecessor dead, waits for its lease and for its upload to be surely over', async () => {
    const predecessor = processNamed('host/2/before');
    await store.processes.renew('host/2/before', 60_000, Date.now());
    await predecessor.records.save(recordOf('polling-2', 'generating'));
    const successor = processNamed('host/2/after');
    await successor.sweep.sweep();
    expect(successor.recovered).toEqual([]);

    await store.processes.remove('host/2/before');
    await predecessor.records.save(recordOf('uploading-2', 'delivering'));
    await successor.sweep.sweep();
    expect(successor.recovered.map((job) => job.id)).toEqual(['polling-2']);
  });
});
