import type { Config } from '../config.ts';
import type { CancelBus } from '../services/cluster/cancel-bus.ts';
import type { JobQueue, QueuedPayload } from '../services/cluster/job-queue.ts';
import type { BotMetrics } from '../services/cluster/metrics.ts';

export interface Cluster {
  queue: JobQueue<QueuedPayload>;
  cancelBus: CancelBus;
}

/**
 * The shared queue and cancel bus. Loaded only when REDIS_URL is set: BullMQ alone adds about
 * 25 MiB to a process, which the single-process bot has no use for.
 */
export async function connectCluster(redisUrl: string, onError: (error: unknown) => void): Promise<Cluster> {
  const [{ JobQueue }, { CancelBus }] = await Promise.all([
    import('../services/cluster/job-queue.ts'),
    import('../services/cluster/cancel-bus.ts'),
  ]);
  return {
    queue: new JobQueue<QueuedPayload>({ redisUrl, onError }),
    cancelBus: new CancelBus({ redisUrl, onError }),
  };
}

/** prom-client, loaded only when METRICS_PORT asks for it. */
export async function createMetrics(role: Config['BOT_ROLE']): Promise<BotMetrics> {
  const { BotMetrics } = await import('../services/cluster/metrics.ts');
  return new BotMetrics(role);
}
