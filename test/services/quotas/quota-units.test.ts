import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/services/logging/logger.ts';
import type { QuotaDefaults } from '../../../src/services/quotas/quota-rules.ts';
import { QuotaService, type ReserveResult } from '../../../src/services/quotas/quota-service.ts';
import type { Requester } from '../../../src/services/quotas/requester.ts';
import type { Store } from '../../../src/services/store/store.ts';
import { snowflake } from '../../fakes/fake-discord/snowflake.ts';
import { storeBackends } from '../../harness/store-backends.ts';

/**
 * Allowances in seconds and money on both store backends: a job reserves its length and estimated
 * price, commits the real price, and gives everything back when it is not delivered.
 */

const NOW = Date.parse('2025-01-29T15:30:00Z');
const DEFAULTS: QuotaDefaults = {
  memberLimit: 0,
  serverLimit: 0,
  period: 'day',
  maxRunningPerMember: 0,
  cooldownSeconds: 0,
};
/** An 8 s Veo 3.1 video at $0.40 a second, and a 4 s one. */
const VEO_8S = { seconds: 8, spend: 3.2, model: 'Veo 3.1', modelId: 'veo' };
const VEO_4S = { seconds: 4, spend: 1.6, model: 'Veo 3.1' };

function okReservation(result: ReserveResult) {
  if (!result.ok) throw new Error(`expected a reservation, got a refusal: ${result.reason}`);
  return result.reservation;
}

describe.each(storeBackends())('allowances in seconds and money on $name', (backend) => {
  const stores: Store[] = [];
  const openService = async () => {
    const store = await backend.openStore();
    stores.push(store);
    return new QuotaService({ store, defaults: DEFAULTS, ownerIds: [], logger: silentLogger });
  };
  let quotas: QuotaService;

  beforeAll(async () => {
    await backend.start();
    quotas = await openService();
  });
  afterAll(async () => {
    await Promise.all(stores.map((store) => store.close()));
    await backend.stop();
  });

  const memberOf = (guildId: string): Requester => ({ guildId, userId: snowflake(), roleIds: [] });

  it('a spend limit lets the 4 s video in and refuses the 8 s one with the figures', async () => {
    const guildId = snowflake();
    await quotas.setRule(guildId, { kind: 'everyone' }, { count: 4, period: 'day', unit: 'spend' });
    const member = memberOf(guildId);
    await quotas.commit(okReservation(await quotas.reserve(member, NOW, 'job-1', undefined, VEO_4S)));
    const refused = await quotas.reserve(member, NOW, 'job-2', undefined, VEO_8S);
    expect(refused).toMatchObject({ ok: false, shortfall: { unit: 'spend', needed: 3.2, left: 2.4 } });
    expect(refused.ok === false && refused.reason).toBe(
      'This 8-second Veo 3.1 video needs $3.20; you have $2.40 left today. Try again <t:1738195200:R>.',
    );
    const usage = await quotas.usage(member, NOW);
    expect(usage).toMatchObject({ unit: 'spend', used: 1.6, remaining: 2.4 });
    okReservation(await quotas.reserve(member, NOW, 'job-3', undefined, VEO_4S));
  });

  it('a seconds limit counts lengths, and a video limit still counts videos', async () => {
    const guildId = snowflake();
    await quotas.setRule(guildId, { kind: 'everyone' }, { count: 12, period: 'day', unit: 'seconds' });
    await quotas.setRule(guildId, { kind: 'server-total' }, { count: 3, period: 'day' });
    const member = memberOf(guildId);
    await quotas.commit(okReservation(await quotas.reserve(member, NOW, 'a', undefined, VEO_8S)));
    expect(await quotas.reserve(member, NOW, 'b', undefined, VEO_8S)).toMatchObject({
      ok: false,
      shortfall: { unit: 'seconds', needed: 8, left: 4 },
    });
    await quotas.commit(okReservation(await quotas.reserve(member, NOW, 'c', undefined, VEO_4S)));
    expect((await quotas.usage(member, NOW)).usedByUnit).toEqual({ videos: 2, seconds: 12, spend: 4.8 });
    const other = memberOf(guildId);
    await quotas.commit(okReservation(await quotas.reserve(other, NOW, 'd', undefined, VEO_4S)));
    // The server total counts videos: three made, the fourth refused whatever its length.
    expect(await quotas.reserve(other, NOW, 'e', undefined, { seconds: 1, spend: 0.1 })).toMatchObject({
      ok: false,
    });
  });

  it('a failed or cancelled job costs nothing, in any unit', async () => {
    const guildId = snowflake();
    await quotas.setRule(guildId, { kind: 'everyone' }, { count: 5, period: 'day', unit: 'spend' });
    const member = memberOf(guildId);
    const failed = okReservation(await quotas.reserve(member, NOW, 'f', undefined, VEO_8S));
    await quotas.release(failed);
    await quotas.release(failed);
    expect((await quotas.serverUsage(guildId, NOW)).models).toEqual([]);
    expect((await quotas.usage(member, NOW)).usedByUnit).toEqual({ videos: 0, seconds: 0, spend: 0 });
    expect((await quotas.serverUsage(guildId, NOW)).spend).toBe(0);
  });

  it("the provider's real cost replaces the estimate on delivery, once", async () => {
    const guildId = snowflake();
    await quotas.setRule(guildId, { kind: 'everyone' }, { count: 5, period: 'day', unit: 'spend' });
    const member = memberOf(guildId);
    const reservation = okReservation(await quotas.reserve(member, NOW, 'g', undefined, VEO_8S));
    await quotas.commit(reservation, 2.75);
    await quotas.commit(reservation, 2.75);
    expect(await quotas.usage(member, NOW)).toMatchObject({ used: 2.75, remaining: 2.25 });
    expect(await quotas.serverUsage(guildId, NOW)).toMatchObject({
      spend: 2.75,
      spenders: [{ userId: member.userId, used: 2.75 }],
      models: [{ model: 'veo', spend: 2.75 }],
    });
  });

  it('20 parallel requests from two processes against a spend limit never overshoot', async () => {
    const guildId = snowflake();
    const [processA, processB] = [quotas, await openService()];
    await processA.setRule(guildId, { kind: 'everyone' }, { count: 10, period: 'day', unit: 'spend' });
    const member = memberOf(guildId);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        (i % 2 ? processA : processB).reserve(member, NOW, `p${i}`, undefined, VEO_8S),
      ),
    );
    // $10 holds three $3.20 videos ($9.60) and not a fourth.
    expect(results.filter((result) => result.ok)).toHaveLength(3);
    expect(await processB.usage(member, NOW)).toMatchObject({ used: 9.6, running: 3 });
  });

  it('a reset forgets delivered seconds and spend but keeps what is still running', async () => {
    const guildId = snowflake();
    await quotas.setRule(guildId, { kind: 'everyone' }, { count: 20, period: 'day', unit: 'seconds' });
    const member = memberOf(guildId);
    await quotas.commit(okReservation(await quotas.reserve(member, NOW, 'r1', undefined, VEO_8S)));
    okReservation(await quotas.reserve(member, NOW, 'r2', undefined, VEO_4S));
    await quotas.resetUsage(guildId, member.userId, NOW);
    expect((await quotas.usage(member, NOW)).usedByUnit).toEqual({ videos: 1, seconds: 4, spend: 1.6 });
  });
});
