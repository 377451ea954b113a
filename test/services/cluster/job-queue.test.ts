import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type JobHandler, JobQueue } from '../../../src/services/cluster/job-queue.ts';
import { createBullConnection } from '../../../src/services/redis/redis-clients.ts';
import { type RedisServer, startRedisServer } from '../../harness/redis-server.ts';
import { delay, waitUntil } from './wait-until.ts';

interface Payload {
  jobId: string;
  prompt: string;
}

/** A handler the test finishes by hand, recording when each job started and ended. */
function gatedHandler() {
  const started: string[] = [];
  const events: string[] = [];
  const gates = new Map<string, () => void>();
  const handler: JobHandler<Payload> = async (payload, { signal }) => {
    started.push(payload.jobId);
    events.push(`start ${payload.jobId}`);
    await new Promise<void>((resolve) => {
      gates.set(payload.jobId, resolve);
      signal.addEventListener('abort', () => resolve());
    });
    events.push(`end ${payload.jobId}`);
  };
  const finish = (jobId: string) => gates.get(jobId)?.();
  return { handler, started, events, finish };
}

describe('JobQueue on a real redis-server', () => {
  let redis: RedisServer;
  const open: JobQueue<Payload>[] = [];
  const children: ChildProcess[] = [];
  const errors: unknown[] = [];

  const newQueue = (name: string) => {
    const queue = new JobQueue<Payload>({
      redisUrl: redis.url,
      name,
      onError: (error) => errors.push(error),
    });
    open.push(queue);
    return queue;
  };
  const job = (jobId = `job-${randomUUID()}`): Payload => ({ jobId, prompt: 'a cat on a skateboard' });

  beforeAll(async () => {
    redis = await startRedisServer();
  });

  afterEach(async () => {
    for (const child of children.splice(0)) child.kill('SIGKILL');
    await Promise.all(open.splice(0).map((queue) => queue.close({ abortAfterMs: 100 })));
  });

  afterAll(async () => {
    await redis.stop();
  });

  it('delivers the payload to the handler once', async () => {
    const queue = newQueue(`q${randomUUID()}`);
    const seen: Payload[] = [];
    queue.consume(
      async (payload) => {
        seen.push(payload);
      },
      { concurrency: 2 },
    );
    const payload = job();
    await queue.enqueue(payload);
    await waitUntil('the handler ran', () => seen.length === 1);
    await waitUntil('the queue is empty', async () => (await queue.counts()).active === 0);
    expect(seen).toEqual([payload]);
  });

  it('treats a second enqueue of the same job id as a no-op', async () => {
    const queue = newQueue(`q${randomUUID()}`);
    const payload = job();
    await queue.enqueue(payload);
    await queue.enqueue({ ...payload, prompt: 'something else' });
    expect(await queue.counts()).toEqual({ waiting: 1, active: 0 });

    const seen: Payload[] = [];
    queue.consume(
      async (received) => {
        seen.push(received);
      },
      { concurrency: 1 },
    );
    await waitUntil('the job ran', () => seen.length === 1);
    await waitUntil('nothing is left', async () => (await queue.counts()).active === 0);
    expect(seen).toEqual([payload]);
  });

  it('never runs two jobs at once across consumers when the global concurrency is 1', async () => {
    const name = `q${randomUUID()}`;
    const producer = newQueue(name);
    await producer.setGlobalConcurrency(1);
    const events: string[] = [];
    const handler: JobHandler<Payload> = async (payload) => {
      events.push(`start ${payload.jobId}`);
      await delay(150);
      events.push(`end ${payload.jobId}`);
    };
    newQueue(name).consume(handler, { concurrency: 1 });
    newQueue(name).consume(handler, { concurrency: 1 });
    const jobs = [job(), job(), job(), job()];
    for (const payload of jobs) await producer.enqueue(payload);

    await waitUntil('every job ended', () => events.filter((event) => event.startsWith('end')).length === 4);
    for (let index = 0; index < events.length; index += 2) {
      const jobId = events[index]?.slice('start '.length);
      expect([events[index], events[index + 1]]).toEqual([`start ${jobId}`, `end ${jobId}`]);
    }
  });

  it('removes a job that is still waiting, and its handler never runs', async () => {
    const queue = newQueue(`q${randomUUID()}`);
    const kept = job();
    const removed = job();
    await queue.enqueue(removed);
    await queue.enqueue(kept);

    expect(await queue.removeWaiting(removed.jobId)).toBe(true);
    expect(await queue.removeWaiting(removed.jobId)).toBe(false);

    const seen: string[] = [];
    queue.consume(
      async (payload) => {
        seen.push(payload.jobId);
      },
      { concurrency: 1 },
    );
    await waitUntil('the kept job ran', () => seen.includes(kept.jobId));
    await delay(300);
    expect(seen).toEqual([kept.jobId]);
  });

  it('does not remove a job a worker already took', async () => {
    const queue = newQueue(`q${randomUUID()}`);
    const gated = gatedHandler();
    queue.consume(gated.handler, { concurrency: 1 });
    const payload = job();
    await queue.enqueue(payload);
    await waitUntil('the job started', () => gated.started.length === 1);

    expect(await queue.removeWaiting(payload.jobId)).toBe(false);
    gated.finish(payload.jobId);
    await waitUntil('the job ended', () => gated.events.includes(`end ${payload.jobId}`));
  });

  it('gives each waiting job its place in the whole cluster line', async () => {
    const name = `q${randomUUID()}`;
    const gatewayA = newQueue(name);
    const gatewayB = newQueue(name);
    const first = job();
    const second = job();
    const third = job();
    await gatewayA.enqueue(first);
    await gatewayB.enqueue(second);
    await gatewayA.enqueue(third);

    expect(await gatewayB.positionOf(first.jobId)).toBe(1);
    expect(await gatewayA.positionOf(second.jobId)).toBe(2);
    expect(await gatewayB.positionOf(third.jobId)).toBe(3);
    expect(await gatewayA.positionOf('job-unknown')).toBeUndefined();
    expect(await gatewayA.counts()).toEqual({ waiting: 3, active: 0 });

    const gated = gatedHandler();
    newQueue(name).consume(gated.handler, { concurrency: 1 });
    await waitUntil('the first job started', () => gated.started.length === 1);
    expect(await gatewayA.positionOf(first.jobId)).toBeUndefined();
    expect(await gatewayB.positionOf(second.jobId)).toBe(1);
    expect(await gatewayA.positionsOf([second.jobId, third.jobId])).toEqual(
      new Map([
        [second.jobId, 1],
        [third.jobId, 2],
      ]),
    );
    expect(await gatewayA.counts()).toEqual({ waiting: 2, active: 1 });
  });

  it('does not run a job again when its worker process dies, and reports it as stalled', async () => {
    const name = `q${randomUUID()}`;
    const lockMs = 1_000;
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        path.join(import.meta.dirname, 'stalling-consumer.ts'),
        redis.url,
        name,
        String(lockMs),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    children.push(child);
    let childOutput = '';
    child.stdout?.on('data', (chunk) => {
      childOutput += chunk;
    });
    await waitUntil('the child consumes', () => childOutput.includes('consuming'));

    const producer = newQueue(name);
    const payload = job();
    await producer.enqueue(payload);
    await waitUntil('the child started the job', () => childOutput.includes(`started ${payload.jobId}`));
    child.kill('SIGKILL');

    const survivor = newQueue(name);
    const stalled: string[] = [];
    const ran: string[] = [];
    survivor.consume(
      async (received) => {
        ran.push(received.jobId);
      },
      { concurrency: 1, lockDurationMs: lockMs, stalledIntervalMs: 300, onStalled: (id) => stalled.push(id) },
    );

    await waitUntil('the survivor reports the stalled job', () => stalled.includes(payload.jobId));
    await waitUntil('the job is no longer waiting or active', async () => {
      const counts = await producer.counts();
      return counts.waiting === 0 && counts.active === 0;
    });
    // What BullMQ made of it: failed, without a second run, for the reason maxStalledCount 0 gives.
    const connection = createBullConnection(redis.url, () => {});
    const inspector = new Queue(name, { connection: connection.client });
    try {
      const stalledJob = await inspector.getJob(`job-${payload.jobId}`);
      expect(await inspector.getJobState(`job-${payload.jobId}`)).toBe('failed');
      expect(stalledJob?.failedReason).toBe('job stalled more than allowable limit');
      expect(stalledJob?.attemptsStarted).toBe(2);
    } finally {
      await inspector.close();
      await connection.close();
    }
    // A later job still runs on the survivor: it is alive, it just never re-ran the stalled one.
    const later = job();
    await producer.enqueue(later);
    await waitUntil('the later job ran', () => ran.includes(later.jobId));
    expect(ran).toEqual([later.jobId]);
  });

  it('aborts a running handler at the close deadline', async () => {
    const queue = new JobQueue<Payload>({ redisUrl: redis.url, name: `q${randomUUID()}` });
    let aborted: unknown;
    queue.consume(
      (_payload, { signal }) =>
        new Promise<void>((resolve) => {
          signal.addEventListener('abort', () => {
            aborted = signal.reason;
            resolve();
          });
        }),
      { concurrency: 1 },
    );
    const payload = job();
    await queue.enqueue(payload);
    await waitUntil('the job is active', async () => (await queue.counts()).active === 1);
    await queue.close({ abortAfterMs: 200 });
    expect(aborted).toMatchObject({ name: 'JobAbortedError', jobId: payload.jobId, reason: 'shutdown' });
  });

  it('survives Redis going away and coming back', async () => {
    const own = await startRedisServer();
    const ownErrors: unknown[] = [];
    const queue = new JobQueue<Payload>({
      redisUrl: own.url,
      name: `q${randomUUID()}`,
      onError: (error) => ownErrors.push(error),
    });
    try {
      const seen: string[] = [];
      queue.consume(
        async (payload) => {
          seen.push(payload.jobId);
        },
        { concurrency: 1 },
      );
      const before = job();
      await queue.enqueue(before);
      await waitUntil('the first job ran', () => seen.includes(before.jobId));

      await own.kill();
      await waitUntil('the outage is reported', () => ownErrors.length > 0);
      await own.restart();

      const after = job();
      await queue.enqueue(after);
      await waitUntil('a job enqueued after the restart ran', () => seen.includes(after.jobId), 30_000);
    } finally {
      await queue.close({ abortAfterMs: 100 });
      await own.stop();
    }
  });

  it('closes without hanging or crashing while Redis is down', async () => {
    const own = await startRedisServer();
    const queue = new JobQueue<Payload>({ redisUrl: own.url, name: `q${randomUUID()}` });
    try {
      const gated = gatedHandler();
      queue.consume(gated.handler, { concurrency: 1 });
      await queue.enqueue(job());
      await waitUntil('the job started', () => gated.started.length === 1);
      await own.kill();
      await queue.close({ abortAfterMs: 100 });
      expect(gated.events.filter((event) => event.startsWith('end'))).toHaveLength(1);
    } finally {
      await own.stop();
    }
  });
});
