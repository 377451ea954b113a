import { setTimeout as sleep } from 'node:timers/promises';
import { aspectRatioOf } from '../catalogue/aspect-ratio.ts';
import type { Logger } from '../logging/logger.ts';
import type { Reservation } from '../quotas/quota-service.ts';
import type { RecordFence, Store, StoredJob } from '../store/store.ts';
import { withDeadline } from '../timing/deadline.ts';
import { isFinal, type JobReason, type JobRequest, type JobState } from './job.ts';
import type { SurfaceLocation } from './job-ports.ts';
import type { JobUpdate } from './job-runner.ts';
import { isSealed, type TokenSeal } from './token-seal.ts';

/**
 * A job's state as recorded: a live state, or `delivering` (the video is being posted; after a
 * crash, the message tells whether it got there).
 */
export type RecordedState = JobState | 'delivering';

/** What the store keeps of a job: enough to find its message and its charge after a restart, and to run it again. */
export interface JobRecord {
  id: string;
  request: JobRequest;
  state: RecordedState;
  location: SurfaceLocation;
  reservation?: Reservation;
  /** The service's own id for the job (job-based services), so another run can resume it. */
  serviceJobId?: string;
  videoUrl?: string;
  reason?: JobReason;
  createdAt: number;
  updatedAt: number;
}

export type StoredJobRecord = StoredJob<JobRecord>;

/**
 * The owner of a queued job's record (cluster mode): no process, so a worker taking the job from
 * the queue claims it like a dead process's, atomically, and only one can. It has no lease; the
 * sweep leaves such records alone while the queue still holds their job.
 */
export const QUEUE_OWNER = 'queue';
const QUEUE_FENCE: RecordFence = { ownerId: QUEUE_OWNER, epoch: 1 };

/** Finished records are kept this long, so Retry and Regenerate keep working for a while. */
export const KEEP_FINISHED_MS = 7 * 24 * 60 * 60_000;
const RETRY_MIN_MS = 100;
const FINISHED_FENCE_KEEP_MS = 60_000;
const RETRY_MAX_MS = 5_000;

interface Writer {
  latest: JobRecord | undefined;
  /** Bumped per record handed in; `written` catches up as they land. */
  version: number;
  written: number;
  running: Promise<void> | undefined;
}

/**
 * Job records, written by their owner process only. Writes are coalesced per job (only the latest
 * state matters) and retried until the store takes them, so an outage delays a record but never
 * loses it; a write is fenced by the owner's epoch, so once another process has taken the job over,
 * nothing this process still had in flight can overwrite the newer record.
 */
export class JobRecords {
  private readonly fences = new Map<string, RecordFence>();
  private readonly writers = new Map<string, Writer>();
  private closed = false;

  /**
   * `seal` keeps interaction tokens sealed in the store while a job may still use them; without
   * one, records hold no token at all (a restarted bot then edits replies with its own token).
   */
  constructor(
    private readonly store: Store,
    private readonly logger: Logger,
    private readonly processId: string,
    private readonly seal?: TokenSeal,
  ) {}

  /** Records a state change in the background; never throws (a store hiccup must not break a job). */
  track(update: JobUpdate): void {
    this.schedule(this.recordOf(update, update.snapshot.state));
  }

  /**
   * Records that the video is being posted, and waits (at most `timeoutMs`) until the store has it:
   * a crash during the upload must find `delivering`, not an older state.
   */
  async markDelivering(update: JobUpdate, timeoutMs: number): Promise<void> {
    const version = this.schedule(this.recordOf(update, 'delivering'));
    const writer = this.writers.get(update.snapshot.jobId);
    const deadline = Date.now() + timeoutMs;
    while (writer && writer.written < version && writer.running && Date.now() < deadline) {
      await withDeadline(writer.running, Math.max(0, deadline - Date.now()));
    }
  }

  async get(jobId: string): Promise<JobRecord | undefined> {
    return (await this.stored(jobId))?.record;
  }

