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
}
