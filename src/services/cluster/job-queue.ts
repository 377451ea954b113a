import { type Job, Queue, Worker } from 'bullmq';
import { type BullConnection, createBullConnection } from '../redis/redis-clients.ts';
import { withDeadline } from '../timing/deadline.ts';

/**
 * The cluster's job queue on BullMQ: gateways enqueue, workers consume, every process can ask how
 * long the line is. It carries a plain JSON payload and knows nothing of Discord.
 *
 * A job runs at most once. It gets one attempt, and a job whose worker died is never put back to
 * run again: BullMQ's stalled check (with `maxStalledCount: 0`) marks it "job stalled more than
 * allowable limit", and the next worker to take it fails it without calling the handler. The
 * worker whose check found it reports it through `onStalled`, so the caller can hand it to its own
 * recovery (which must check the job's fenced record: the stalled worker may only have lost Redis).
 */

export interface QueuedPayload {
  jobId: string;
  /**
   * The epoch of the job's record when it was queued: absent for a job queued when admitted, the
   * epoch of the takeover for one put back in line (a lost worker's job, resumed elsewhere), so
   * each time in line has an id of its own.
   */
  epoch?: number;
}

export interface JobContext {
  /** Aborted when the queue closes past its deadline, or when this worker lost the job's lock. */
  signal: AbortSignal;
}

export type JobHandler<P> = (payload: P, context: JobContext) => Promise<void>;

export interface JobQueueOptions {
  redisUrl: string;
  /** One queue per cluster; processes sharing a Redis and a name share the line. */
  name?: string;
  /** Redis connection and queue errors, for logging: they never end the process. */
  onError?: (error: unknown) => void;
}

export interface ConsumeOptions {
  /** Jobs this process runs at once. */
  concurrency: number;
  /** Called on the surviving worker whose stalled check found a job whose worker died. */
  onStalled?: (jobId: string) => void;
  /** How long a worker's hold on a job lasts without renewal (BullMQ `lockDuration`). */
  lockDurationMs?: number;
  /** How often workers look for jobs whose worker died (BullMQ `stalledInterval`). */
  stalledIntervalMs?: number;
}

export interface CloseOptions {
  /** How long running handlers may take to finish before their signal is aborted. */
  abortAfterMs?: number;
}

export interface QueueCounts {
  waiting: number;
  active: number;
}

export const DEFAULT_QUEUE_NAME = 'sora-jobs';
const JOB_NAME = 'video';
const DEFAULT_ABORT_AFTER_MS = 10_000;
/** After the abort deadline, how long aborted handlers get to end, and BullMQ to close, before the sockets are dropped. */
const FORCE_CLOSE_GRACE_MS = 5_000;
/** Finished jobs are kept an hour (so a late duplicate enqueue stays a no-op), a thousand at most. */
const KEEP_FINISHED = { age: 3_600, count: 1_000 };

export class JobAbortedError extends Error {
  constructor(
    readonly jobId: string,
    readonly reason: 'shutdown' | 'lock-lost',
  ) {
    super(`job ${jobId} aborted: ${reason}`);
    this.name = 'JobAbortedError';
  }
}

export class JobQueue<P extends QueuedPayload> {
  private readonly queue: Queue;
  private readonly connections: BullConnection[] = [];
  private readonly workers: Worker[] = [];
  private readonly running = new Map<string, AbortController>();
  private abortingAll = false;
  private readonly name: string;
  private readonly onError: (error: unknown) => void;

  constructor(private readonly options: JobQueueOptions) {
    this.name = options.name ?? DEFAULT_QUEUE_NAME;
    this.onError = options.onError ?? (() => {});
    this.queue = new Queue(this.name, { connection: this.newClient() });
    this.queue.on('error', this.onError);
  }

  /** `first`: at the head of the line (a job put back in line had already waited its turn). */
  async enqueue(payload: P, options: { first?: boolean } = {}): Promise<void> {
    await this.queue.add(JOB_NAME, payload, {
      jobId: queueIdOf(payload.jobId, payload.epoch),
      lifo: options.first ?? false,
      attempts: 1,
      removeOnComplete: KEEP_FINISHED,
      removeOnFail: KEEP_FINISHED,
    });
  }

  /** True only when the job was still waiting and is now gone; a job a worker took stays. */
  async removeWaiting(jobId: string, epoch?: number): Promise<boolean> {
    const queueId = queueIdOf(jobId, epoch);
    if ((await this.queue.getJobState(queueId)) !== 'waiting') return false;
    // BullMQ refuses to remove a locked job, so one a worker took in the meantime is kept.
    return (await this.queue.remove(queueId)) === 1;
  }

  /** Whether the job is still the queue's: waiting, or taken by a worker whose lock holds. */
  async holds(jobId: string, epoch?: number): Promise<boolean> {
    const state = await this.queue.getJobState(queueIdOf(jobId, epoch));
    return state === 'waiting' || state === 'active' || state === 'delayed' || state === 'prioritized';
  }

  /** 1-based place among the waiting jobs of the whole cluster; undefined when not waiting. */
  async positionOf(jobId: string): Promise<number | undefined> {
    return (await this.positionsOf([jobId])).get(jobId);
  }

