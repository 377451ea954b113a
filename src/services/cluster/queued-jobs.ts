import type { JobRequest, JobSnapshot } from '../jobs/job.ts';
import { isCancellable, jobSnapshot } from '../jobs/job.ts';
import type { CancelResult, JobCharge, JobDispatch, JobSurface, SurfaceLocation } from '../jobs/job-ports.ts';
import { type JobRecord, type JobRecords, QUEUE_OWNER } from '../jobs/job-records.ts';
import { newJobId } from '../jobs/job-runner.ts';
import { endUnrunJob } from '../jobs/unrun-job.ts';
import type { Logger } from '../logging/logger.ts';
import type { Reservation } from '../quotas/quota-service.ts';
import { TIMED_OUT, withDeadline } from '../timing/deadline.ts';
import type { CancelBus } from './cancel-bus.ts';
import type { JobQueue, QueuedPayload } from './job-queue.ts';

export interface QueuedJobsOptions {
  queue: JobQueue<QueuedPayload>;
  cancelBus: CancelBus;
  records: JobRecords;
  /** The progress message at a recorded location, for a job cancelled while it waited. */
  surfaceAt(location: SurfaceLocation): JobSurface;
  release(reservation: Reservation): Promise<void>;
  logger: Logger;
  /** How often the places in line of this gateway's waiting jobs are refreshed. */
  refreshMs: number;
  /**
   * Longest wait for Redis to take a job before the member is told to try again. The member already
   * sees the job waiting, so this can outlast a reconnect (default 10 s).
   */
  timeoutMs?: number;
  /**
   * Deletes a channel message this gateway posted for a waiting job whose token ran out, when a
   * worker took the job before the move was recorded: that worker hands the job over itself.
   */
  discard?: (location: SurfaceLocation) => Promise<void>;
  /** Told of a job this gateway ended itself (cancelled while it waited): for metrics. */
  onFinished?: (state: 'cancelled') => void;
}

const DEFAULT_TIMEOUT_MS = 10_000;

interface Waiting {
  surface: JobSurface;
  snapshot: JobSnapshot;
}

/**
 * A gateway's side of the cluster queue: an admitted job is recorded (owned by the queue), shown
 * as waiting, and queued; any worker takes it from there. While it waits, this gateway keeps its
 * place in line up to date (the whole cluster's line); Cancel reaches it wherever it is.
 */
export class QueuedJobs implements JobDispatch {
  private readonly waiting = new Map<string, Waiting>();
  private refresher: NodeJS.Timeout | undefined;
  private refreshing = false;

  constructor(private readonly options: QueuedJobsOptions) {}

  async submit(request: JobRequest, { surface, charge }: { surface: JobSurface; charge?: JobCharge }) {
    const { queue, records, logger } = this.options;
    const jobId = charge?.reservation.jobId ?? newJobId();
    const now = Date.now();
    const record: JobRecord = {
      id: jobId,
      request,
      state: 'waiting',
      location: surface.location(),
      reservation: charge?.reservation,
      createdAt: now,
      updatedAt: now,
    };
    // The store bounds its own calls (STORE_TIMEOUT_MS); BullMQ holds commands until Redis is back.
    if (!(await records.saveQueued(record))) {
      throw new Error(`job ${jobId} already has a record`);
    }
    const counts = await this.bounded(queue.counts(), 'count the line').catch(() => undefined);
    const snapshot = jobSnapshot(
      { jobId, request, startedAt: now },
      { state: 'waiting', queuePosition: counts ? counts.waiting + 1 : undefined },
    );
    // Shown before the job is queued, so a worker's first edit can only come after it.
    await surface.show(snapshot).catch((error) => logger.warn('progress_edit_failed', { jobId, error }));
    try {
      await this.bounded(queue.enqueue({ jobId }), 'queue the job');
    } catch (error) {
      // The add may still land once Redis answers: a final record makes any worker skip it.
      void records.saveQueued({ ...record, state: 'failed', updatedAt: Date.now() }).catch(() => undefined);
      throw error;
    }
    logger.info('job_enqueued', { jobId, requesterId: request.requesterId, guildId: request.guildId });
    let withdrawn = false;
    const withdraw = (location: SurfaceLocation) => {
      withdrawn = true;
      this.waiting.delete(jobId);
      return this.discard(jobId, location);
    };
    surface.onMove(() => {
      const location = surface.location();
      // A hand-over goes in two moves (to the channel, then to the message posted there).
      if (withdrawn) {
        void withdraw(location).catch(() => undefined);
        return;
      }
      // A long wait outlived the interaction token: the record must point at the new message.
      if (!this.waiting.has(jobId)) return;
      void records
        .saveQueued({ ...record, location, updatedAt: Date.now() })
        .then((saved) => (saved ? undefined : withdraw(location)))
        .catch((error) => logger.warn('handover_record_failed', { jobId, error }));
    });
    this.waiting.set(jobId, { surface, snapshot });
    this.refresher ??= setInterval(() => void this.refreshPlaces(), this.options.refreshMs).unref();
    return jobId;
  }

