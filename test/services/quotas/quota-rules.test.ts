import { describe, expect, it } from 'vitest';
import {
  applicableRule,
  findBlock,
  type GuildQuotaRules,
  memberQuota,
  NO_RULES,
  periodEnd,
  periodKey,
  periodStart,
  type QuotaDefaults,
  type QuotaSituation,
  remaining,
  retentionStart,
  serverTotalLimit,
} from '../../../src/services/quotas/quota-rules.ts';

const utc = (iso: string) => Date.parse(`${iso}Z`);

const unlimitedDefaults: QuotaDefaults = {
  memberLimit: 0,
  serverLimit: 0,
  period: 'day',
  maxRunningPerMember: 1,
  cooldownSeconds: 0,
};

const rules = (overrides: Partial<GuildQuotaRules>): GuildQuotaRules => ({ ...NO_RULES, ...overrides });
const member = (roleIds: string[] = [], userId = 'u1') => ({ userId, roleIds });

describe('periods (UTC)', () => {
  // 2025-01-29 is a Wednesday.
  const wednesday = utc('2025-01-29T15:30:00');

  it('a day runs from 00:00 UTC to the next 00:00 UTC', () => {
    expect(periodStart('day', wednesday)).toBe(utc('2025-01-29T00:00:00'));
    expect(periodEnd('day', wednesday)).toBe(utc('2025-01-30T00:00:00'));
  });

  it('a week starts on Monday 00:00 UTC', () => {
    expect(periodStart('week', wednesday)).toBe(utc('2025-01-27T00:00:00'));
    expect(periodEnd('week', wednesday)).toBe(utc('2025-02-03T00:00:00'));
  });

  it('Sunday belongs to the week that started the Monday before', () => {
    const sunday = utc('2025-02-02T23:59:59');
    expect(periodStart('week', sunday)).toBe(utc('2025-01-27T00:00:00'));
  });

  it('Monday at midnight starts a new week', () => {
    const monday = utc('2025-02-03T00:00:00');
    expect(periodStart('week', monday)).toBe(monday);
  });

  it('a month runs from the 1st to the 1st, across the year end', () => {
    const december = utc('2024-12-31T23:59:59');
    expect(periodStart('month', december)).toBe(utc('2024-12-01T00:00:00'));
    expect(periodEnd('month', december)).toBe(utc('2025-01-01T00:00:00'));
  });

  it('handles a leap February', () => {
    expect(periodEnd('month', utc('2024-02-15T12:00:00'))).toBe(utc('2024-03-01T00:00:00'));
  });

  it('names each period by its start', () => {
    expect(periodKey('day', wednesday)).toBe('day:2025-01-29');
    expect(periodKey('week', wednesday)).toBe('week:2025-01-27');
    expect(periodKey('month', wednesday)).toBe('month:2025-01');
  });

  it('keeps history back to the earlier of week start and month start', () => {
    // Saturday 1 February: the week began in January.
    expect(retentionStart(utc('2025-02-01T10:00:00'))).toBe(utc('2025-01-27T00:00:00'));
    // Wednesday 29 January: the month began before the week.
    expect(retentionStart(wednesday)).toBe(utc('2025-01-01T00:00:00'));
  });
});

describe('which rule applies (most specific wins)', () => {
  const full = rules({
    everyone: { count: 1, period: 'day' },
    roles: { helper: { count: 3, period: 'day' }, patron: { count: 50, period: 'month' } },
    members: { u1: { count: 2, period: 'week' } },
    exemptRoleIds: ['staff'],
  });

  it('a member rule beats roles, exemptions and the server default', () => {
    expect(applicableRule(full, unlimitedDefaults, member(['helper', 'staff']), [])).toEqual({
      source: 'member',
      limit: { count: 2, period: 'week' },
    });
  });

  it('an exempt role beats role rules', () => {
    expect(applicableRule(full, unlimitedDefaults, member(['helper', 'staff'], 'u2'), [])).toEqual({
      source: 'exempt-role',
      roleId: 'staff',
    });
  });

  it('picks the most generous role rule, comparing per-day rates across periods', () => {
    const rule = applicableRule(full, unlimitedDefaults, member(['patron', 'helper'], 'u2'), []);
    expect(rule).toEqual({ source: 'role', roleId: 'helper', limit: { count: 3, period: 'day' } });
  });

  it('a role rule applies even when it is stricter than the rule for everyone', () => {
    const strict = rules({
      everyone: { count: 5, period: 'day' },
      roles: { newcomer: { count: 1, period: 'week' } },
    });
    expect(applicableRule(strict, unlimitedDefaults, member(['newcomer']), [])).toMatchObject({
      source: 'role',
    });
  });

  it('falls back to the rule for everyone, then to the setting', () => {
    expect(applicableRule(full, unlimitedDefaults, member(['other'], 'u2'), [])).toEqual({
      source: 'everyone',
      limit: { count: 1, period: 'day' },
    });
    expect(
      applicableRule(NO_RULES, { ...unlimitedDefaults, memberLimit: 4, period: 'week' }, member(), []),
    ).toEqual({
      source: 'default',
      limit: { count: 4, period: 'week' },
    });
  });

  it('a default limit of 0 means unlimited', () => {
    expect(applicableRule(NO_RULES, unlimitedDefaults, member(), [])).toEqual({
      source: 'default',
      limit: null,
    });
  });

  it('bot owners are never limited, whatever the rules', () => {
    const quota = memberQuota(full, { ...unlimitedDefaults, cooldownSeconds: 60 }, member(), ['u1']);
    expect(quota).toMatchObject({ rule: { source: 'owner' }, limit: null, maxRunning: 0, cooldownMs: 0 });
  });

  it('exempt members have no count, running or cooldown limit', () => {
    const quota = memberQuota(
      full,
      { ...unlimitedDefaults, cooldownSeconds: 60 },
      member(['staff'], 'u2'),
      [],
    );
    expect(quota).toMatchObject({ limit: null, maxRunning: 0, cooldownMs: 0 });
  });

  it('other members get the server overrides for running jobs and cooldown, else the settings', () => {
    const defaults = { ...unlimitedDefaults, maxRunningPerMember: 2, cooldownSeconds: 30 };
    expect(memberQuota(NO_RULES, defaults, member(), [])).toMatchObject({
      maxRunning: 2,
      cooldownMs: 30_000,
    });
    const overridden = rules({ maxRunningPerMember: 0, cooldownSeconds: 5 });
    expect(memberQuota(overridden, defaults, member(), [])).toMatchObject({
      maxRunning: 0,
      cooldownMs: 5_000,
    });
  });

  it('counts an unlimited member in the period of the rule for everyone', () => {
    const weekly = rules({ everyone: { count: 9, period: 'week' }, exemptRoleIds: ['staff'] });
    expect(memberQuota(weekly, unlimitedDefaults, member(['staff']), []).period).toBe('week');
  });
});

