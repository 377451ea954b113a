import { randomUUID } from 'node:crypto';
import { translatorFor } from '../i18n/translator.ts';
import type { Logger } from '../logging/logger.ts';
import type {
  Collection,
  LedgerSituation,
  PendingReservation,
  PeriodKeys,
  QuotaLedger,
  ReserveLimits,
  Store,
} from '../store/store.ts';
import { describeBlock } from './quota-format.ts';
import {
  type AppliedRule,
  findBlock,
  type GuildQuotaRules,
  type Limit,
  type MemberQuota,
  memberQuota,
  NO_RULES,
  type Period,
  periodEnd,
  periodKey,
  type QuotaBlock,
  type QuotaDefaults,
  type Requester,
  remaining,
  serverTotalLimit,
} from './quota-rules.ts';

/**
 * Per-server video quotas. A video is reserved before its job starts (pending, and already counted
 * against the limits), then committed when delivered or released when it fails, is cancelled or is
 * interrupted. Each step is one atomic step of the store's quota ledger (small per-member and
 * per-server counters), so parallel reserves, here or in another bot process on the same Redis,
 * cannot overspend. DMs have no server: each member's DMs are their own scope, under the bot's
 * default limits.
 */

/** A reserved video: the ledger's entry, plus the server it belongs to (null in DMs). */
export interface Reservation extends PendingReservation {
  guildId: string | null;
}

export type ReserveResult =
  | { ok: true; reservation: Reservation }
  | { ok: false; reason: string; retryAt?: number };

export interface UsageSummary {
  rule: AppliedRule;
  /** null = unlimited. */
  limit: Limit | null;
  period: Period;
  /** Committed + pending videos this period. */
  used: number;
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
  serverTotal: ServerTotalUsage | null;
}

export interface TopMember {
  userId: string;
  used: number;
}

/** Whose limit a rule change is about. */
export type RuleTarget =
  | { kind: 'everyone' }
  | { kind: 'role'; roleId: string }
  | { kind: 'member'; userId: string }
  | { kind: 'server-total' };

export interface RulesOverview {
  rules: GuildQuotaRules;
  defaults: QuotaDefaults;
}

export interface QuotaServiceOptions {
  store: Store;
  defaults: QuotaDefaults;
  ownerIds: readonly string[];
  logger: Logger;
  /** This process's id: reservations name it, so a sweep can tell whose they are. */
  processId?: string;
}

export class QuotaService {
  private readonly rules: Collection<GuildQuotaRules>;
  private readonly ledger: QuotaLedger;
  private readonly defaults: QuotaDefaults;
  private readonly ownerIds: readonly string[];
  private readonly logger: Logger;
  private readonly processId: string;

  constructor({ store, defaults, ownerIds, logger, processId }: QuotaServiceOptions) {
    this.rules = store.collection('quota-rules');
    this.ledger = store.quotaLedger;
    this.defaults = defaults;
    this.ownerIds = ownerIds;
    this.logger = logger;
    this.processId = processId ?? 'unknown';
  }

  /** Atomically checks every limit and, if one more video fits, reserves it for `jobId`. */
  /** A refusal's `reason` is in `locale` (a Discord locale; English when absent). */
  async reserve(
    member: Requester,
    now = Date.now(),
    jobId: string = randomUUID(),
    locale?: string,
  ): Promise<ReserveResult> {
    const rules = await this.rulesFor(member.guildId);
    const quota = memberQuota(rules, this.defaults, member, this.ownerIds);
    const reservation: Reservation = {
      id: randomUUID(),
      scope: scopeKey(member),
      guildId: member.guildId,
      userId: member.userId,
      jobId,
      ownerId: this.processId,
      createdAt: now,
      periodKeys: periodKeysAt(now),
    };
    const limits = this.limitsFor(rules, quota, member);
    const { reserved, situation } = await this.ledger.reserve(reservation, limits, now);
    if (reserved) {
      this.logger.info('quota_reserved', { ...logFields(reservation), rule: quota.rule.source });
      return { ok: true, reservation };
    }
    const block = this.blockOf(situation, limits, quota, now);
    // The ledger applies exactly the checks findBlock names; a refusal without a block is a bug.
    if (!block) throw new Error('the quota ledger refused a reservation that fits every limit');
    this.logger.info('quota_refused', { guildId: member.guildId, userId: member.userId, block: block.kind });
    const retryAt = 'retryAt' in block ? block.retryAt : undefined;
    return {
      ok: false,
      reason: describeBlock(block, translatorFor(locale)),
      ...(retryAt === undefined ? {} : { retryAt }),
    };
  }

