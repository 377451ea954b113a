import type { Logger } from '../logging/logger.ts';
import type { QuotaCharges } from '../quotas/quota-charges.ts';
import type { Reservation } from '../quotas/quota-service.ts';
import type { ProcessRegistry, RecordFence } from '../store/store.ts';
import { isFinal } from './job.ts';
import { type JobRecords, QUEUE_OWNER, type StoredJobRecord } from './job-records.ts';
import { ProcessLease } from './process-lease.ts';

export interface JobSweepOptions {
  processId: string;
  /** How long a process counts as alive after its last renewal. */
  leaseMs: number;
  records: JobRecords;
  /** Where stranded units are settled, with the one retry policy of every charge. */
  charges: Pick<QuotaCharges, 'pendingReservations' | 'commit' | 'release' | 'prune'>;
  processes: ProcessRegistry;
  /** Whether this process is running (or queueing) the job right now. */
  isLive(jobId: string): boolean;
  /** Ends a job nobody runs any more: its message, its charge, its record. */
  recover(job: StoredJobRecord, fence: RecordFence): Promise<void>;
  logger: Logger;
  /**
   * A job that died while posting its video is looked at only once an upload started then is
   * certainly over (the uploader's own timeout), so the message shows how it really ended.
   */
  uploadTimeoutMs: number;
  /** Ledger counters and finished records are pruned at most this often. */
  pruneEveryMs?: number;
  /**
   * The cluster queue, when there is one: a record the queue owns is left alone while the queue
   * still holds its job (waiting, or taken by a worker that has yet to claim it).
   */
  queue?: { holds(jobId: string, epoch?: number): Promise<boolean> };
  /**
   * Whether an owner is certainly dead although its lease may still run (a predecessor of this very
   * process): its jobs are taken over at once, and an upload it had started is over with it.
   */
  knownDead?: (ownerId: string) => boolean;
  /**
   * Puts a dead owner's job back in the cluster queue instead of taking it over here, when it can
   * be resumed there (it then waits for a free slot under MAX_CONCURRENT_JOBS like any other job);
   * resolves false when it is not such a job or another process was faster.
   */
  requeue?: (job: StoredJobRecord) => Promise<boolean>;
  /** This process's lease, when others (the runner) watch it too; one of its own otherwise. */
  lease?: ProcessLease;
}

/**
 * How long one of this process's own jobs or reservations may go unseen by its runner before it
 * counts as stranded: longer than the gap between reserving a unit and submitting its job.
 */
const OWN_STRANDED_AFTER_MS = 60_000;
const DEFAULT_PRUNE_EVERY_MS = 10 * 60_000;

/**
 * Keeps this process's lease alive, and takes over what dead processes left behind: at start-up
 * and every half lease, unfinished jobs whose owner's lease ran out are claimed and recovered, and
 * reservations whose job is final or gone are settled. A live process's jobs are never touched.
 */
export class JobSweep {
  private heartbeat: NodeJS.Timeout | undefined;
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;
  private lastPruneAt = 0;
  private readonly endedLeases = new Set<string>();
  private readonly lease: ProcessLease;

  constructor(private readonly options: JobSweepOptions) {
    this.lease = options.lease ?? new ProcessLease(options);
  }

  /**
   * Renews the lease now (a process must be alive before it may take anything over), then on a
   * timer. A process that runs no jobs (a gateway) only keeps its lease: what it reserved must not
   * look abandoned, and taking jobs over is for processes that can run them.
   */
  async start(options: { sweeps: boolean } = { sweeps: true }): Promise<void> {
    await this.renew();
    this.heartbeat = setInterval(() => void this.renew(), Math.max(250, this.options.leaseMs / 4)).unref();
    if (options.sweeps) {
      this.timer = setInterval(() => void this.sweep(), Math.max(500, this.options.leaseMs / 2)).unref();
    }
  }

  /** A clean stop: the lease ends at once, so nothing waits for it to run out. */
  async stop(): Promise<void> {
    clearInterval(this.heartbeat);
    clearInterval(this.timer);
    await this.sweeping;
    await this.options.processes.remove(this.options.processId).catch(() => undefined);
  }

  /** One pass; concurrent calls share the pass in progress. Never throws. */
  sweep(now = Date.now()): Promise<void> {
    this.sweeping ??= this.sweepOnce(now)
      .catch((error) => this.options.logger.warn('sweep_failed', { error }))
      .finally(() => {
        this.sweeping = undefined;
      });
    return this.sweeping;
  }

  private renew(): Promise<void> {
    return this.lease.renew();
  }

