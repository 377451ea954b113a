import type { Logger } from '../logging/logger.ts';
import type { Reservation } from '../quotas/quota-service.ts';
import { type JobReason, jobSnapshot } from './job.ts';
import type { JobSurface } from './job-ports.ts';
import type { JobRecord, JobRecords } from './job-records.ts';

/** How a job ends that no runner has (or will) run: left behind by a lost process, or cancelled while queued. */
export type UnrunEnding =
  | { state: 'interrupted'; reason: JobReason }
  | { state: 'cancelled'; cancelledBy: string };

export interface UnrunJobDeps {
  records: JobRecords;
  surface: JobSurface;
  release(reservation: Reservation): Promise<void>;
  log: Logger;
}

/**
 * Ends a job without running it: its unit is given back first (so "/usage" agrees with the final
 * message), then its message says how it ended, then its record. The caller must own the record.
 */
export async function endUnrunJob(record: JobRecord, ending: UnrunEnding, deps: UnrunJobDeps): Promise<void> {
  const { records, surface, log } = deps;
  if (record.reservation) {
    await deps
      .release(record.reservation)
      .catch((error) => log.error('reservation_release_failed', { error }));
  }
  const now = Date.now();
  const snapshot = jobSnapshot(
    { jobId: record.id, request: record.request, startedAt: record.createdAt },
    ending,
    now,
  );
  try {
    await surface.finish(snapshot);
  } catch (error) {
    log.warn('final_message_failed', { state: ending.state, error });
  }
  await records.save({
    ...record,
    state: ending.state,
    reason: ending.state === 'interrupted' ? ending.reason : undefined,
    location: surface.location(),
    updatedAt: Date.now(),
  });
}
