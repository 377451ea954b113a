import type { Config } from '../../config.ts';
import {
  type Limit,
  ONE_VIDEO,
  type Period,
  periodEnd,
  type Unit,
  type UnitAmounts,
  unitOf,
} from './quota-period.ts';
import type { Requester } from './requester.ts';

export {
  fromLedger,
  type Limit,
  ONE_VIDEO,
  type Period,
  periodEnd,
  periodKey,
  periodStart,
  retentionStart,
  SPEND_SCALE,
  toLedger,
  type Unit,
  type UnitAmounts,
  unitOf,
} from './quota-period.ts';

/**
 * Quota arithmetic with no I/O: which rule applies to a member, and whether one more video fits.
 * The period words and boundaries are in quota-period.ts (re-exported here for the rooms that read
 * both).
 */

/** What a server's admins have set. Anything unset falls back to the bot's settings. */
export interface GuildQuotaRules {
  everyone?: Limit;
  roles: Record<string, Limit>;
  members: Record<string, Limit>;
  serverTotal?: Limit;
  maxRunningPerMember?: number;
  cooldownSeconds?: number;
  exemptRoleIds: string[];
}

export const NO_RULES: GuildQuotaRules = { roles: {}, members: {}, exemptRoleIds: [] };

/** The bot-wide fallbacks, from the DEFAULT_* settings; 0 means unlimited (or no cooldown). */
export interface QuotaDefaults {
  memberLimit: number;
  serverLimit: number;
  period: Period;
  /** What the two limits count; videos when absent. */
  unit?: Unit;
  maxRunningPerMember: number;
  cooldownSeconds: number;
  /**
   * A member's own allowance, outside any server: in DMs and for their own install used where the
   * bot is not (DEFAULT_USER_LIMIT; unset: `memberLimit`).
   */
  userLimit?: number;
}

export function quotaDefaultsFromConfig(config: Config): QuotaDefaults {
  return {
    memberLimit: config.DEFAULT_MEMBER_LIMIT,
    userLimit: config.DEFAULT_USER_LIMIT,
    serverLimit: config.DEFAULT_SERVER_LIMIT,
    period: config.DEFAULT_PERIOD,
    unit: config.DEFAULT_LIMIT_UNIT,
    maxRunningPerMember: config.DEFAULT_MAX_RUNNING_PER_MEMBER,
    cooldownSeconds: config.DEFAULT_COOLDOWN_SECONDS,
  };
}

/** The defaults of a scope: a server's, or the member's own (no server), which has its own limit. */
export function defaultsForScope(defaults: QuotaDefaults, guildId: string | null): QuotaDefaults {
  return guildId === null && defaults.userLimit !== undefined
    ? { ...defaults, memberLimit: defaults.userLimit }
    : defaults;
}

/** Why a member's allowance is what it is, most specific first. */
export type AppliedRule =
  | { source: 'owner' }
  | { source: 'member'; limit: Limit }
  | { source: 'exempt-role'; roleId: string }
  | { source: 'role'; roleId: string; limit: Limit }
  | { source: 'everyone'; limit: Limit }
  | { source: 'default'; limit: Limit | null };

/** A member's effective quota: the applied rule and the per-member restrictions that come with it. */
export interface MemberQuota {
  rule: AppliedRule;
  /** null = unlimited. */
  limit: Limit | null;
  /** The period the member's usage is counted in (the default period when unlimited). */
  period: Period;
  /** 0 = no cap. */
  maxRunning: number;
  cooldownMs: number;
}

const APPROXIMATE_DAYS: Record<Period, number> = { day: 1, week: 7, month: 30 };

/** Videos per day, to compare limits over different periods ("3 a day" beats "50 a month"). */
function dailyRate(limit: Limit): number {
  return limit.count / APPROXIMATE_DAYS[limit.period];
}

function mostGenerousRoleRule(rules: GuildQuotaRules, roleIds: readonly string[]): AppliedRule | undefined {
  let best: { roleId: string; limit: Limit } | undefined;
  for (const roleId of roleIds) {
    const limit = rules.roles[roleId];
    if (limit && (!best || dailyRate(limit) > dailyRate(best.limit))) best = { roleId, limit };
  }
  return best && { source: 'role', ...best };
}

/**
 * Most specific wins: owner, then the member's own rule, then an exempt role, then the most
 * generous of the member's role rules, then the server's rule for everyone, then the setting.
 */
export function applicableRule(
  rules: GuildQuotaRules,
  defaults: QuotaDefaults,
  member: Pick<Requester, 'userId' | 'roleIds'>,
  ownerIds: readonly string[],
): AppliedRule {
  if (ownerIds.includes(member.userId)) return { source: 'owner' };
  const own = rules.members[member.userId];
  if (own) return { source: 'member', limit: own };
  const exemptRoleId = member.roleIds.find((roleId) => rules.exemptRoleIds.includes(roleId));
  if (exemptRoleId) return { source: 'exempt-role', roleId: exemptRoleId };
  const byRole = mostGenerousRoleRule(rules, member.roleIds);
  if (byRole) return byRole;
  if (rules.everyone) return { source: 'everyone', limit: rules.everyone };
  const fallback = defaults.memberLimit > 0 ? defaultLimit(defaults.memberLimit, defaults) : null;
  return { source: 'default', limit: fallback };
}