  /** The record with its owner and epoch, as the store has it now. */
  async stored(jobId: string): Promise<StoredJobRecord | undefined> {
    const stored = await this.store.jobRecords.get<JobRecord>(jobId);
    return stored && storedInTodaysWords({ ...stored, record: this.opened(stored.record) });
  }

  /**
   * Whether this process still owns the job, by one read of its record against the fence this
   * process writes with: false once another process has claimed it. A record not written yet is
   * still this process's; a store that does not answer throws.
   */
  async isOwn(jobId: string): Promise<boolean> {
    const stored = await this.store.jobRecords.get<JobRecord>(jobId);
    if (!stored) return true;
    const fence = this.fences.get(jobId) ?? { ownerId: this.processId, epoch: 1 };
    return stored.ownerId === fence.ownerId && stored.epoch === fence.epoch;
  }

  /**
   * Writes the record of a job handed to the cluster queue, owned by the queue until a worker
   * claims it; false once one has (its records are then the worker's alone).
   */
  saveQueued(record: JobRecord): Promise<boolean> {
    return this.store.jobRecords.write(
      record.id,
      this.sealed(record),
      QUEUE_FENCE,
      isFinal(record.state),
      Date.now(),
    );
  }

  /** Jobs not finished, whoever owns them. */
  async unfinished(): Promise<StoredJobRecord[]> {
    const stored = await this.store.jobRecords.unfinished<JobRecord>();
    return stored.map((job) => storedInTodaysWords({ ...job, record: this.opened(job.record) }));
  }

  /** Takes a dead owner's job over; from then on this process writes its record. */
  async claim(job: StoredJobRecord, now = Date.now()): Promise<RecordFence | undefined> {
    const fence = await this.store.jobRecords.claim(job.id, job, this.processId, now);
    if (fence) this.fences.set(job.id, fence);
    return fence;
  }

  /**
   * Takes a dead owner's job over for the cluster queue rather than for this process: the record
   * is the queue's again (at a new epoch, freshly dated), for whichever worker takes it from the
   * line next. Resolves the new fence, or undefined when the owner is alive or someone was faster.
   */
  async claimForQueue(job: StoredJobRecord, now = Date.now()): Promise<RecordFence | undefined> {
    const fence = await this.store.jobRecords.claim(job.id, job, QUEUE_OWNER, now);
    if (!fence) return undefined;
    // Dated now, so no sweep takes it for one the queue lost before it is in line.
    await this.store.jobRecords.write(job.id, { ...job.record, updatedAt: now }, fence, false, now);
    return fence;
  }

  /** Writes a record of a job this process owns (or has just taken over), and waits for it. */
  async save(record: JobRecord): Promise<boolean> {
    const fence = this.fenceOf(record.id);
    const written = await this.store.jobRecords.write(
      record.id,
      this.sealed(record),
      fence,
      isFinal(record.state),
      Date.now(),
    );
    if (isFinal(record.state)) this.forgetFenceLater(record.id);
    return written;
  }

  /** Waits (at most `timeoutMs`) for the writes in flight: before shutdown and in tests. */
  async flush(timeoutMs = 5_000): Promise<void> {
    const running = [...this.writers.values()].map((writer) => writer.running).filter(Boolean);
    await withDeadline(Promise.all(running), timeoutMs);
  }

  /** Stops retrying writes: the process is going away. */
  close(): void {
    this.closed = true;
  }

  /** Drops finished records past their keeping time. */
  prune(now = Date.now()): Promise<number> {
    return this.store.jobRecords.pruneFinished(now - KEEP_FINISHED_MS);
  }

  /**
   * The record as the store gets it: the interaction token sealed while the job may still use it,
   * dropped once the job is final or the token past its use (a job handed over to a channel
   * message has a channel location, with no token, already).
   */
  private sealed(record: JobRecord): JobRecord {
    const { location } = record;
    if (location.kind !== 'interaction' || location.token === '') return record;
    const needed = !isFinal(record.state) && Date.now() < location.usableUntil;
    if (!needed || !this.seal) return withoutToken(record);
    if (isSealed(location.token)) return record;
    return { ...record, location: { ...location, token: this.seal.seal(location.token, record.id) } };
  }

