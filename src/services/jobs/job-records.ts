import type { Logger } from '../logger.ts';
import type { Collection, Store } from '../store.ts';
import {
  FINAL_STATES,
  type JobRequest,
  type JobSnapshot,
  type JobState,
  type SurfaceLocation,
} from './job.ts';

/** What the store keeps of a job: enough to find its message and its charge after a restart, and to run it again. */
export interface JobRecord {
  id: string;
  request: JobRequest;
  state: JobState;
  location: SurfaceLocation;
  reservation?: unknown;
  videoUrl?: string;
  reason?: string;
  createdAt: number;
  updatedAt: number;
}

/** Finished records are kept this long, so Retry and Regenerate keep working for a while. */
const KEEP_FINISHED_MS = 7 * 24 * 60 * 60_000;

export class JobRecords {
  private readonly records: Collection<JobRecord>;
  /** Writes per job are chained so an older state can never land after a newer one. */
  private readonly writes = new Map<string, Promise<void>>();

  constructor(
    store: Store,
    private readonly logger: Logger,
  ) {
    this.records = store.collection<JobRecord>('jobs');
  }

  /** Records a state change; never throws (a store hiccup must not break a running job). */
  track(snapshot: JobSnapshot, location: SurfaceLocation, reservation?: unknown): void {
    const record: JobRecord = {
      id: snapshot.jobId,
      request: snapshot.request,
      state: snapshot.state,
      location,
      reservation,
      videoUrl: snapshot.videoUrl,
      reason: snapshot.reason,
      createdAt: snapshot.startedAt,
      updatedAt: Date.now(),
    };
    const previous = this.writes.get(record.id) ?? Promise.resolve();
    const write = previous
      .then(() => this.records.set(record.id, record))
      .catch((error) => this.logger.warn('job_record_write_failed', { jobId: record.id, error }))
      .finally(() => {
        if (this.writes.get(record.id) === write) this.writes.delete(record.id);
      });
    this.writes.set(record.id, write);
  }

  get(jobId: string): Promise<JobRecord | undefined> {
    return this.records.get(jobId);
  }

  save(record: JobRecord): Promise<void> {
    return this.records.set(record.id, record);
  }

  /** Waits for the writes in flight: before shutdown and in tests. */
  async flush(): Promise<void> {
    await Promise.all(this.writes.values());
  }

  /** Jobs an earlier run left unfinished; drops finished records past their keeping time. */
  async unfinished(now = Date.now()): Promise<JobRecord[]> {
    const left: JobRecord[] = [];
    for (const [id, record] of await this.records.entries()) {
      if (!FINAL_STATES.has(record.state)) left.push(record);
      else if (now - record.updatedAt > KEEP_FINISHED_MS) await this.records.delete(id);
    }
    return left;
  }
}
