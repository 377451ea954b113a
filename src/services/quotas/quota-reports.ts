import type { Logger } from '../logging/logger.ts';
import {
  counterKey,
  type LedgerSituation,
  modelSpendKey,
  type QuotaLedger,
  UNITS,
  type UnitUsage,
} from '../store/store.ts';
import {
  type AppliedRule,
  defaultsForScope,
  fromLedger,
  type GuildQuotaRules,
  type Limit,
  type MemberQuota,
  memberQuota,
  type Period,
  periodEnd,
  periodKey,
  type QuotaDefaults,
  remaining,
  serverTotalLimit,
  type Unit,
  type UnitAmounts,
  unitOf,
} from './quota-rules.ts';
import type { QuotaRulesAdmin } from './quota-rules-admin.ts';
import { guildScope, periodKeysAt, scopeKey } from './quota-scopes.ts';
import type { Requester } from './requester.ts';

/** What `/usage` and `/quota show` tell: a member's own usage, a server's, and a member's reset. */

export interface UsageSummary {
  rule: AppliedRule;
  /** null = unlimited. */
  limit: Limit | null;
  period: Period;
  /** What `limit`, `used` and `remaining` count (videos when unlimited). */
  unit: Unit;
  /** Committed + pending amount this period, in `unit` (spend in the currency). */
  used: number;
  /** The same period's usage in every unit, for a reply that shows the price too. */
  usedByUnit: UnitAmounts;
  /** null = unlimited. */
  remaining: number | null;
  /** Pending reservations: jobs running or waiting. */
  running: number;
  /** 0 = no cap. */
  maxRunning: number;
  periodEnd: number;
  /** When the member may start another video, if a cooldown is in force. */
  cooldownEndsAt?: number;
  serverTotal: ServerTotalUsage | null;
}

export interface ServerTotalUsage {
  limit: Limit;
  /** In the limit's unit. */
  used: number;
  periodEnd: number;
}

export interface ServerUsage {
  period: Period;
  periodEnd: number;
  /** Every member's videos this period. */
  total: number;
  /** Most videos first. */
  members: TopMember[];
  /** Every member's spend this period, in the currency. */
  spend: number;
  /** Most spend first. */
  spenders: TopMember[];
  /** This period's spend per model id, most first. */
  models: Array<{ model: string; spend: number }>;
  serverTotal: ServerTotalUsage | null;
}

export interface TopMember {
  userId: string;
  used: number;
}

export interface QuotaReportsOptions {
  ledger: QuotaLedger;
  rules: QuotaRulesAdmin;
  defaults: QuotaDefaults;
  ownerIds: readonly string[];
  logger: Logger;
}

export class QuotaReports {
  constructor(private readonly options: QuotaReportsOptions) {}

  async usage(member: Requester, now = Date.now()): Promise<UsageSummary> {
    const { ledger, rules: admin, defaults, ownerIds } = this.options;
    const rules = await admin.rulesFor(member.guildId);
    const quota = memberQuota(rules, defaultsForScope(defaults, member.guildId), member, ownerIds);
    const situation = await ledger.situation(scopeKey(member), member.userId, periodKeysAt(now));
    const unit = quota.limit ? unitOf(quota.limit) : 'videos';
    const usedByUnit = inDisplay(situation.memberUsed, quota.period);
    const used = usedByUnit[unit];
    return {
      rule: quota.rule,
      limit: quota.limit,
      period: quota.period,
      unit,
      used,
      usedByUnit,
      remaining: remaining(quota.limit, used),
      running: situation.running,
      maxRunning: quota.maxRunning,
      periodEnd: periodEnd(quota.period, now),
      ...cooldownEnd(quota, situation.lastReserveAt, now),
      serverTotal: member.guildId ? this.serverTotalUsage(rules, situation, now) : null,
    };
  }

  /**
   * A server's usage for admins: the top members and the total in the period of the rule for
   * everyone (or the default period), and the server-wide cap with its own period.
   */
  async serverUsage(guildId: string, now = Date.now(), top = 10): Promise<ServerUsage> {
    const { ledger, rules: admin, defaults } = this.options;
    const rules = await admin.rulesFor(guildId);
    const period = rules.everyone?.period ?? defaults.period;
    const scope = guildScope(guildId);
    const key = periodKey(period, now);
    const spendKey = counterKey('spend', key);
    const [total, members, spend, spenders, models] = await Promise.all([
      ledger.serverUsed(scope, key),
      ledger.topMembers(scope, key, top),
      ledger.serverUsed(scope, spendKey),
      ledger.topMembers(scope, spendKey, top),
      ledger.topMembers(scope, modelSpendKey(key), top),
    ]);
    const limit = serverTotalLimit(rules, defaults);
    const serverTotal = limit
      ? {
          limit,
          used: fromLedger(
            unitOf(limit),
            await ledger.serverUsed(scope, counterKey(unitOf(limit), periodKey(limit.period, now))),
          ),
          periodEnd: periodEnd(limit.period, now),
        }
      : null;
    return {
      period,
      periodEnd: periodEnd(period, now),
      total,
      members,
      spend: fromLedger('spend', spend),
      spenders: spenders.map((each) => ({ ...each, used: fromLedger('spend', each.used) })),
      models: models.map((each) => ({ model: each.userId, spend: fromLedger('spend', each.used) })),
      serverTotal,
    };
  }

  /** Forgets a member's delivered videos and cooldown on this server; running jobs stay reserved. */
  async resetUsage(guildId: string, userId: string, now = Date.now()): Promise<void> {
    await this.options.ledger.resetMember(guildScope(guildId), userId, periodKeysAt(now));
    this.options.logger.info('quota_usage_reset', { guildId, userId });
  }

  private serverTotalUsage(
    rules: GuildQuotaRules,
    situation: LedgerSituation,
    now: number,
  ): ServerTotalUsage | null {
    const limit = serverTotalLimit(rules, this.options.defaults);
    if (!limit) return null;
    const used = fromLedger(unitOf(limit), situation.serverUsed[unitOf(limit)][limit.period]);
    return { limit, used, periodEnd: periodEnd(limit.period, now) };
  }
}

/** A period's usage in every unit, as members read it (spend in the currency). */
function inDisplay(usage: UnitUsage, period: Period): UnitAmounts {
  const amounts = {} as UnitAmounts;
  for (const unit of UNITS) amounts[unit] = fromLedger(unit, usage[unit][period]);
  return amounts;
}

function cooldownEnd(
  quota: MemberQuota,
  lastReserveAt: number | undefined,
  now: number,
): { cooldownEndsAt?: number } {
  if (lastReserveAt === undefined || quota.cooldownMs === 0) return {};
  const endsAt = lastReserveAt + quota.cooldownMs;
  return endsAt > now ? { cooldownEndsAt: endsAt } : {};
}