  private async sweepOnce(now: number): Promise<void> {
    const jobs = await this.options.records.unfinished();
    const dead = await this.endLeasesOfTheDead(jobs.map((job) => job.ownerId));
    const jobOwners = await this.aliveOwners(
      jobs.map((job) => job.ownerId),
      now,
    );
    let recovered = 0;
    for (const job of jobs) if (await this.takeOverIfAbandoned(job, jobOwners, dead, now)) recovered += 1;
    if (recovered > 0) this.options.logger.info('jobs_recovered', { count: recovered });
    // Read after the recoveries, which settle the units of the jobs they ended.
    const reservations = await this.options.charges.pendingReservations();
    await this.endLeasesOfTheDead(reservations.map((reservation) => reservation.ownerId));
    const unitOwners = await this.aliveOwners(
      reservations.map((reservation) => reservation.ownerId),
      now,
    );
    for (const reservation of reservations) await this.settleIfStranded(reservation, unitOwners, now);
    await this.pruneNowAndThen(now);
  }

  /**
   * Ends the leases of owners known to be dead, as their own clean stop would have: the atomic
   * claim then takes their jobs over now instead of once the lease runs out.
   */
  private async endLeasesOfTheDead(ownerIds: string[]): Promise<Set<string>> {
    const { knownDead, processes, logger } = this.options;
    const dead = new Set(knownDead ? ownerIds.filter(knownDead) : []);
    for (const ownerId of dead) {
      if (this.endedLeases.has(ownerId)) continue;
      await processes.remove(ownerId);
      this.endedLeases.add(ownerId);
      logger.info('dead_predecessor_lease_ended', { ownerId });
    }
    return dead;
  }

  private async aliveOwners(ownerIds: string[], now: number): Promise<Set<string>> {
    const others = [...new Set(ownerIds)].filter((id) => id !== this.options.processId);
    return this.options.processes.alive(others, now);
  }

  /** Resolves true when the job was taken over (or was this process's own, stranded) and recovered. */
  private async takeOverIfAbandoned(
    job: StoredJobRecord,
    alive: Set<string>,
    dead: Set<string>,
    now: number,
  ): Promise<boolean> {
    const { processId, records, isLive, logger } = this.options;
    if (job.ownerId === processId) {
      if (isLive(job.id) || now - job.updatedAt < OWN_STRANDED_AFTER_MS) return false;
      return this.recoverLogged(job, job);
    }
    if (alive.has(job.ownerId)) return false;
    if (job.ownerId === QUEUE_OWNER && !(await this.leftByQueue(job, now))) return false;
    // A dead process's upload died with its sockets: its message already shows how it ended.
    const uploadMayRun = !dead.has(job.ownerId) && now - job.updatedAt < this.options.uploadTimeoutMs;
    if (job.record.state === 'delivering' && uploadMayRun) return false;
    if (await this.options.requeue?.(job)) {
      logger.info('job_requeued', { jobId: job.id, from: job.ownerId, state: job.record.state });
      return true;
    }
    const fence = await records.claim(job, now);
    if (!fence) return false;
    logger.info('job_taken_over', { jobId: job.id, from: job.ownerId, state: job.record.state });
    return this.recoverLogged(job, fence);
  }

  /** A queued job whose queue entry is gone (its worker died before claiming it, or it never got in). */
  private async leftByQueue(job: StoredJobRecord, now: number): Promise<boolean> {
    if (now - job.updatedAt < this.options.leaseMs) return false;
    return !(await this.options.queue?.holds(job.id, job.epoch));
  }

  private async recoverLogged(job: StoredJobRecord, fence: RecordFence): Promise<boolean> {
    try {
      await this.options.recover(job, fence);
      return true;
    } catch (error) {
      this.options.logger.warn('job_recovery_failed', { jobId: job.id, error });
      return false;
    }
  }

  /** A unit whose job is final or gone is settled the way the job ended; an unfinished job's recovery settles its own. */
  private async settleIfStranded(reservation: Reservation, alive: Set<string>, now: number): Promise<void> {
    const { processId, isLive, records, charges, logger } = this.options;
    const mine = reservation.ownerId === processId;
    if (mine && (isLive(reservation.jobId) || now - reservation.createdAt < OWN_STRANDED_AFTER_MS)) return;
    const record = await records.get(reservation.jobId);
    // Unfinished: its owner, or the recovery of its job, settles it.
    if (record && !isFinal(record.state)) return;
    // A live process may be between reserving the unit and recording its job.
    if (!record && !mine && alive.has(reservation.ownerId)) return;
    const delivered = record?.state === 'delivered';
    await (delivered ? charges.commit(reservation) : charges.release(reservation));
    logger.info('reservation_settled_by_sweep', {
      jobId: reservation.jobId,
      reservationId: reservation.id,
      owner: reservation.ownerId,
      how: delivered ? 'commit' : 'release',
      jobRecord: record ? record.state : 'missing',
    });
  }

  private async pruneNowAndThen(now: number): Promise<void> {
    const every = this.options.pruneEveryMs ?? DEFAULT_PRUNE_EVERY_MS;
    if (now - this.lastPruneAt < every) return;
    this.lastPruneAt = now;
    await this.options.charges.prune(now);
    const pruned = await this.options.records.prune(now);
    if (pruned > 0) this.options.logger.info('job_records_pruned', { count: pruned });
  }
}
