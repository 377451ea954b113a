import type { Logger } from '../logging/logger.ts';
import type { Collection } from '../store/store.ts';
import type { CreditGrant } from './credit-skus.ts';
import { toLedger } from './quota-rules.ts';

/**
 * Credits bought in Discord (Premium Apps): a consumable SKU grants seconds of video or money (in
 * the catalogue's currency) to the buyer's own balance. Each purchase is an entitlement; it is
 * credited exactly once, keyed by its id, in one atomic update of the buyer's balance (so a
 * purchase seen twice — an event delivered again, the same entitlement in an interaction, the list
 * at start, another process — changes nothing the second time), and only then consumed, so the
 * member can buy again. A consume that fails is done again the next time the entitlement is seen.
 */

/** A member's balance, in ledger amounts (spend in millionths), and the purchases credited to it. */
export interface Balance {
  seconds: number;
  spend: number;
  credited: string[];
  /** What jobs still running took from it, by job id: given back if the job is not delivered. */
  held?: Record<string, Debit>;
}

/** What a job took from a balance, in ledger amounts. */
export interface Debit {
  unit: 'seconds' | 'spend';
  amount: number;
}

const EMPTY: Balance = { seconds: 0, spend: 0, credited: [] };

/** A purchase as Discord describes it (gateway event, interaction, list route). */
export interface EntitlementSeen {
  id: string;
  skuId: string;
  userId: string;
  consumed: boolean;
}

export interface CreditsOptions {
  balances: Collection<Balance>;
  skus: ReadonlyMap<string, CreditGrant>;
  /** Discord's consume route for an entitlement. */
  consume(entitlementId: string): Promise<void>;
  logger: Logger;
}

export class Credits {
  constructor(private readonly options: CreditsOptions) {}

  get enabled(): boolean {
    return this.options.skus.size > 0;
  }

  /** The SKUs members can buy, for the premium button. */
  get skuIds(): string[] {
    return [...this.options.skus.keys()];
  }

  /**
   * Credits a purchase once, then consumes it. Resolves whether this call credited it. Not our
   * SKU, or already consumed (credited before it was): nothing to do.
   */
  async receive(entitlement: EntitlementSeen): Promise<boolean> {
    const grant = this.options.skus.get(entitlement.skuId);
    if (!grant || entitlement.consumed) return false;
    const { logger } = this.options;
    const log = { entitlementId: entitlement.id, skuId: entitlement.skuId, userId: entitlement.userId };
    const credited = await this.options.balances.update(entitlement.userId, (current = EMPTY) => {
      if (current.credited.includes(entitlement.id)) return { next: undefined, result: false };
      return {
        next: {
          ...current,
          [grant.unit]: current[grant.unit] + toLedger(grant.unit, grant.amount),
          credited: [...current.credited, entitlement.id],
        },
        result: true,
      };
    });
    logger.info(credited ? 'credit_purchased' : 'credit_already_credited', { ...log, ...grant });
    try {
      await this.options.consume(entitlement.id);
      logger.info('entitlement_consumed', log);
    } catch (error) {
      // Still unconsumed at Discord: the next sight of it (an interaction, a restart) consumes it.
      logger.warn('entitlement_consume_failed', { ...log, error });
    }
    return credited;
  }

  /** Every purchase in a batch, one after another; a failure of one does not stop the others. */
  async receiveAll(entitlements: readonly EntitlementSeen[]): Promise<void> {
    for (const entitlement of entitlements) {
      await this.receive(entitlement).catch((error) =>
        this.options.logger.error('credit_failed', { entitlementId: entitlement.id, error }),
      );
    }
  }

  async balance(userId: string): Promise<Balance> {
    return (await this.options.balances.get(userId)) ?? EMPTY;
  }

  /**
   * Takes a job's cost from the member's balance, atomically: seconds credits when they cover its
   * length, else money credits when they cover its price. Resolves what was taken, or undefined
   * when the balance covers neither.
   */
  async take(
    userId: string,
    jobId: string,
    cost: { seconds: number; spend: number },
  ): Promise<Debit | undefined> {
    if (!this.enabled) return undefined;
    const debit = await this.options.balances.update(userId, (current = EMPTY) => {
      const spend = toLedger('spend', cost.spend);
      const taken: Debit | undefined =
        cost.seconds > 0 && current.seconds >= cost.seconds
          ? { unit: 'seconds', amount: cost.seconds }
          : spend > 0 && current.spend >= spend
            ? { unit: 'spend', amount: spend }
            : undefined;
      if (!taken) return { next: undefined, result: undefined };
      return {
        next: {
          ...current,
          [taken.unit]: current[taken.unit] - taken.amount,
          held: { ...current.held, [jobId]: taken },
        },
        result: taken,
      };
    });
    if (debit) this.options.logger.info('credit_taken', { userId, jobId, ...debit });
    return debit;
  }

  /** The job was delivered: what it took is spent. Idempotent. */
  settle(userId: string, jobId: string): Promise<void> {
    return this.end(userId, jobId, false);
  }

  /** The job was not delivered: what it took goes back to the balance. Idempotent. */
  refund(userId: string, jobId: string): Promise<void> {
    return this.end(userId, jobId, true);
  }

  private async end(userId: string, jobId: string, giveBack: boolean): Promise<void> {
    const debit = await this.options.balances.update(userId, (current = EMPTY) => {
      const taken = current.held?.[jobId];
      if (!taken) return { next: undefined, result: undefined };
      const { [jobId]: _ended, ...held } = current.held ?? {};
      const back = giveBack ? taken.amount : 0;
      return { next: { ...current, [taken.unit]: current[taken.unit] + back, held }, result: taken };
    });
    if (debit)
      this.options.logger.info(giveBack ? 'credit_refunded' : 'credit_spent', { userId, jobId, ...debit });
  }
}
