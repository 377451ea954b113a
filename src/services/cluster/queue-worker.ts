import type { JobCharge, JobSurface, SurfaceLocation } from '../jobs/job-ports.ts';
import { type JobRecords, QUEUE_OWNER, type StoredJobRecord } from '../jobs/job-records.ts';
import type { JobRunner } from '../jobs/job-runner.ts';
import { endUnrunJob } from '../jobs/unrun-job.ts';
import type { Logger } from '../logging/logger.ts';
import type { Reservation } from '../quotas/quota-service.ts';
import type { CancelBus } from './cancel-bus.ts';
import type { JobQueue, QueuedPayload } from './job-queue.ts';

export interface QueueWorkerOptions {
  queue: JobQueue<QueuedPayload>;
  cancelBus: CancelBus;
  records: JobRecords;
  runner: JobRunner;
  surfaceAt(location: SurfaceLocation): JobSurface;
  chargeFor(reservation: Reservation): JobCharge;
  logger: Logger;
  /** Jobs this worker runs at once. */
  concurrency: number;
  /**
   * How long BullMQ's hold on a taken job lasts unrenewed, and how often workers look for holds
   * that lapsed: a worker that died between taking a job and claiming its record frees the job
   * (and its place under MAX_CONCURRENT_JOBS) within about this long. The process lease fits.
   */
  holdMs: number;
  /** How long a job waited between being queued and a worker taking it: for metrics. */
  onTaken?: (waitedMs: number) => void;
  /** Told of a job this worker ended without running it (cancelled before it was taken): for metrics. */
  onFinished?: (state: 'cancelled') => void;
}

/**
 * A worker's side of the cluster queue: it takes a queued job, claims its record from the queue
 * (atomically, so no two workers ever run one job), and runs it in this process's runner, which
 * talks to Discord over REST only. Cancel requests from any gateway reach the jobs running here.
 */
export class QueueWorker {
  private stopListening: (() => void) | undefined;

  constructor(private readonly options: QueueWorkerOptions) {}

  start(): void {
    const { queue, cancelBus, runner, logger, concurrency } = this.options;
    this.stopListening = cancelBus.onCancel(({ jobId, byMemberId }) => {
      if (runner.has(jobId)) runner.cancel(jobId, byMemberId);
    });
    queue.consume((payload, { signal }) => this.run(payload.jobId, signal), {
      concurrency,
      lockDurationMs: this.options.holdMs,
      stalledIntervalMs: this.options.holdMs,
      // The job's record tells the sweep what to do with it; BullMQ only says it noticed.
      onStalled: (jobId) => logger.warn('queued_job_stalled', { jobId }),
    });
  }

  stop(): void {
    this.stopListening?.();
  }

  /**
   * Puts a lost worker's job that the service still has back at the head of the line, owned by the
   * queue again, so the worker that takes it resumes it within MAX_CONCURRENT_JOBS. False for a job
   * that cannot be resumed (the chat stream died with its worker), or one another process claimed.
   */
  async requeue(job: StoredJobRecord): Promise<boolean> {
    if (!job.record.serviceJobId || job.record.state === 'delivering') return false;
    const fence = await this.options.records.claimForQueue(job);
    if (!fence) return false;
    // If this add is lost, the record is the queue's with nothing in line: a later sweep finds it.
    await this.options.queue.enqueue({ jobId: job.id, epoch: fence.epoch }, { first: true });
    return true;
  }

  /** `signal` aborts on the queue's close deadline or when this worker lost its hold on the job: the run ends. */
  private async run(jobId: string, signal: AbortSignal): Promise<void> {
    const { records, runner, cancelBus, logger } = this.options;
    const log = logger.child({ jobId });
    const stored = await records.stored(jobId);
    if (!stored || stored.final || stored.ownerId !== QUEUE_OWNER) {
      log.info('queued_job_skipped', { why: stored ? (stored.final ? 'finished' : 'owned') : 'no record' });
      return;
    }
    const fence = await records.claim(stored);
    if (!fence) {
      log.info('queued_job_skipped', { why: 'claimed elsewhere' });
      return;
    }
    const { record } = stored;
    const waitedMs = Date.now() - record.createdAt;
    log.info('job_taken', { waitedMs });
    if (record.serviceJobId)
      log.info('job_resumed', { previousState: record.state, serviceJobId: record.serviceJobId });
    // A job put back in line after its worker was lost waited once already.
    if (!record.serviceJobId) this.options.onTaken?.(waitedMs);
    const surface = this.options.surfaceAt(record.location);
    // Cancel pressed in the moment between the gateway's look at the queue and this worker taking it.
    const cancel = await cancelBus.isCancelRequested(jobId).catch(() => undefined);
    if (cancel) {
      await endUnrunJob(
        record,
        { state: 'cancelled', cancelledBy: cancel.byMemberId },
        { records, surface, release: (reservation) => this.options.chargeFor(reservation).release(), log },
      );
      log.info('job_finished', { state: 'cancelled' });
      this.options.onFinished?.('cancelled');
      return;
    }
    const { done } = runner.submit(record.request, {
      surface,
      charge: record.reservation && this.options.chargeFor(record.reservation),
      ...(record.serviceJobId
        ? { resume: { jobId, serviceJobId: record.serviceJobId, startedAt: record.createdAt } }
        : { admitted: { jobId, startedAt: record.createdAt } }),
      signal,
    });
    await done;
  }
}