  /** The places of several jobs for the price of one read of the waiting ids. */
  async positionsOf(jobIds: readonly string[]): Promise<Map<string, number>> {
    const nextFirst = await this.queue.getRanges(['wait'], 0, -1, true);
    const wanted = new Set(jobIds.map(queueIdOf));
    const positions = new Map<string, number>();
    nextFirst.forEach((id, index) => {
      if (wanted.has(id)) positions.set(jobIdOf(id), index + 1);
    });
    return positions;
  }

  /** The cap on jobs running at once across every worker of the cluster. */
  async setGlobalConcurrency(maxConcurrentJobs: number): Promise<void> {
    await this.queue.setGlobalConcurrency(maxConcurrentJobs);
  }

  async counts(): Promise<QueueCounts> {
    const counts = await this.queue.getJobCounts('wait', 'active');
    return { waiting: counts.wait ?? 0, active: counts.active ?? 0 };
  }

  consume(handler: JobHandler<P>, options: ConsumeOptions): void {
    const worker = new Worker(this.name, (job: Job) => this.run(job, handler), {
      connection: this.newClient(),
      concurrency: options.concurrency,
      maxStalledCount: 0,
      ...(options.lockDurationMs === undefined ? {} : { lockDuration: options.lockDurationMs }),
      ...(options.stalledIntervalMs === undefined ? {} : { stalledInterval: options.stalledIntervalMs }),
    });
    worker.on('error', this.onError);
    worker.on('stalled', (queueId: string) => options.onStalled?.(jobIdOf(queueId)));
    // Another worker may already count the job as stalled: stop working on what is no longer ours.
    worker.on('lockRenewalFailed', (jobIds: string[]) => {
      for (const jobId of jobIds) this.abort(jobId, 'lock-lost');
    });
    this.workers.push(worker);
  }

  /**
   * Stops taking jobs, lets running handlers finish, aborts those still running at the deadline,
   * then lets go of Redis: cleanly while it answers, by dropping the sockets when it does not
   * (a clean QUIT would wait for it forever).
   */
  async close(options: CloseOptions = {}): Promise<void> {
    const abortAfterMs = options.abortAfterMs ?? DEFAULT_ABORT_AFTER_MS;
    const abortTimer = setTimeout(() => this.abortAll(), abortAfterMs);
    try {
      // Takes no new job, and waits for the ones running (or handed over a moment ago) to end.
      await withDeadline(
        Promise.all(this.workers.map((worker) => worker.pause())),
        abortAfterMs + FORCE_CLOSE_GRACE_MS,
      );
      const reachable = this.connections.every((connection) => connection.client.status === 'ready');
      await withDeadline(
        Promise.all([
          ...this.workers.map((worker) => worker.close(!reachable)),
          reachable ? this.queue.close() : this.queue.disconnect(),
        ]),
        FORCE_CLOSE_GRACE_MS,
      );
    } catch (error) {
      this.onError(error);
    } finally {
      clearTimeout(abortTimer);
      await Promise.all(this.connections.map((connection) => connection.close()));
    }
  }

  /** The close deadline has passed: every running handler is aborted, and so is any that starts after. */
  private abortAll(): void {
    this.abortingAll = true;
    for (const jobId of this.running.keys()) this.abort(jobId, 'shutdown');
  }

  private async run(job: Job, handler: JobHandler<P>): Promise<void> {
    const jobId = (job.data as P).jobId;
    const controller = new AbortController();
    this.running.set(jobId, controller);
    try {
      const handled = handler(job.data as P, { signal: controller.signal });
      // Started after the close deadline: aborted as soon as it listens, like the ones before it.
      if (this.abortingAll) this.abort(jobId, 'shutdown');
      await handled;
    } finally {
      this.running.delete(jobId);
    }
  }

  private abort(jobId: string, reason: JobAbortedError['reason']): void {
    this.running.get(jobId)?.abort(new JobAbortedError(jobId, reason));
  }

  private newClient(): BullConnection['client'] {
    const connection = createBullConnection(this.options.redisUrl, this.onError);
    this.connections.push(connection);
    return connection.client;
  }
}

/**
 * BullMQ refuses custom ids that are integers or contain ':'; a prefix makes every job id usable
 * (ours are base64url, which has no ':').
 */
const QUEUE_ID_PREFIX = 'job-';

/** A job put back in line carries its record's epoch after a '.' (base64url has none). */
const EPOCH_SEPARATOR = '.';

function queueIdOf(jobId: string, epoch?: number): string {
  const again = epoch !== undefined && epoch > 1 ? `${EPOCH_SEPARATOR}${epoch}` : '';
  return `${QUEUE_ID_PREFIX}${jobId}${again}`;
}

function jobIdOf(queueId: string): string {
  const id = queueId.startsWith(QUEUE_ID_PREFIX) ? queueId.slice(QUEUE_ID_PREFIX.length) : queueId;
  const again = id.indexOf(EPOCH_SEPARATOR);
  return again === -1 ? id : id.slice(0, again);
}