  /** The record as the bot uses it: the token opened, or none when it cannot be (another key). */
  private opened(record: JobRecord): JobRecord {
    const { location } = record;
    if (location.kind !== 'interaction' || !isSealed(location.token)) return record;
    const token = this.seal?.open(location.token, record.id);
    if (token === undefined) {
      this.logger.warn('job_record_token_unreadable', { jobId: record.id });
      return withoutToken(record);
    }
    return { ...record, location: { ...location, token } };
  }

  private recordOf({ snapshot, location, reservation }: JobUpdate, state: RecordedState): JobRecord {
    return {
      id: snapshot.jobId,
      request: snapshot.request,
      state,
      location,
      reservation,
      serviceJobId: snapshot.serviceJobId,
      videoUrl: snapshot.videoUrl,
      reason: snapshot.reason,
      createdAt: snapshot.startedAt,
      updatedAt: Date.now(),
    };
  }

  /**
   * A finished job's last touches (how its video was delivered) come just after its final state:
   * they must carry the same fence (a claimed job's epoch is not 1), so it is kept a little while.
   */
  private forgetFenceLater(jobId: string): void {
    const fence = this.fences.get(jobId);
    setTimeout(() => {
      if (this.fences.get(jobId) === fence) this.fences.delete(jobId);
    }, FINISHED_FENCE_KEEP_MS).unref();
  }

  private fenceOf(jobId: string): RecordFence {
    let fence = this.fences.get(jobId);
    if (!fence) {
      fence = { ownerId: this.processId, epoch: 1 };
      this.fences.set(jobId, fence);
    }
    return fence;
  }

  private schedule(record: JobRecord): number {
    let writer = this.writers.get(record.id);
    if (!writer) {
      writer = { latest: undefined, version: 0, written: 0, running: undefined };
      this.writers.set(record.id, writer);
    }
    writer.latest = record;
    writer.version += 1;
    writer.running ??= this.drain(record.id, writer);
    return writer.version;
  }

  private async drain(jobId: string, writer: Writer): Promise<void> {
    let failures = 0;
    while (writer.latest && !this.closed) {
      const record = writer.latest;
      const version = writer.version;
      try {
        const written = await this.store.jobRecords.write(
          jobId,
          this.sealed(record),
          this.fenceOf(jobId),
          isFinal(record.state),
          Date.now(),
        );
        if (!written) {
          this.logger.warn('job_record_fenced_out', { jobId });
          writer.latest = undefined;
          this.fences.delete(jobId);
          break;
        }
        writer.written = version;
        if (writer.latest === record) writer.latest = undefined;
        if (isFinal(record.state)) this.forgetFenceLater(jobId);
        if (failures > 0) this.logger.info('job_record_written_after_retry', { jobId, failures });
        failures = 0;
      } catch (error) {
        if (failures === 0) this.logger.warn('job_record_write_failed', { jobId, error });
        failures += 1;
        await sleep(Math.min(RETRY_MIN_MS * 2 ** failures, RETRY_MAX_MS));
      }
    }
    writer.running = undefined;
    if (!writer.latest) this.writers.delete(jobId);
  }
}

/** No token, and nothing that would have the bot try one: its reply is edited with the bot's own token. */
function withoutToken(record: JobRecord): JobRecord {
  if (record.location.kind !== 'interaction') return record;
  return { ...record, location: { ...record.location, token: '', usableUntil: 0, handOverAt: 0 } };
}

/**
 * A record as this version names things: the previous one wrote the frame as `orientation`
 * (landscape, portrait), read here as the aspect ratio it meant.
 */
function storedInTodaysWords(stored: StoredJobRecord): StoredJobRecord {
  const { orientation, ...request } = stored.record.request as JobRequest & { orientation?: unknown };
  if (orientation === undefined) return stored;
  const aspectRatio = request.aspectRatio ?? aspectRatioOf(orientation);
  return {
    ...stored,
    record: { ...stored.record, request: { ...request, ...(aspectRatio && { aspectRatio }) } },
  };
}