  /** The video was delivered: its pending unit becomes used. Idempotent. */
  async commit(reservation: PendingReservation): Promise<void> {
    const changed = await this.ledger.commit(reservation);
    this.logger.info('quota_committed', { ...logFields(reservation), changed });
  }

  /** The video failed, was cancelled or interrupted: its pending unit is given back. Idempotent. */
  async release(reservation: PendingReservation): Promise<void> {
    const changed = await this.ledger.release(reservation);
    this.logger.info('quota_released', { ...logFields(reservation), changed });
  }

  /** Every reservation neither committed nor released, across all servers; for the sweep. */
  async pendingReservations(): Promise<Reservation[]> {
    const pending = await this.ledger.pending();
    return pending.map((entry) => ({ ...entry, guildId: guildIdOf(entry.scope) }));
  }

  /** Drops the counters of periods long over. */
  prune(now = Date.now()): Promise<void> {
    return this.ledger.prune(now);
  }

  async usage(member: Requester, now = Date.now()): Promise<UsageSummary> {
    const rules = await this.rulesFor(member.guildId);
    const quota = memberQuota(rules, this.defaults, member, this.ownerIds);
    const situation = await this.ledger.situation(scopeKey(member), member.userId, periodKeysAt(now));
    const used = situation.memberUsed[quota.period];
    return {
      rule: quota.rule,
      limit: quota.limit,
      period: quota.period,
      used,
      remaining: remaining(quota.limit, used),
      running: situation.running,
      maxRunning: quota.maxRunning,
      periodEnd: periodEnd(quota.period, now),
      ...cooldownEnd(quota, situation.lastReserveAt, now),
      serverTotal: member.guildId ? this.serverTotalUsage(rules, situation, now) : null,
    };
  }

  async listRules(guildId: string): Promise<RulesOverview> {
    return { rules: await this.rulesFor(guildId), defaults: this.defaults };
  }

  async setRule(guildId: string, target: RuleTarget, limit: Limit): Promise<void> {
    await this.changeRules(guildId, (rules) => withLimit(rules, target, limit));
  }

  /** Resolves false when there was no such rule. */
  async clearRule(guildId: string, target: RuleTarget): Promise<boolean> {
    const previous = await this.changeRules(guildId, (rules) => withLimit(rules, target, undefined));
    return limitOf(previous, target) !== undefined;
  }

  /** 0 lifts the cap. */
  async setMaxRunning(guildId: string, maxRunningPerMember: number): Promise<void> {
    await this.changeRules(guildId, (rules) => ({ ...rules, maxRunningPerMember }));
  }

  /** 0 removes the cooldown. */
  async setCooldown(guildId: string, cooldownSeconds: number): Promise<void> {
    await this.changeRules(guildId, (rules) => ({ ...rules, cooldownSeconds }));
  }

  async setRoleExempt(guildId: string, roleId: string, exempt: boolean): Promise<void> {
    await this.changeRules(guildId, (rules) => {
      const others = rules.exemptRoleIds.filter((id) => id !== roleId);
      return { ...rules, exemptRoleIds: exempt ? [...others, roleId] : others };
    });
  }

  /**
   * A server's usage for admins: the top members and the total in the period of the rule for
   * everyone (or the default period), and the server-wide cap with its own period.
   */
  async serverUsage(guildId: string, now = Date.now(), top = 10): Promise<ServerUsage> {
    const rules = await this.rulesFor(guildId);
    const period = rules.everyone?.period ?? this.defaults.period;
    const scope = guildScope(guildId);
    const [total, members] = await Promise.all([
      this.ledger.serverUsed(scope, periodKey(period, now)),
      this.ledger.topMembers(scope, periodKey(period, now), top),
    ]);
    const limit = serverTotalLimit(rules, this.defaults);
    const serverTotal = limit
      ? {
          limit,
          used: await this.ledger.serverUsed(scope, periodKey(limit.period, now)),
          periodEnd: periodEnd(limit.period, now),
        }
      : null;
    return { period, periodEnd: periodEnd(period, now), total, members, serverTotal };
  }