describe('server total', () => {
  it('comes from the server rule, else from DEFAULT_SERVER_LIMIT in the default period, else none', () => {
    expect(
      serverTotalLimit(rules({ serverTotal: { count: 7, period: 'month' } }), unlimitedDefaults),
    ).toEqual({
      count: 7,
      period: 'month',
    });
    expect(serverTotalLimit(NO_RULES, { ...unlimitedDefaults, serverLimit: 20, period: 'week' })).toEqual({
      count: 20,
      period: 'week',
    });
    expect(serverTotalLimit(NO_RULES, unlimitedDefaults)).toBeNull();
  });
});

describe('remaining', () => {
  it('is null when unlimited and never negative', () => {
    expect(remaining(null, 5)).toBeNull();
    expect(remaining({ count: 3, period: 'day' }, 1)).toBe(2);
    expect(remaining({ count: 3, period: 'day' }, 4)).toBe(0);
  });
});

describe('findBlock', () => {
  const now = utc('2025-01-29T15:30:00');
  const dailyOne = memberQuota(
    rules({ everyone: { count: 1, period: 'day' } }),
    unlimitedDefaults,
    member(),
    [],
  );
  const situation = (overrides: Partial<QuotaSituation>): QuotaSituation => ({
    quota: dailyOne,
    memberUsed: 0,
    serverTotal: null,
    running: 0,
    lastReserveAt: undefined,
    now,
    ...overrides,
  });

  it('lets a video through while everything has room', () => {
    expect(findBlock(situation({}))).toBeNull();
  });

  it('blocks at the member limit until the period ends', () => {
    expect(findBlock(situation({ memberUsed: 1 }))).toEqual({
      kind: 'member-limit',
      limit: { count: 1, period: 'day' },
      used: 1,
      retryAt: utc('2025-01-30T00:00:00'),
    });
  });

  it('a limit of 0 never resets, so it gives no retry time', () => {
    const none = memberQuota(
      rules({ everyone: { count: 0, period: 'day' } }),
      unlimitedDefaults,
      member(),
      [],
    );
    expect(findBlock(situation({ quota: none }))).toEqual({
      kind: 'member-limit',
      limit: { count: 0, period: 'day' },
      used: 0,
    });
  });

  it('the server total applies to exempt members but not to owners', () => {
    const serverTotal = { limit: { count: 10, period: 'week' as const }, used: 10 };
    const exempt = memberQuota(rules({ exemptRoleIds: ['staff'] }), unlimitedDefaults, member(['staff']), []);
    expect(findBlock(situation({ quota: exempt, serverTotal }))).toMatchObject({
      kind: 'server-limit',
      retryAt: utc('2025-02-03T00:00:00'),
    });
    const owner = memberQuota(NO_RULES, unlimitedDefaults, member(), ['u1']);
    expect(findBlock(situation({ quota: owner, serverTotal }))).toBeNull();
  });

  it('blocks a member with as many running jobs as allowed', () => {
    expect(findBlock(situation({ running: 1 }))).toEqual({ kind: 'max-running', running: 1, maxRunning: 1 });
  });

  it('blocks during the cooldown after the last reservation', () => {
    const cooling = { ...dailyOne, cooldownMs: 60_000 };
    expect(findBlock(situation({ quota: cooling, lastReserveAt: now - 10_000 }))).toEqual({
      kind: 'cooldown',
      retryAt: now + 50_000,
    });
    expect(findBlock(situation({ quota: cooling, lastReserveAt: now - 60_000 }))).toBeNull();
  });
});
