import type { Logger } from '../logging/logger.ts';
import type { Reservation } from '../quotas/quota-service.ts';
import type { JobRequest } from './job.ts';
import type { JobCharge, JobSurface, SurfaceLocation } from './job-ports.ts';
import type { JobRecord, JobRecords, StoredJobRecord } from './job-records.ts';
import { RESTART_REASON, type SubmitOptions } from './job-runner.ts';
import { endUnrunJob } from './unrun-job.ts';

/** What recovery asks of the catalogue's models. */
export interface ResumableModels {
  has(modelId: string): boolean;
  canResume(modelId: string): boolean;
}

/**
 * Whether a recorded job is followed again at its service: the service has the job, and its model
 * can be followed. A model gone from the catalogue is still handed to the runner, which settles it
 * (uncharged).
 */
export function shouldResume(record: JobRecord, models: ResumableModels): boolean {
  const { model } = record.request;
  return Boolean(record.serviceJobId) && (!models.has(model) || models.canResume(model));
}

export interface ResumeOnRunnerDeps {
  /** This process's runner; absent where the role runs no jobs (nothing is resumed there). */
  runner?: { submit(request: JobRequest, options: SubmitOptions): unknown };
  models: ResumableModels;
  surfaceAt(location: SurfaceLocation): JobSurface;
  chargeFor(reservation: Reservation): JobCharge;
}

/** `RecoveryDeps.resume` on this process's runner: the job carries on in its own message, charged once. */
export function resumeOnRunner(deps: ResumeOnRunnerDeps): (record: JobRecord) => boolean {
  return (record) => {
    const { runner } = deps;
    if (!runner || !record.serviceJobId || !shouldResume(record, deps.models)) return false;
    runner.submit(record.request, {
      surface: deps.surfaceAt(record.location),
      charge: record.reservation && deps.chargeFor(record.reservation),
      resume: { jobId: record.id, serviceJobId: record.serviceJobId, startedAt: record.createdAt },
    });
    return true;
  };
}

/**
 * On the queue, a job left behind goes back in line only when its model's provider can follow a
 * job it did not start; the rest are recovered where they are.
 */
export function requeueIfResumable(
  models: ResumableModels,
  requeue: (job: StoredJobRecord) => Promise<boolean>,
): (job: StoredJobRecord) => Promise<boolean> {
  return async (job) => (models.canResume(job.record.request.model) ? requeue(job) : false);
}

export interface RecoveryDeps {
  records: JobRecords;
  logger: Logger;
  /** The progress message at a recorded location, to edit it. */
  surfaceAt(location: SurfaceLocation): JobSurface;
  /** Whether the video of a job that died while posting it reached the member. */
  isVideoPosted(record: JobRecord): Promise<boolean>;
  /**
   * Carries on with a job the service still has (job-based services), in the job's message;
   * false when it cannot be resumed (the chat stream died with its process).
   */
  resume(record: JobRecord): boolean;
  /** Settles the quota unit an abandoned job held. */
  commitReservation(reservation: Reservation): Promise<void>;
  releaseReservation(reservation: Reservation): Promise<void>;
}

/**
 * Ends a job its process left behind (a crash, a kill, a lost machine). A job that was being
 * posted when it died is kept when its video reached the member (charged once); every other one is
 * marked interrupted, its unit released, and its message edited to say so with a Retry button
 * (through the interaction token while it is usable, through the bot's own token after).
 */
export function createJobRecovery(deps: RecoveryDeps): (job: StoredJobRecord) => Promise<void> {
  return async ({ record }) => {
    const log = deps.logger.child({ jobId: record.id });
    if (record.state === 'delivering' && (await deps.isVideoPosted(record))) {
      if (record.reservation) await deps.commitReservation(record.reservation);
      await deps.records.save({ ...record, state: 'delivered', updatedAt: Date.now() });
      log.info('job_recovered_as_delivered', { previousState: record.state });
      return;
    }
    if (deps.resume(record)) {
      log.info('job_resumed', { previousState: record.state, serviceJobId: record.serviceJobId });
      return;
    }
    await endUnrunJob(
      record,
      { state: 'interrupted', reason: RESTART_REASON },
      {
        records: deps.records,
        surface: deps.surfaceAt(record.location),
        release: deps.releaseReservation,
        log,
      },
    );
    log.info('job_recovered_as_interrupted', { previousState: record.state });
  };
}