  /**
   * A worker claimed the job before this gateway's hand-over was recorded, so it read the old
   * location and hands the job over itself: this gateway's message would be a second one.
   */
  private async discard(jobId: string, location: SurfaceLocation): Promise<void> {
    if (location.kind !== 'channel' || !location.messageId) return;
    this.options.logger.info('handover_message_withdrawn', { jobId });
    await this.options.discard?.(location);
  }

  async requesterIdOf(jobId: string): Promise<string | undefined> {
    return (await this.options.records.get(jobId))?.request.requesterId;
  }

  async cancel(jobId: string, memberId: string): Promise<CancelResult> {
    const { queue, records, cancelBus, logger } = this.options;
    const stored = await records.stored(jobId);
    if (!stored) return 'not-found';
    const { state } = stored.record;
    if (stored.final || !isCancellable(state)) return 'finished';
    if (stored.ownerId === QUEUE_OWNER && (await queue.removeWaiting(jobId, stored.epoch))) {
      const fence = await records.claim(stored);
      if (!fence) return 'finished';
      const surface = this.waiting.get(jobId)?.surface ?? this.options.surfaceAt(stored.record.location);
      this.waiting.delete(jobId);
      const log = logger.child({ jobId });
      log.info('job_cancel_requested', { memberId, while: 'queued' });
      await endUnrunJob(
        stored.record,
        { state: 'cancelled', cancelledBy: memberId },
        { records, surface, release: this.options.release, log },
      );
      log.info('job_finished', { state: 'cancelled' });
      this.options.onFinished?.('cancelled');
      return 'cancelled';
    }
    // Taken by a worker (or about to be): the worker running it ends it.
    await cancelBus.requestCancel(jobId, memberId);
    logger.info('job_cancel_requested', { jobId, memberId, while: 'running elsewhere' });
    return 'cancelled';
  }

  /** Stops refreshing places in line (shutdown): the jobs stay queued for the workers. */
  close(): void {
    clearInterval(this.refresher);
    this.refresher = undefined;
    this.waiting.clear();
  }

  private async refreshPlaces(): Promise<void> {
    if (this.refreshing) return;
    this.refreshing = true;
    try {
      if (this.waiting.size === 0) {
        clearInterval(this.refresher);
        this.refresher = undefined;
        return;
      }
      const places = await this.options.queue.positionsOf([...this.waiting.keys()]);
      for (const [jobId, waiting] of this.waiting) {
        const place = places.get(jobId);
        // No longer waiting: a worker has it, and from now on only the worker edits its message.
        if (place === undefined) this.waiting.delete(jobId);
        else if (place !== waiting.snapshot.queuePosition) {
          waiting.snapshot = {
            ...waiting.snapshot,
            queuePosition: place,
            elapsedMs: Date.now() - waiting.snapshot.startedAt,
          };
          await waiting.surface
            .show(waiting.snapshot)
            .catch((error) => this.options.logger.warn('progress_edit_failed', { jobId, error }));
        }
      }
    } catch (error) {
      this.options.logger.debug('queue_places_unavailable', { error });
    } finally {
      this.refreshing = false;
    }
  }

  private async bounded<T>(work: Promise<T>, what: string): Promise<T> {
    const result = await withDeadline(work, this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    if (result === TIMED_OUT) throw new Error(`the queue did not answer in time (${what})`);
    return result;
  }
}
