import { randomUUID } from 'node:crypto';
import type { Logger } from './logger.ts';
import { describeBlock } from './quota-format.ts';
import {
  countPending,
  countSince,
  EMPTY_LEDGER,
  type Ledger,
  pruned,
  topMembers,
  withCommitted,
  withEntry,
  withMemberReset,
  withReleased,
} from './quota-ledger.ts';
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
  periodStart,
  type QuotaBlock,
  type QuotaDefaults,
  remaining,
  serverTotalLimit,
} from './quota-rules.ts';
import type { Collection, Store, Update } from './store.ts';

/**
 * Per-server video quotas. A video is reserved before its job starts (pending, and already counted
 * against the limits), then committed when delivered or released when it fails, is cancelled or is
 * interrupted. Each server's usage is one ledger document changed only through the store's atomic
 * update, so parallel reserves, here or in another bot process on the same Redis, cannot overspend.
 * DMs have no server: each member's DMs are their own scope, under the bot's default limits.
 */

export interface MemberContext {
  guildId: string | null;
  userId: string;
  roleIds: string[];
}

export interface Reservation {
  id: string;
  guildId: string | null;
  userId: string;
  /** The member's period when reserved, e.g. `day:2025-01-31`; for logs and job records. */
  periodKey: string;
  createdAt: number;
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
}

export class QuotaService {
  private readonly rules: Collection<GuildQuotaRules>;
  private readonly ledgers: Collection<Ledger>;
  private readonly defaults: QuotaDefaults;
  private readonly ownerIds: readonly string[];
  private readonly logger: Logger;

  constructor({ store, defaults, ownerIds, logger }: QuotaServiceOptions) {
    this.rules = store.collection('quota-rules');
    this.ledgers = store.collection('quota-ledgers');
    this.defaults = defaults;
    this.ownerIds = ownerIds;
    this.logger = logger;
  }

  /** Atomically checks every limit and, if one more video fits, reserves it. */
  async reserve(member: MemberContext, now = Date.now()): Promise<ReserveResult> {
    const rules = await this.rulesFor(member.guildId);
    const quota = memberQuota(rules, this.defaults, member, this.ownerIds);
    const decision = await this.ledgers.update(scopeKey(member), (ledger) =>
      this.decide(ledger ?? EMPTY_LEDGER, member, rules, quota, now),
    );
    if (decision.ok) {
      this.logger.info('quota_reserved', { ...logFields(decision.reservation), rule: quota.rule.source });
      return decision;
    }
    const { block } = decision;
    this.logger.info('quota_refused', { guildId: member.guildId, userId: member.userId, block: block.kind });
    const retryAt = 'retryAt' in block ? block.retryAt : undefined;
    return { ok: false, reason: describeBlock(block), ...(retryAt === undefined ? {} : { retryAt }) };
  }

  /** The video was delivered: its pending unit becomes used. Idempotent. */
  async commit(reservation: Reservation): Promise<void> {
    const changed = await this.changeLedger(reservation, (ledger) => withCommitted(ledger, reservation.id));
    this.logger.info('quota_committed', { ...logFields(reservation), changed });
  }

  /** The video failed, was cancelled or interrupted: its pending unit is given back. Idempotent. */
  async release(reservation: Reservation): Promise<void> {
    const changed = await this.changeLedger(reservation, (ledger) => withReleased(ledger, reservation.id));
    this.logger.info('quota_released', { ...logFields(reservation), changed });
  }

  /** Every reservation neither committed nor released, across all servers; for restart recovery. */
  async pendingReservations(): Promise<Reservation[]> {
    const ledgers = await this.ledgers.entries();
    return ledgers.flatMap(([scope, ledger]) =>
      ledger.entries
        .filter((entry) => entry.state === 'pending')
        .map(({ id, userId, periodKey, createdAt }) => ({
          id,
          guildId: guildIdOf(scope),
          userId,
          periodKey,
          createdAt,
        })),
    );
  }

