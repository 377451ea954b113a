import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/services/logging/logger.ts';
import type { QuotaDefaults } from '../../../src/services/quotas/quota-rules.ts';
import { QuotaService, type ReserveResult } from '../../../src/services/quotas/quota-service.ts';
import type { Requester } from '../../../src/services/quotas/requester.ts';
import type { Store } from '../../../src/services/store/store.ts';
import { snowflake } from '../../fakes/fake-discord/snowflake.ts';
import { storeBackends } from '../../harness/store-backends.ts';

/**
 * The quota service on both store backends. Every test works in its own fresh server (guild id),
 * so the tests share one store per backend without seeing each other's usage.
 */

const NOW = Date.parse('2025-01-29T15:30:00Z'); // a Wednesday
const NEXT_MIDNIGHT = Date.parse('2025-01-30T00:00:00Z');

const DEFAULTS: QuotaDefaults = {
  memberLimit: 0,
  serverLimit: 0,
  period: 'day',
  maxRunningPerMember: 0,
  cooldownSeconds: 0,
};

const OWNER_ID = '100000000000000001';

function okReservation(result: ReserveResult) {
  if (!result.ok) throw new Error(`expected a reservation, got a refusal: ${result.reason}`);
  return result.reservation;
}

describe.each(storeBackends())('QuotaService on $name', (backend) => {
  const stores: Store[] = [];

  const openService = async (defaults: QuotaDefaults = DEFAULTS) => {
    const store = await backend.openStore();
    stores.push(store);
    return {
      store,
      quotas: new QuotaService({ store, defaults, ownerIds: [OWNER_ID], logger: silentLogger }),
    };
  };

  let quotas: QuotaService;

  beforeAll(async () => {
    await backend.start();
    quotas = (await openService()).quotas;
  });

  afterAll(async () => {
    await Promise.all(stores.map((store) => store.close()));
    await backend.stop();
  });

  const newGuild = () => snowflake();
  const memberOf = (guildId: string | null, roleIds: string[] = []): Requester => ({
    guildId,
    userId: snowflake(),
    roleIds,
  });

  describe('limits', () => {
    it('refuses a member past the limit for everyone, saying when to try again', async () => {
      const guildId = newGuild();
      await quotas.setRule(guildId, { kind: 'everyone' }, { count: 2, period: 'day' });
      const member = memberOf(guildId);
      okReservation(await quotas.reserve(member, NOW));
      okReservation(await quotas.reserve(member, NOW));
      expect(await quotas.reserve(member, NOW)).toEqual({
        ok: false,
        reason: `You have used 2 of 2 videos today. Try again <t:${NEXT_MIDNIGHT / 1000}:R>.`,
        retryAt: NEXT_MIDNIGHT,
      });
    });

    it('starts counting again in the next period', async () => {
      const guildId = newGuild();
      await quotas.setRule(guildId, { kind: 'everyone' }, { count: 1, period: 'day' });
      const member = memberOf(guildId);
      okReservation(await quotas.reserve(member, NOW));
      expect((await quotas.reserve(member, NOW)).ok).toBe(false);
      okReservation(await quotas.reserve(member, NEXT_MIDNIGHT));
    });

    it('applies a role rule only to members with the role', async () => {
      const guildId = newGuild();
      const roleId = snowflake();
      await quotas.setRule(guildId, { kind: 'role', roleId }, { count: 1, period: 'week' });
      const withRole = memberOf(guildId, [roleId]);
      const without = memberOf(guildId);
      okReservation(await quotas.reserve(withRole, NOW));
      expect((await quotas.reserve(withRole, NOW)).ok).toBe(false);
      okReservation(await quotas.reserve(without, NOW));
      okReservation(await quotas.reserve(without, NOW));
    });

    it("a member's own rule wins over their role's rule", async () => {
      const guildId = newGuild();
      const roleId = snowflake();
      const member = memberOf(guildId, [roleId]);
      await quotas.setRule(guildId, { kind: 'role', roleId }, { count: 1, period: 'day' });
      await quotas.setRule(guildId, { kind: 'member', userId: member.userId }, { count: 3, period: 'day' });
      for (let i = 0; i < 3; i++) okReservation(await quotas.reserve(member, NOW));
      const refused = await quotas.reserve(member, NOW);
      expect(refused.ok === false && refused.reason).toContain('3 of 3');
    });

    it('stops everyone once the server total is used, exempt roles included', async () => {
      const guildId = newGuild();
      const staffRole = snowflake();
      await quotas.setRule(guildId, { kind: 'server-total' }, { count: 2, period: 'week' });
      await quotas.setRoleExempt(guildId, staffRole, true);
      okReservation(await quotas.reserve(memberOf(guildId), NOW));
      okReservation(await quotas.reserve(memberOf(guildId), NOW));
      const refused = await quotas.reserve(memberOf(guildId, [staffRole]), NOW);
      const nextMonday = Date.parse('2025-02-03T00:00:00Z');
      expect(refused).toEqual({
        ok: false,
        reason: `This server has used all 2 videos it allows this week. Try again <t:${nextMonday / 1000}:R>.`,
        retryAt: nextMonday,
      });
    });

    it('never limits bot owners', async () => {
      const guildId = newGuild();
      await quotas.setRule(guildId, { kind: 'everyone' }, { count: 0, period: 'day' });
      await quotas.setRule(guildId, { kind: 'server-total' }, { count: 0, period: 'day' });
      const owner: Requester = { guildId, userId: OWNER_ID, roleIds: [] };
      okReservation(await quotas.reserve(owner, NOW));
      okReservation(await quotas.reserve(owner, NOW));
      expect(await quotas.reserve(memberOf(guildId), NOW)).toEqual({
        ok: false,
        reason: "This server's quota allows you no videos.",
      });
    });

    it('uses the DEFAULT_* settings when a server has set nothing, in DMs too', async () => {
      const { quotas: withDefaults } = await openService({ ...DEFAULTS, memberLimit: 1, period: 'month' });
      for (const guildId of [newGuild(), null]) {
        const member = memberOf(guildId);
        okReservation(await withDefaults.reserve(member, NOW));
        const refused = await withDefaults.reserve(member, NOW);
        expect(refused).toMatchObject({ ok: false, retryAt: Date.parse('2025-02-01T00:00:00Z') });
      }
    });
  });

  describe('running jobs and cooldown', () => {
    it('refuses a member who already runs the most jobs allowed at once', async () => {
      const guildId = newGuild();
      await quotas.setMaxRunning(guildId, 1);
      const member = memberOf(guildId);
      const first = okReservation(await quotas.reserve(member, NOW));
      const refused = await quotas.reserve(member, NOW);
      expect(refused).toEqual({
        ok: false,
        reason: 'You already have 1 video in progress, the most you can run at once. Wait for one to finish.',
      });
      await quotas.commit(first);
      okReservation(await quotas.reserve(member, NOW));
    });

    it('makes a member wait the cooldown after their last reservation, even a released one', async () => {
      const guildId = newGuild();
      await quotas.setCooldown(guildId, 60);
      const member = memberOf(guildId);
      await quotas.release(okReservation(await quotas.reserve(member, NOW)));
      expect(await quotas.reserve(member, NOW + 10_000)).toEqual({
        ok: false,
        reason: `You can start another video <t:${(NOW + 60_000) / 1000}:R>.`,
        retryAt: NOW + 60_000,
      });
      okReservation(await quotas.reserve(member, NOW + 60_000));
    });
  });

  describe('commit and release', () => {
    it('a committed video stays used; committing or releasing it again changes nothing', async () => {
      const guildId = newGuild();
      await quotas.setRule(guildId, { kind: 'everyone' }, { count: 5, period: 'day' });
      const member = memberOf(guildId);
      const reservation = okReservation(await quotas.reserve(member, NOW));
      expect(await quotas.usage(member, NOW)).toMatchObject({ used: 1, running: 1, remaining: 4 });
      await quotas.commit(reservation);
      await quotas.commit(reservation);
      await quotas.release(reservation);
      expect(await quotas.usage(member, NOW)).toMatchObject({ used: 1, running: 0, remaining: 4 });
    });

    it('a failed (released) reservation leaves the count as it was', async () => {
      const guildId = newGuild();
      await quotas.setRule(guildId, { kind: 'everyone' }, { count: 1, period: 'day' });
      const member = memberOf(guildId);
      const failed = okReservation(await quotas.reserve(member, NOW));
      await quotas.release(failed);
      await quotas.release(failed);
      expect(await quotas.usage(member, NOW)).toMatchObject({ used: 0, running: 0, remaining: 1 });
      okReservation(await quotas.reserve(member, NOW));
    });

    it('lists pending reservations, not committed or released ones', async () => {
      const guildId = newGuild();
      const member = memberOf(guildId);
      const pending = okReservation(await quotas.reserve(member, NOW));
      await quotas.commit(okReservation(await quotas.reserve(member, NOW)));
      await quotas.release(okReservation(await quotas.reserve(member, NOW)));
      const ofThisGuild = (await quotas.pendingReservations()).filter((r) => r.guildId === guildId);
      expect(ofThisGuild).toEqual([pending]);
    });

    it('reservations survive a store restart, so recovery can release them', async () => {
      const guildId = newGuild();
      const dmMember = memberOf(null);
      const first = await openService();
      await first.quotas.setRule(guildId, { kind: 'everyone' }, { count: 1, period: 'day' });
      const member = memberOf(guildId);
      const reservation = okReservation(await first.quotas.reserve(member, NOW));
      const inDm = okReservation(await first.quotas.reserve(dmMember, NOW));
      await first.store.close();
      stores.splice(stores.indexOf(first.store), 1);

      const second = (await openService()).quotas;
      const pending = await second.pendingReservations();
      expect(pending).toContainEqual(reservation);
      expect(pending).toContainEqual(inDm);
      expect((await second.reserve(member, NOW)).ok).toBe(false);
      await second.release(reservation);
      okReservation(await second.reserve(member, NOW));
    });
  });

  describe('atomic reservation', () => {
    it('twenty parallel reserves with one unit left start exactly one', async () => {
      const guildId = newGuild();
      await quotas.setRule(guildId, { kind: 'everyone' }, { count: 3, period: 'day' });
      const member = memberOf(guildId);
      await quotas.commit(okReservation(await quotas.reserve(member, NOW)));
      await quotas.commit(okReservation(await quotas.reserve(member, NOW)));
      const results = await Promise.all(Array.from({ length: 20 }, () => quotas.reserve(member, NOW)));
      expect(results.filter((result) => result.ok)).toHaveLength(1);
      expect(await quotas.usage(member, NOW)).toMatchObject({ used: 3, running: 1, remaining: 0 });
    });

    it('parallel reserves by different members cannot overrun the server total', async () => {
      const guildId = newGuild();
      await quotas.setRule(guildId, { kind: 'server-total' }, { count: 5, period: 'day' });
      const results = await Promise.all(
        Array.from({ length: 20 }, () => quotas.reserve(memberOf(guildId), NOW)),
      );
      expect(results.filter((result) => result.ok)).toHaveLength(5);
    });

    it('two stores on one backend, as two bot processes: 20 reservations at once with one unit left admit exactly one', async () => {
      const guildId = newGuild();
      const member = memberOf(guildId);
      const processA = (await openService()).quotas;
      const processB = (await openService()).quotas;
      await processA.setRule(guildId, { kind: 'everyone' }, { count: 3, period: 'day' });
      for (let i = 0; i < 2; i++) await processA.commit(okReservation(await processA.reserve(member, NOW)));
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => (i % 2 ? processA : processB).reserve(member, NOW)),
      );
      expect(results.filter((result) => result.ok)).toHaveLength(1);
      expect(await processB.usage(member, NOW)).toMatchObject({ used: 3, running: 1, remaining: 0 });
    });
  });

  describe('usage and admin views', () => {
    it('summarises used, running, allowance, reset time and the server total', async () => {
      const guildId = newGuild();
      const roleId = snowflake();
      await quotas.setRule(guildId, { kind: 'role', roleId }, { count: 4, period: 'day' });
      await quotas.setRule(guildId, { kind: 'server-total' }, { count: 100, period: 'month' });
      const member = memberOf(guildId, [roleId]);
      await quotas.commit(okReservation(await quotas.reserve(member, NOW)));
      okReservation(await quotas.reserve(member, NOW));
      expect(await quotas.usage(member, NOW)).toEqual({
        rule: { source: 'role', roleId, limit: { count: 4, period: 'day' } },
        limit: { count: 4, period: 'day' },
        period: 'day',
        unit: 'videos',
        used: 2,
        usedByUnit: { videos: 2, seconds: 0, spend: 0 },
        remaining: 2,
        running: 1,
        maxRunning: 0,
        periodEnd: NEXT_MIDNIGHT,
        serverTotal: {
          limit: { count: 100, period: 'month' },
          used: 2,
          periodEnd: Date.parse('2025-02-01T00:00:00Z'),
        },
      });
    });

    it('shows an unlimited member as such', async () => {
      const usage = await quotas.usage(memberOf(newGuild()), NOW);
      expect(usage).toMatchObject({
        limit: null,
        remaining: null,
        serverTotal: null,
        rule: { source: 'default' },
      });
    });

    it('ranks the top members this period and resets one member', async () => {
      const guildId = newGuild();
      const [busy, quiet] = [memberOf(guildId), memberOf(guildId)];
      for (let i = 0; i < 3; i++) await quotas.commit(okReservation(await quotas.reserve(busy, NOW)));
      await quotas.commit(okReservation(await quotas.reserve(quiet, NOW)));
      await quotas.setRule(guildId, { kind: 'server-total' }, { count: 30, period: 'month' });
      expect(await quotas.serverUsage(guildId, NOW, 5)).toEqual({
        period: 'day',
        periodEnd: NEXT_MIDNIGHT,
        total: 4,
        members: [
          { userId: busy.userId, used: 3 },
          { userId: quiet.userId, used: 1 },
        ],
        spend: 0,
        spenders: [],
        models: [],
        serverTotal: {
          limit: { count: 30, period: 'month' },
          used: 4,
          periodEnd: Date.parse('2025-02-01T00:00:00Z'),
        },
      });
      await quotas.resetUsage(guildId, busy.userId, NOW);
      expect((await quotas.usage(busy, NOW)).used).toBe(0);
      expect((await quotas.serverUsage(guildId, NOW, 5)).members).toEqual([
        { userId: quiet.userId, used: 1 },
      ]);
    });

    it('lists rules and tells whether a cleared rule existed', async () => {
      const guildId = newGuild();
      const roleId = snowflake();
      await quotas.setRule(guildId, { kind: 'role', roleId }, { count: 2, period: 'month' });
      await quotas.setRoleExempt(guildId, roleId, true);
      expect((await quotas.listRules(guildId)).rules).toMatchObject({
        roles: { [roleId]: { count: 2, period: 'month' } },
        exemptRoleIds: [roleId],
      });
      expect(await quotas.clearRule(guildId, { kind: 'role', roleId })).toBe(true);
      expect(await quotas.clearRule(guildId, { kind: 'role', roleId })).toBe(false);
      await quotas.setRoleExempt(guildId, roleId, false);
      expect((await quotas.listRules(guildId)).rules).toMatchObject({ roles: {}, exemptRoleIds: [] });
    });
  });
});