  /** Forgets a member's delivered videos and cooldown on this server; running jobs stay reserved. */
  async resetUsage(guildId: string, userId: string, now = Date.now()): Promise<void> {
    await this.ledger.resetMember(guildScope(guildId), userId, periodKeysAt(now));
    this.logger.info('quota_usage_reset', { guildId, userId });
  }

  private async rulesFor(guildId: string | null): Promise<GuildQuotaRules> {
    return (guildId && (await this.rules.get(guildId))) || NO_RULES;
  }

  /** Resolves the rules as they were before the change. */
  private async changeRules(
    guildId: string,
    change: (rules: GuildQuotaRules) => GuildQuotaRules,
  ): Promise<GuildQuotaRules> {
    const previous = await this.rules.update(guildId, (stored) => {
      const rules = stored ?? NO_RULES;
      return { next: change(rules), result: rules };
    });
    this.logger.info('quota_rules_changed', { guildId });
    return previous;
  }

  /** The limits the ledger checks atomically; owners are free of the server total too. */
  private limitsFor(rules: GuildQuotaRules, quota: MemberQuota, member: Requester): ReserveLimits {
    const server =
      member.guildId && quota.rule.source !== 'owner' ? serverTotalLimit(rules, this.defaults) : null;
    return { member: quota.limit, server, maxRunning: quota.maxRunning, cooldownMs: quota.cooldownMs };
  }

  /** Why a reservation did not fit, from the counters the ledger decided on. */
  private blockOf(
    situation: LedgerSituation,
    limits: ReserveLimits,
    quota: MemberQuota,
    now: number,
  ): QuotaBlock | null {
    return findBlock({
      quota,
      memberUsed: situation.memberUsed[quota.period],
      serverTotal: limits.server
        ? { limit: limits.server, used: situation.serverUsed[limits.server.period] }
        : null,
      running: situation.running,
      lastReserveAt: situation.lastReserveAt,
      now,
    });
  }

  private serverTotalUsage(
    rules: GuildQuotaRules,
    situation: LedgerSituation,
    now: number,
  ): ServerTotalUsage | null {
    const limit = serverTotalLimit(rules, this.defaults);
    if (!limit) return null;
    return { limit, used: situation.serverUsed[limit.period], periodEnd: periodEnd(limit.period, now) };
  }
}

function periodKeysAt(now: number): PeriodKeys {
  return { day: periodKey('day', now), week: periodKey('week', now), month: periodKey('month', now) };
}

function guildScope(guildId: string): string {
  return `guild-${guildId}`;
}

const DM_SCOPE_PREFIX = 'dm-';

/** Which ledger a member's videos go to: their server's, or their own for DMs. */
function scopeKey({ guildId, userId }: { guildId: string | null; userId: string }): string {
  return guildId ? guildScope(guildId) : `${DM_SCOPE_PREFIX}${userId}`;
}

function guildIdOf(scope: string): string | null {
  return scope.startsWith(DM_SCOPE_PREFIX) ? null : scope.slice('guild-'.length);
}

function withLimit(rules: GuildQuotaRules, target: RuleTarget, limit: Limit | undefined): GuildQuotaRules {
  switch (target.kind) {
    case 'everyone':
      return { ...rules, everyone: limit };
    case 'server-total':
      return { ...rules, serverTotal: limit };
    case 'role':
      return { ...rules, roles: withKey(rules.roles, target.roleId, limit) };
    case 'member':
      return { ...rules, members: withKey(rules.members, target.userId, limit) };
  }
}

function limitOf(rules: GuildQuotaRules, target: RuleTarget): Limit | undefined {
  switch (target.kind) {
    case 'everyone':
      return rules.everyone;
    case 'server-total':
      return rules.serverTotal;
    case 'role':
      return rules.roles[target.roleId];
    case 'member':
      return rules.members[target.userId];
  }
}

function withKey<V>(record: Record<string, V>, key: string, value: V | undefined): Record<string, V> {
  const { [key]: _replaced, ...rest } = record;
  return value === undefined ? rest : { ...rest, [key]: value };
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

function logFields(reservation: PendingReservation) {
  return {
    reservationId: reservation.id,
    scope: reservation.scope,
    userId: reservation.userId,
    jobId: reservation.jobId,
  };
}
