import type { REST } from 'discord.js';
import type { Config } from '../config.ts';
import { createJobRecovery, requeueIfResumable, resumeOnRunner } from '../services/jobs/job-recovery.ts';
import { JobSweep } from '../services/jobs/job-sweep.ts';
import { isKnownDead } from '../services/jobs/process-identity.ts';
import type { Logger } from '../services/logging/logger.ts';
import { PostedVideoCheck } from '../services/progress-message/posted-video-check.ts';
import type { Cluster } from './cluster.ts';
import type { JobsHalf } from './jobs-half.ts';
import type { Services } from './services.ts';

interface TakeoverParts {
  processId: string;
  services: Services;
  jobsHalf: JobsHalf;
  cluster?: Cluster;
  rest: REST;
  logger: Logger;
}

/** Leases and takeover: this process's lease, and what processes whose lease ran out left behind. */
export function createSweep(config: Config, parts: TakeoverParts): JobSweep {
  const { processId, services, cluster, logger } = parts;
  const { runner, queueWorker } = parts.jobsHalf;
  const { records, charges, store, providers, surfaceFor } = services;
  const postedVideo = new PostedVideoCheck(parts.rest);
  return new JobSweep({
    processId,
    leaseMs: config.PROCESS_LEASE_MS,
    records,
    charges,
    processes: store.processes,
    isLive: (jobId) => runner?.has(jobId) ?? false,
    uploadTimeoutMs: config.VIDEO_UPLOAD_TIMEOUT_MS,
    queue: cluster?.queue,
    knownDead: isKnownDead(store.backend, processId),
    lease: services.lease,
    // On the queue, a resumable job goes back in line, so it counts against MAX_CONCURRENT_JOBS.
    requeue: queueWorker && requeueIfResumable(providers, (job) => queueWorker.requeue(job)),
    recover: createJobRecovery({
      records,
      logger,
      surfaceAt: surfaceFor,
      isVideoPosted: (record) => postedVideo.isPosted(record),
      resume: resumeOnRunner({
        runner,
        models: providers,
        surfaceAt: surfaceFor,
        chargeFor: (reservation) => charges.chargeFor(reservation),
      }),
      commitReservation: (reservation) => charges.commit(reservation),
      releaseReservation: (reservation) => charges.release(reservation),
    }),
    logger,
  });
}
