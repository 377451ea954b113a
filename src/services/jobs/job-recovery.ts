import type { Logger } from '../logging/logger.ts';
import type { Reservation } from '../quotas/quota-service.ts';
import type { JobSurface, SurfaceLocation } from './job-ports.ts';
import type { JobRecord, JobRecords, StoredJobRecord } from './job-records.ts';
import { RESTART_REASON } from './job-runner.ts';
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