  async usage(member: MemberContext, now = Date.now()): Promise<UsageSummary> {
    const rules = await this.rulesFor(member.guildId);
    const quota = memberQuota(rules, this.defaults, member, this.ownerIds);
    const ledger = (await this.ledgers.get(scopeKey(member))) ?? EMPTY_LEDGER;
    const used = countSince(ledger, periodStart(quota.period, now), member.userId);
    return {
      rule: quota.rule,
      limit: quota.limit,
      period: quota.period,
      used,
      remaining: remaining(quota.limit, used),
      running: countPending(ledger, member.userId),
      maxRunning: quota.maxRunning,
      periodEnd: periodEnd(quota.period, now),
      ...cooldownEnd(quota, ledger.lastReserveAt[member.userId], now),
      serverTotal: member.guildId ? this.serverTotalUsage(rules, ledger, now) : null,
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
    const ledger = (await this.ledgers.get(guildScope(guildId))) ?? EMPTY_LEDGER;
    return {
      period,
      periodEnd: periodEnd(period, now),
      total: countSince(ledger, periodStart(period, now)),
      members: topMembers(ledger, periodStart(period, now), top),
      serverTotal: this.serverTotalUsage(rules, ledger, now),
    };
  }

  /** Forgets a member's delivered videos and cooldown on this server; running jobs stay reserved. */
  async resetUsage(guildId: string, userId: string): Promise<void> {
    await this.ledgers.update(guildScope(guildId), (ledger) => ({
      next: ledger && withMemberReset(ledger, userId),
      result: undefined,
    }));
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

  /** Applies a change to a reservation's ledger; resolves whether anything changed. */
  private changeLedger(
    reservation: Reservation,
    change: (ledger: Ledger) => Ledger | null,
  ): Promise<boolean> {
    return this.ledgers.update(scopeKey(reservation), (ledger) => {
      const next = ledger && change(ledger);
      return next ? { next, result: true } : { next: undefined, result: false };
    });
  }

  /** Runs inside the ledger's atomic update: nothing else changes the ledger meanwhile. */
  private decide(
    ledger: Ledger,
    member: MemberContext,
    rules: GuildQuotaRules,
    quota: MemberQuota,
    now: number,
  ): Update<Ledger, ReserveDecision> {
    const block = findBlock({
      quota,
      memberUsed: countSince(ledger, periodStart(quota.period, now), member.userId),
      serverTotal: member.guildId ? this.serverTotalUsage(rules, ledger, now) : null,
      running: countPending(ledger, member.userId),
      lastReserveAt: ledger.lastReserveAt[member.userId],
      now,
    });
    if (block) return { next: undefined, result: { ok: false, block } };
    const reservation = newReservation(member, periodKey(quota.period, now), now);
    const next = pruned(
      withEntry(ledger, { ...reservation, state: 'pending' }),
      now,
      this.guildCooldownMs(rules),
    );
    return { next, result: { ok: true, reservation } };
  }

  private serverTotalUsage(rules: GuildQuotaRules, ledger: Ledger, now: number): ServerTotalUsage | null {
    const limit = serverTotalLimit(rules, this.defaults);
    if (!limit) return null;
    return {
      limit,
      used: countSince(ledger, periodStart(limit.period, now)),
      periodEnd: periodEnd(limit.period, now),
    };
  }

  private guildCooldownMs(rules: GuildQuotaRules): number {
    return (rules.cooldownSeconds ?? this.defaults.cooldownSeconds) * 1000;
  }
}

type ReserveDecision = { ok: true; reservation: Reservation } | { ok: false; block: QuotaBlock };

function newReservation({ guildId, userId }: MemberContext, inPeriod: string, now: number): Reservation {
  return { id: randomUUID(), guildId, userId, periodKey: inPeriod, createdAt: now };
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

function logFields(reservation: Reservation) {
  return {
    reservationId: reservation.id,
    guildId: reservation.guildId,
    userId: reservation.userId,
    periodKey: reservation.periodKey,
  };
}
