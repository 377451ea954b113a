import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CancelBus } from '../../../src/services/cluster/cancel-bus.ts';
import { JobQueue, type QueuedPayload } from '../../../src/services/cluster/job-queue.ts';
import { BotMetrics } from '../../../src/services/cluster/metrics.ts';
import { QueuedJobs } from '../../../src/services/cluster/queued-jobs.ts';
import type { JobRequest, JobSnapshot } from '../../../src/services/jobs/job.ts';
import type { JobSurface, SurfaceLocation } from '../../../src/services/jobs/job-ports.ts';
import { JobRecords } from '../../../src/services/jobs/job-records.ts';
import { silentLogger } from '../../../src/services/logging/logger.ts';
import { createStore } from '../../../src/services/store/create-store.ts';
import type { Store } from '../../../src/services/store/store.ts';
import { type RedisServer, startRedisServer } from '../../harness/redis-server.ts';
import { waitUntil } from './wait-until.ts';

/**
 * A gateway's side of the cluster queue against a real redis-server (no worker takes anything, so
 * a job stays waiting) and a real store for the records.
 */

class RecordingSurface implements JobSurface {
  readonly uploadLimitBytes = 1_000;
  shown: JobSnapshot[] = [];
  finished: JobSnapshot[] = [];
  private readonly moves: Array<() => void> = [];
  private where: SurfaceLocation = {
    kind: 'interaction',
    applicationId: '1',
    token: 'token',
    usableUntil: Date.now() + 60_000,
    channelId: '300000000000000003',
    uploadLimitBytes: 1_000,
  };
  onMove(listener: () => void) {
    this.moves.push(listener);
  }
  location() {
    return this.where;
  }
  /** What a hand-over does: to the channel, then to the message posted there. */
  handOver(messageId: string) {
    this.where = { kind: 'channel', channelId: '300000000000000003', uploadLimitBytes: 1_000 };
    for (const moved of this.moves) moved();
    this.where = { ...this.where, messageId };
    for (const moved of this.moves) moved();
  }
  async show(snapshot: JobSnapshot) {
    this.shown.push(snapshot);
  }
  async finish(snapshot: JobSnapshot) {
    this.finished.push(snapshot);
    return undefined;
  }
}

const request: JobRequest = {
  requesterId: '100000000000000001',
  guildId: '200000000000000002',
  channelId: '300000000000000003',
  prompt: 'a heron in the reeds',
  model: 'sora-2',
  source: 'slash',
};

describe('QueuedJobs on a real redis-server', () => {
  let redis: RedisServer;
  let store: Store;
  let dataDir: string;

  beforeAll(async () => {
    redis = await startRedisServer();
    dataDir = mkdtempSync(path.join(tmpdir(), 'sora-bot-queued-jobs-'));
    store = await createStore({ dataDir, logger: silentLogger, timeoutMs: 5_000 });
  });
  afterAll(async () => {
    await store?.close();
    await redis?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  /** A gateway's QueuedJobs on fresh queue and bus names, and what it discarded. */
  function gateway() {
    const queue = new JobQueue<QueuedPayload>({ redisUrl: redis.url, name: `queued-jobs-${randomUUID()}` });
    const cancelBus = new CancelBus({ redisUrl: redis.url, namespace: `queued-jobs-${randomUUID()}` });
    const records = new JobRecords(store, silentLogger, 'gateway-1');
    const discarded: SurfaceLocation[] = [];
    const jobs = new QueuedJobs({
      queue,
      cancelBus,
      records,
      surfaceAt: () => new RecordingSurface(),
      release: async () => {},
      logger: silentLogger,
      refreshMs: 60_000,
      discard: async (location) => {
        discarded.push(location);
      },
    });
    const close = async () => {
      jobs.close();
      await cancelBus.close();
      await queue.close({ abortAfterMs: 100 });
    };
    return { jobs, records, discarded, close };
  }

  it('a waiting job handed over past its token after a worker took it: the gateway withdraws its message, the worker hands over alone', async () => {
    const { jobs, records, discarded, close } = gateway();
    try {
      const surface = new RecordingSurface();
      const jobId = await jobs.submit(request, { surface });
      const stored = await records.stored(jobId);
      const worker = new JobRecords(store, silentLogger, 'worker-1');
      expect(stored && (await worker.claim(stored))).toBeTruthy();

      surface.handOver('gateway-message');

      await waitUntil('the message is withdrawn', () => discarded.length > 0);
      expect(discarded).toEqual([expect.objectContaining({ kind: 'channel', messageId: 'gateway-message' })]);
      expect((await records.stored(jobId))?.record.location.kind).toBe('interaction');
    } finally {
      await close();
    }
  });

  it('a waiting job handed over while still in line: its record points at the new message, nothing withdrawn', async () => {
    const { jobs, records, discarded, close } = gateway();
    try {
      const surface = new RecordingSurface();
      const jobId = await jobs.submit(request, { surface });

      surface.handOver('gateway-message');

      await waitUntil(
        'the record points at the new message',
        async () => (await records.get(jobId))?.location.messageId === 'gateway-message',
      );
      expect(discarded).toEqual([]);
    } finally {
      await close();
    }
  });

  it('a job cancelled while it waits in the queue is counted in sora_jobs_finished_total as cancelled', async () => {
    const queue = new JobQueue<QueuedPayload>({ redisUrl: redis.url, name: `queued-jobs-${randomUUID()}` });
    const cancelBus = new CancelBus({ redisUrl: redis.url, namespace: `queued-jobs-${randomUUID()}` });
    const metrics = new BotMetrics('gateway');
    const surface = new RecordingSurface();
    const jobs = new QueuedJobs({
      queue,
      cancelBus,
      records: new JobRecords(store, silentLogger, 'gateway-1'),
      surfaceAt: () => surface,
      release: async () => {},
      logger: silentLogger,
      refreshMs: 60_000,
      onFinished: (state) => metrics.jobFinished(state, ''),
    });
    try {
      const jobId = await jobs.submit(request, { surface });
      expect(await jobs.cancel(jobId, request.requesterId)).toBe('cancelled');
      expect(surface.finished.map((snapshot) => snapshot.state)).toEqual(['cancelled']);
      expect(await metrics.text()).toMatch(/^sora_jobs_finished_total\{[^}]*state="cancelled"[^}]*\} 1$/m);
    } finally {
      jobs.close();
      await cancelBus.close();
      await queue.close({ abortAfterMs: 100 });
    }
  });
});
