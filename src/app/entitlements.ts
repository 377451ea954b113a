import { type APIEntitlement, type Entitlement, type REST, Routes } from 'discord.js';
import type { EntitlementSeen } from '../services/quotas/credits.ts';

/**
 * Discord's side of credits bought in Discord: listing the app's unconsumed purchases and
 * consuming one once credited. The application id is learnt at login.
 */
export class DiscordEntitlements {
  private applicationId: string | undefined;

  constructor(private readonly rest: REST) {}

  async consume(entitlementId: string): Promise<void> {
    if (!this.applicationId) throw new Error('the application id is not known yet');
    await this.rest.post(Routes.consumeEntitlement(this.applicationId, entitlementId));
  }

  /** Purchases made while no process was listening: every unconsumed one of the app's SKUs. */
  async unconsumed(applicationId: string | undefined): Promise<EntitlementSeen[]> {
    if (!applicationId) return [];
    this.applicationId = applicationId;
    const query = new URLSearchParams({ exclude_ended: 'true' });
    const listed = (await this.rest.get(Routes.entitlements(applicationId), { query })) as APIEntitlement[];
    return listed.map((each) => ({
      id: each.id,
      skuId: each.sku_id,
      userId: each.user_id ?? '',
      consumed: each.consumed ?? false,
    }));
  }
}

export function entitlementSeen(entitlement: Entitlement): EntitlementSeen {
  return {
    id: entitlement.id,
    skuId: entitlement.skuId,
    userId: entitlement.userId,
    consumed: entitlement.consumed,
  };
}
