import type { JobSnapshot } from '../jobs/job.ts';
import type { JobRecords } from '../jobs/job-records.ts';
import { RESTART_REASON } from '../jobs/job-runner.ts';
import { type SurfaceDeps, surfaceAt } from './surfaces.ts';

export interface RecoveryDeps extends SurfaceDeps {
  records: JobRecords;
  /** Gives back the quota unit an interrupted job held. */
  releaseReservation(reservation: unknown): Promise<void>;
}

/**
 * On start: every job an earlier run left unfinished is marked interrupted, its quota released,
 * and its message edited to say so with a Retry button (through the interaction token while it is
 * valid, through the bot's own token after). Returns how many were recovered.
 */
export async function recoverUnfinishedJobs(deps: RecoveryDeps, now = Date.now()): Promise<number> {
  const unfinished = await deps.records.unfinished(now);
  for (const record of unfinished) {
    const log = deps.logger.child({ jobId: record.id });
    if (record.reservation !== undefined) {
      await deps
        .releaseReservation(record.reservation)
        .catch((error) => log.error('reservation_release_failed', { error }));
    }
    const snapshot: JobSnapshot = {
      jobId: record.id,
      request: record.request,
      state: 'interrupted',
      startedAt: record.createdAt,
      elapsedMs: now - record.createdAt,
      reason: RESTART_REASON,
    };
    const surface = surfaceAt(record.location, deps);
    try {
      await surface.finish(snapshot);
    } catch (error) {
      log.warn('interrupted_notice_failed', { error });
    }
    await deps.records.save({
      ...record,
      state: 'interrupted',
      reason: RESTART_REASON,
      location: surface.location(),
      updatedAt: Date.now(),
    });
    log.info('job_recovered_as_interrupted', { previousState: record.state });
  }
  return unfinished.length;
}
