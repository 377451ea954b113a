import type { Client } from 'discord.js';
import type { Config } from '../config.ts';
import { HealthServer } from '../services/cluster/health-server.ts';
import type { BotMetrics } from '../services/cluster/metrics.ts';
import type { JobRunner } from '../services/jobs/job-runner.ts';
import type { Logger } from '../services/logging/logger.ts';
import type { Store } from '../services/store/store.ts';
import type { Cluster } from './cluster.ts';

/** How often queue and runner counts are sampled for the metrics. */
const METRICS_SAMPLE_MS = 5_000;

interface OperatorViewParts {
  metrics?: BotMetrics;
  cluster?: Cluster;
  runner?: JobRunner;
  client?: Client;
  store: Store;
  processId: string;
  logger: Logger;
  onClusterError: (error: unknown) => void;
}

export interface OperatorView {
  /** The health server's port, when METRICS_PORT opened one. */
  port?: number;
  /** The shards this process holds, for the health answer and the ready line. */
  shards(): number[];
  /** Whether /health answers ready. */
  setReady(ready: boolean): void;
  close(): Promise<void>;
}

/** The metrics sampler and the health server (METRICS_PORT); only the shard list without them. */
export async function startOperatorView(config: Config, parts: OperatorViewParts): Promise<OperatorView> {
  const { metrics, cluster, runner, client, store, processId, logger, onClusterError } = parts;
  let ready = false;
  const shards = () => (client ? [...client.ws.shards.keys()] : []);
  const sampler =
    metrics &&
    setInterval(() => {
      if (cluster) cluster.queue.counts().then((counts) => metrics.queueCounts(counts), onClusterError);
      else if (runner) {
        const counts = runner.counts();
        metrics.queueCounts({ waiting: counts.waiting, active: counts.running });
      }
    }, METRICS_SAMPLE_MS).unref();
  const health =
    metrics &&
    (await HealthServer.start({
      port: config.METRICS_PORT ?? 0,
      host: config.METRICS_HOST,
      metricsToken: config.METRICS_TOKEN,
      metrics,
      health: () => ({
        ready,
        store: store.available ? 'ok' : 'unavailable',
        role: config.BOT_ROLE,
        shards: shards(),
        processId,
      }),
      onError: (error) => logger.warn('health_server_error', { error }),
    }));
  return {
    port: health?.port,
    shards,
    setReady(value) {
      ready = value;
    },
    async close() {
      if (sampler) clearInterval(sampler);
      await health?.close();
    },
  };
}
