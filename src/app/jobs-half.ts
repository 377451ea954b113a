import type { Config } from '../config.ts';
import type { BotMetrics } from '../services/cluster/metrics.ts';
import { QueueWorker } from '../services/cluster/queue-worker.ts';
import { runsJobs } from '../services/cluster/roles.ts';
import { JobRunner } from '../services/jobs/job-runner.ts';
import type { Logger } from '../services/logging/logger.ts';
import { canPayFromReservation } from '../services/quotas/job-cost.ts';
import { HttpVideoDownloader } from '../services/video-service/download/video-download.ts';
import type { Cluster } from './cluster.ts';
import type { Services } from './services.ts';

interface JobsHalfParts {
  services: Services;
  cluster?: Cluster;
  metrics?: BotMetrics;
  logger: Logger;
}

export interface JobsHalf {
  runner?: JobRunner;
  /** Takes jobs from the cluster's queue (REDIS_URL) into the runner. */
  queueWorker?: QueueWorker;
  downloader?: HttpVideoDownloader;
}

/** The runner and, on the queue, the worker that feeds it; nothing where this role runs no jobs. */
export function createJobsHalf(
  config: Config,
  { services, cluster, metrics, logger }: JobsHalfParts,
): JobsHalf {
  if (!runsJobs(config.BOT_ROLE)) return {};
  const { records, moderationLog, lease, charges } = services;
  const downloader = new HttpVideoDownloader({
    timeoutMs: config.VIDEO_DOWNLOAD_TIMEOUT_MS,
    allowPrivate: config.ALLOW_PRIVATE_VIDEO_URLS,
  });
  const runner = new JobRunner({
    models: services.providers,
    downloader,
    logger,
    // On the queue, the cluster's line is BullMQ's: this runner only runs what this worker took.
    maxConcurrent: cluster ? config.WORKER_CONCURRENCY : config.MAX_CONCURRENT_JOBS,
    maxConcurrentDeliveries: config.MAX_CONCURRENT_DELIVERIES,
    progressIntervalMs: config.PROGRESS_EDIT_INTERVAL_MS,
    serviceRetries: { attempts: config.SERVICE_RETRIES, baseDelayMs: config.SERVICE_RETRY_DELAY_MS },
    maxDeliveryBytesInFlight: config.MAX_DELIVERY_BYTES_IN_FLIGHT,
    onUpdate: (update) => {
      records.track(update);
      moderationLog.jobUpdated(update);
    },
    onDelivering: (update) => records.markDelivering(update, config.STORE_TIMEOUT_MS),
    onStreamEvent: metrics && ((type) => metrics.streamEvent(type)),
    onProgressEdit: metrics && ((seconds) => metrics.progressEdited(seconds)),
    onFinished: (snapshot) => {
      metrics?.jobFinished(snapshot.state, reasonLabel(snapshot));
      moderationLog.jobFinished(snapshot);
    },
    ownership: { lease, isOwn: (jobId) => records.isOwn(jobId) },
    canPay: canPayFromReservation,
  });
  const queueWorker =
    cluster &&
    new QueueWorker({
      ...cluster,
      records,
      runner,
      surfaceAt: services.surfaceFor,
      chargeFor: (reservation) => charges.chargeFor(reservation),
      logger,
      concurrency: config.WORKER_CONCURRENCY,
      holdMs: config.PROCESS_LEASE_MS,
      onTaken: metrics && ((waitedMs) => metrics.queueWaited(waitedMs / 1000)),
      onFinished: metrics && ((state) => metrics.jobFinished(state, '')),
    });
  return { runner, queueWorker, downloader };
}

/** A message key names the reason; a service's own words would make one series per sentence. */
function reasonLabel(snapshot: { state: string; reason?: unknown }): string {
  if (snapshot.state === 'delivered' || snapshot.state === 'cancelled') return '';
  const reason = snapshot.reason;
  if (reason && typeof reason === 'object' && 'key' in reason) return String(reason.key);
  return reason ? 'service' : '';
}
