import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CancelBus, type CancelRequest } from '../../../src/services/cluster/cancel-bus.ts';
import { type RedisServer, startRedisServer } from '../../harness/redis-server.ts';
import { delay, waitUntil } from './wait-until.ts';

describe('CancelBus on a real redis-server', () => {
  let redis: RedisServer;
  const open: CancelBus[] = [];
  const newBus = (url = redis.url, namespace = `ns${randomUUID()}`, onError?: (error: unknown) => void) => {
    const bus = new CancelBus({ redisUrl: url, namespace, ...(onError ? { onError } : {}) });
    open.push(bus);
    return bus;
  };

  beforeAll(async () => {
    redis = await startRedisServer();
  });

  afterEach(async () => {
    await Promise.all(open.splice(0).map((bus) => bus.close()));
  });

  afterAll(async () => {
    await redis.stop();
  });

  it('delivers a cancel pressed on one gateway to a listener on another process', async () => {
    const namespace = `ns${randomUUID()}`;
    const gateway = newBus(redis.url, namespace);
    const worker = newBus(redis.url, namespace);
    const heard: CancelRequest[] = [];
    worker.onCancel((request) => heard.push(request));
    await worker.ready();

    await gateway.requestCancel('job-1', 'member-7');
    await waitUntil('the worker heard the cancel', () => heard.length === 1);
    expect(heard).toEqual([{ jobId: 'job-1', byMemberId: 'member-7' }]);
  });

  it('leaves a marker that a worker taking the job later still sees', async () => {
    const namespace = `ns${randomUUID()}`;
    await newBus(redis.url, namespace).requestCancel('job-2', 'member-8');

    const lateWorker = newBus(redis.url, namespace);
    expect(await lateWorker.isCancelRequested('job-2')).toEqual({ jobId: 'job-2', byMemberId: 'member-8' });
    expect(await lateWorker.isCancelRequested('job-3')).toBeUndefined();
  });

  it('stops calling a listener that unsubscribed, and keeps the bus apart from other namespaces', async () => {
    const namespace = `ns${randomUUID()}`;
    const gateway = newBus(redis.url, namespace);
    const worker = newBus(redis.url, namespace);
    const stranger = newBus();
    const heard: string[] = [];
    const strangerHeard: string[] = [];
    const stop = worker.onCancel((request) => heard.push(request.jobId));
    worker.onCancel((request) => heard.push(`second ${request.jobId}`));
    stranger.onCancel((request) => strangerHeard.push(request.jobId));
    await Promise.all([worker.ready(), stranger.ready()]);

    stop();
    await gateway.requestCancel('job-4', 'member-9');
    await waitUntil('the remaining listener heard it', () => heard.length === 1);
    await delay(200);
    expect(heard).toEqual(['second job-4']);
    expect(strangerHeard).toEqual([]);
  });

  it('survives Redis being killed and restarted, and works again afterwards', async () => {
    const own = await startRedisServer();
    try {
      const errors: unknown[] = [];
      const namespace = `ns${randomUUID()}`;
      const gateway = newBus(own.url, namespace, (error) => errors.push(error));
      const worker = newBus(own.url, namespace, (error) => errors.push(error));
      const heard: string[] = [];
      worker.onCancel((request) => heard.push(request.jobId));
      await worker.ready();

      await own.kill();
      await waitUntil('the outage is reported', () => errors.length > 0);
      await expect(gateway.requestCancel('job-during', 'member-1')).rejects.toThrow();
      await own.restart();

      await waitUntil(
        'a cancel after the restart reaches the worker',
        async () => {
          await gateway.requestCancel('job-after', 'member-1').catch(() => {});
          await delay(100);
          return heard.includes('job-after');
        },
        30_000,
      );
      expect(await worker.isCancelRequested('job-after')).toEqual({
        jobId: 'job-after',
        byMemberId: 'member-1',
      });
    } finally {
      await Promise.all(open.splice(0).map((bus) => bus.close()));
      await own.stop();
    }
  });

  it('closes without hanging while Redis is down', async () => {
    const own = await startRedisServer();
    const bus = new CancelBus({ redisUrl: own.url });
    try {
      await bus.ready();
      await own.kill();
      await bus.close();
    } finally {
      await own.stop();
    }
  });
});
