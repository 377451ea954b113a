import type { Logger } from '../logging/logger.ts';
import type { ProcessRegistry } from '../store/store.ts';

export interface ProcessLeaseOptions {
  processId: string;
  processes: ProcessRegistry;
  /** How long the process counts as alive after a renewal (PROCESS_LEASE_MS). */
  leaseMs: number;
  logger: Logger;
  now?: () => number;
}

/**
 * This process's own view of its lease. Others take its jobs over once the lease has run out, so
 * a process whose last renewal is older than half a lease (a pause, a partition, a stopped
 * process) may already have lost them: it must not start an upload, an edit or a commit until it
 * has renewed, and then must check each job is still its own. `lapses` counts those gaps, so a job
 * knows whether it was checked since the last one.
 */
export class ProcessLease {
  private lastRenewedAt = Number.NEGATIVE_INFINITY;
  private renewing: Promise<void> | undefined;
  private waiters: Array<() => void> = [];
  /** Renewals that came after the lease had gone stale (the first renewal counts as none). */
  lapses = 0;

  constructor(private readonly options: ProcessLeaseOptions) {}

  /** Renewed within half a lease: nobody can have taken this process's jobs over. */
  fresh(): boolean {
    return this.now() - this.lastRenewedAt < this.options.leaseMs / 2;
  }

  /** Renews now; concurrent calls share one renewal. Never throws (a failed renewal leaves the lease as it was). */
  renew(): Promise<void> {
    this.renewing ??= this.renewOnce().finally(() => {
      this.renewing = undefined;
    });
    return this.renewing;
  }

  /** Resolves once the lease is fresh, renewing until it is; rejects when `signal` aborts first. */
  async untilFresh(signal?: AbortSignal): Promise<void> {
    while (!this.fresh()) {
      signal?.throwIfAborted();
      await this.renew();
      if (this.fresh()) return;
      // The store did not take the renewal: wait for the heartbeat's next success.
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => reject(signal?.reason);
        signal?.addEventListener('abort', onAbort, { once: true });
        this.waiters.push(() => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        });
      });
    }
  }

  private async renewOnce(): Promise<void> {
    const { processes, processId, leaseMs, logger } = this.options;
    const startedAt = this.now();
    try {
      await processes.renew(processId, leaseMs, startedAt);
    } catch (error) {
      logger.debug('lease_renew_failed', { error });
      return;
    }
    const stale = startedAt - this.lastRenewedAt >= leaseMs / 2;
    if (stale && Number.isFinite(this.lastRenewedAt)) {
      this.lapses += 1;
      logger.warn('lease_lapsed', { sinceRenewalMs: startedAt - this.lastRenewedAt });
    }
    // The moment it was sent: a renewal that took long counts from before it went out.
    this.lastRenewedAt = startedAt;
    for (const wake of this.waiters.splice(0)) wake();
  }

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }
}
