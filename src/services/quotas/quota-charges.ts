import pRetry from 'p-retry';
import { translatorFor } from '../i18n/translator.ts';
import type { Logger } from '../logging/logger.ts';
import { StoreUnavailableError } from '../shared/errors.ts';
import type { Credits } from './credits.ts';
import { money } from './quota-format.ts';
import type { QuotaService, Reservation, ReserveCost, ReserveResult } from './quota-service.ts';
import type { Requester } from './requester.ts';

/**
 * The quota unit a job holds while it runs: committed on delivery, released otherwise. Reserved
 * for one job id, which the job then takes, so a sweep can match the unit to its job.
 */
export interface Charge {
  /** What was reserved, recorded with the job so another run can settle it. */
  readonly reservation: Reservation;
  /** Delivered: `actualCost` (the catalogue's currency) replaces the estimate when known. */
  commit(actualCost?: number): Promise<void>;
  release(): Promise<void>;
}

/** The refusal where only credits can pay and the balance does not cover the job. */
function creditsNeeded(cost: ReserveCost, locale: string | undefined, currency: string): ReserveResult {
  const t = translatorFor(locale);
  const needed =
    cost.spend > 0
      ? `${t('common.seconds', { count: cost.seconds })} / ${money(cost.spend, t, currency)}`
      : t('common.seconds', { count: cost.seconds });
  return { ok: false, reason: t('quota.block.creditsOnly', { needed }), allowanceUsedUp: true };
}

/** Settlements retry until the store takes them: never lost, and applying one twice changes nothing. */
const SETTLE_RETRY = {
  retries: Number.POSITIVE_INFINITY,
  minTimeout: 200,
  maxTimeout: 5_000,
  factor: 2,
} as const;

export interface QuotaChargesOptions {
  quotas: QuotaService;
  logger: Logger;
  /** Bought credits: they pay for a job once the member's allowance is used up. */
  credits?: Credits;
}

/**
 * The one owner of charges: admission reserves through it, and the runner, recovery, the sweep,
 * the queue worker and the unrun-job path settle through it, all with one retry policy. A
 * settlement answers at once when the store takes it; during an outage it answers after the first
 * failure and keeps retrying in the background (so a member's final message never waits on an
 * outage) until `drain` gives up on it at shutdown.
 */
export class QuotaCharges {
  private readonly settling = new Set<Promise<void>>();
  private readonly stopSettling = new AbortController();

  constructor(private readonly options: QuotaChargesOptions) {}

  /** Atomically checks every limit and reserves the job's cost (see QuotaService.reserve). */
  async reserve(
    requester: Requester,
    jobId: string,
    locale: string | undefined,
    cost?: ReserveCost,
  ): Promise<ReserveResult> {
    const { quotas, credits } = this.options;
    // Outside a server no server's rules apply: where credits are sold, they are the allowance.
    const creditsOnly = Boolean(credits?.enabled && cost && !requester.guildId);
    const result = creditsOnly
      ? creditsNeeded(cost as ReserveCost, locale, quotas.currency)
      : await quotas.reserve(requester, Date.now(), jobId, locale, cost);
    if (result.ok || !result.allowanceUsedUp || !cost || !credits?.enabled) return result;
    // The allowance is used up: the member's own credits pay, when they cover the job.
    const debit = await credits.take(requester.userId, jobId, cost);
    if (!debit) return result;
    const paid = await quotas.reserve(requester, Date.now(), jobId, locale, cost, debit);
    if (!paid.ok) await credits.refund(requester.userId, jobId);
    return paid;
  }

  /** The charge of a reserved unit: for a new job, or one another run had started and this one resumes. */
  chargeFor(reservation: Reservation): Charge {
    return {
      reservation,
      commit: (actualCost) => this.commit(reservation, actualCost),
      release: () => this.release(reservation),
    };
  }

  /** The video was delivered: what was reserved becomes used, at the real cost when known. */
  commit(reservation: Reservation, actualCost?: number): Promise<void> {
    return this.settle(reservation, 'commit', async () => {
      await this.options.quotas.commit(reservation, actualCost);
      if (reservation.paidFromBalance)
        await this.options.credits?.settle(reservation.userId, reservation.jobId);
    });
  }

  /** Not delivered (failed, cancelled, refused, lost): everything reserved is given back. */
  release(reservation: Reservation): Promise<void> {
    return this.settle(reservation, 'release', async () => {
      await this.options.quotas.release(reservation);
      // Credits paid for it: they go back to the member's balance.
      if (reservation.paidFromBalance)
        await this.options.credits?.refund(reservation.userId, reservation.jobId);
    });
  }

  /** Every reservation neither committed nor released, for the sweep. */
  pendingReservations(): Promise<Reservation[]> {
    return this.options.quotas.pendingReservations();
  }

  /** Drops the counters of periods long over. */
  prune(now = Date.now()): Promise<void> {
    return this.options.quotas.prune(now);
  }

  /** Waits (at most `timeoutMs`) for settlements still retrying, then gives up on them. */
  async drain(timeoutMs: number): Promise<void> {
    const timer = new Promise((resolve) => setTimeout(resolve, timeoutMs).unref());
    await Promise.race([Promise.all(this.settling), timer]);
    this.stopSettling.abort();
  }

  private settle(
    reservation: Reservation,
    how: 'commit' | 'release',
    apply: () => Promise<void>,
  ): Promise<void> {
    const { logger } = this.options;
    let firstFailed!: () => void;
    const answered = new Promise<void>((resolve) => {
      firstFailed = resolve;
    });
    const retrying = pRetry(apply, {
      ...SETTLE_RETRY,
      signal: this.stopSettling.signal,
      shouldRetry: ({ error }) => error instanceof StoreUnavailableError,
      onFailedAttempt: ({ error, attemptNumber }) => {
        if (attemptNumber === 1) {
          logger.warn('charge_settle_retrying', { how, jobId: reservation.jobId, error });
          firstFailed();
        }
      },
    })
      .then(() => logger.debug('charge_settled', { how, jobId: reservation.jobId }))
      .catch((error) => logger.error('charge_settle_failed', { how, jobId: reservation.jobId, error }))
      .finally(() => this.settling.delete(retrying));
    this.settling.add(retrying);
    return Promise.race([retrying, answered]);
  }
}