function ruleLimit(rule: AppliedRule): Limit | null {
  return 'limit' in rule ? rule.limit : null;
}

/** Owners and exempt members are free of every per-member restriction, not only the count. */
function isUnrestricted(rule: AppliedRule): boolean {
  return rule.source === 'owner' || rule.source === 'exempt-role';
}

export function memberQuota(
  rules: GuildQuotaRules,
  defaults: QuotaDefaults,
  member: Pick<Requester, 'userId' | 'roleIds'>,
  ownerIds: readonly string[],
): MemberQuota {
  const rule = applicableRule(rules, defaults, member, ownerIds);
  const limit = ruleLimit(rule);
  const free = isUnrestricted(rule);
  return {
    rule,
    limit,
    period: limit?.period ?? rules.everyone?.period ?? defaults.period,
    maxRunning: free ? 0 : (rules.maxRunningPerMember ?? defaults.maxRunningPerMember),
    cooldownMs: free ? 0 : (rules.cooldownSeconds ?? defaults.cooldownSeconds) * 1000,
  };
}

/** The server-wide cap, or null when there is none. It applies to every member but bot owners. */
export function serverTotalLimit(rules: GuildQuotaRules, defaults: QuotaDefaults): Limit | null {
  if (rules.serverTotal) return rules.serverTotal;
  return defaults.serverLimit > 0 ? defaultLimit(defaults.serverLimit, defaults) : null;
}

/** A DEFAULT_* limit; videos carry no unit, as limits did before there were units. */
function defaultLimit(count: number, defaults: QuotaDefaults): Limit {
  const unit = defaults.unit ?? 'videos';
  return { count, period: defaults.period, ...(unit === 'videos' ? {} : { unit }) };
}

/** null = unlimited; never negative. */
export function remaining(limit: Limit | null, used: number): number | null {
  return limit ? Math.max(0, limit.count - used) : null;
}

/**
 * What reserving one more video would hit, if anything, checked in this order. A limit of 0 never
 * resets, so it has no `retryAt`.
 */
export type QuotaBlock =
  | { kind: 'member-limit'; limit: Limit; used: number; needed?: number; retryAt?: number }
  | { kind: 'server-limit'; limit: Limit; used: number; needed?: number; retryAt?: number }
  | { kind: 'max-running'; running: number; maxRunning: number }
  | { kind: 'cooldown'; retryAt: number };

export interface QuotaSituation {
  quota: MemberQuota;
  /** The member's committed + pending amount in `quota.period`, in the member limit's unit. */
  memberUsed: number;
  /** The server's, in its limit's unit. */
  serverTotal: { limit: Limit; used: number } | null;
  /** What the job would add, per unit, in the same terms as the limits (one video when absent). */
  needed?: UnitAmounts;
  /** The member's pending reservations, whatever their period. */
  running: number;
  lastReserveAt: number | undefined;
  now: number;
}

function limitRetry(limit: Limit, now: number): { retryAt?: number } {
  return limit.count > 0 ? { retryAt: periodEnd(limit.period, now) } : {};
}

export function findBlock(situation: QuotaSituation): QuotaBlock | null {
  const { quota, memberUsed, serverTotal, running, lastReserveAt, now } = situation;
  const neededIn = (limit: Limit) => (situation.needed ?? ONE_VIDEO)[unitOf(limit)];
  // A video is a video: only an allowance in seconds or money says how much the job needed.
  const needed = (limit: Limit) => (unitOf(limit) === 'videos' ? {} : { needed: neededIn(limit) });
  if (quota.limit && memberUsed + neededIn(quota.limit) > quota.limit.count) {
    const { limit } = quota;
    return { kind: 'member-limit', limit, used: memberUsed, ...needed(limit), ...limitRetry(limit, now) };
  }
  if (
    serverTotal &&
    quota.rule.source !== 'owner' &&
    serverTotal.used + neededIn(serverTotal.limit) > serverTotal.limit.count
  ) {
    const { limit, used } = serverTotal;
    return { kind: 'server-limit', limit, used, ...needed(limit), ...limitRetry(limit, now) };
  }
  if (quota.maxRunning > 0 && running >= quota.maxRunning) {
    return { kind: 'max-running', running, maxRunning: quota.maxRunning };
  }
  if (lastReserveAt !== undefined && quota.cooldownMs > 0 && now < lastReserveAt + quota.cooldownMs) {
    return { kind: 'cooldown', retryAt: lastReserveAt + quota.cooldownMs };
  }
  return null;
}
