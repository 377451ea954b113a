import { randomUUID } from 'node:crypto';
import { translatorFor } from '../i18n/translator.ts';
import type { Logger } from '../logging/logger.ts';
import type {
  LedgerSituation,
  PendingReservation,
  QuotaLedger,
  ReserveLimits,
  Store,
} from '../store/store.ts';
import { describeBlock } from './quota-format.ts';
import { QuotaReports, type ServerUsage, type UsageSummary } from './quota-reports.ts';
import {
  defaultsForScope,
  findBlock,
  type GuildQuotaRules,
  type Limit,
  type MemberQuota,
  memberQuota,
  type QuotaBlock,
  type QuotaDefaults,
  type Requester,
  serverTotalLimit,
} from './quota-rules.ts';
import { QuotaRulesAdmin, type RuleTarget } from './quota-rules-admin.ts';
import { guildIdOf, periodKeysAt, scopeKey } from './quota-scopes.ts';

export type { ServerTotalUsage, ServerUsage, TopMember, UsageSummary } from './quota-reports.ts';
export type { RuleTarget } from './quota-rules-admin.ts';

/**
 * Per-server video quotas. A video is reserved before its job starts (pending, and already counted
 * against the limits), then committed when delivered or released when it fails, is cancelled or is
 * interrupted. Each step is one atomic step of the store's quota ledger (small per-member and
 * per-server counters), so parallel reserves, here or in another bot process on the same Redis,
 * cannot overspend. DMs have no server: each member's DMs are their own scope, under the bot's
 * default limits.
 *
 * This class is the reservation path; the rules admins set live in QuotaRulesAdmin and what
 * `/usage` and `/quota show` report in QuotaReports, both reached through it.
 */

/** A reserved video: the ledger's entry, plus the server it belongs to (null in DMs). */
export interface Reservation extends PendingReservation {
  guildId: string | null;
}

export type ReserveResult =
  | { ok: true; reservation: Reservation }
  | { ok: false; reason: string; retryAt?: number };

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
  private readonly admin: QuotaRulesAdmin;
  private readonly reports: QuotaReports;
  private readonly ledger: QuotaLedger;
  private readonly defaults: QuotaDefaults;
  private readonly ownerIds: readonly string[];
  private readonly logger: Logger;
  private readonly processId: string;

  constructor({ store, defaults, ownerIds, logger, processId }: QuotaServiceOptions) {
    this.admin = new QuotaRulesAdmin(store.collection('quota-rules'), logger);
    this.ledger = store.quotaLedger;
    this.reports = new QuotaReports({ ledger: this.ledger, rules: this.admin, defaults, ownerIds, logger });
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
    const rules = await this.admin.rulesFor(member.guildId);
    const quota = memberQuota(rules, defaultsForScope(this.defaults, member.guildId), member, this.ownerIds);
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

  usage(member: Requester, now = Date.now()): Promise<UsageSummary> {
    return this.reports.usage(member, now);
  }

  serverUsage(guildId: string, now = Date.now(), top = 10): Promise<ServerUsage> {
    return this.reports.serverUsage(guildId, now, top);
  }

  resetUsage(guildId: string, userId: string, now = Date.now()): Promise<void> {
    return this.reports.resetUsage(guildId, userId, now);
  }

  async listRules(guildId: string): Promise<RulesOverview> {
    return { rules: await this.admin.rulesFor(guildId), defaults: this.defaults };
  }

  setRule(guildId: string, target: RuleTarget, limit: Limit): Promise<void> {
    return this.admin.setRule(guildId, target, limit);
  }

  /** Resolves false when there was no such rule. */
  clearRule(guildId: string, target: RuleTarget): Promise<boolean> {
    return this.admin.clearRule(guildId, target);
  }

  /** 0 lifts the cap. */
  setMaxRunning(guildId: string, maxRunningPerMember: number): Promise<void> {
    return this.admin.setMaxRunning(guildId, maxRunningPerMember);
  }

  /** 0 removes the cooldown. */
  setCooldown(guildId: string, cooldownSeconds: number): Promise<void> {
    return this.admin.setCooldown(guildId, cooldownSeconds);
  }

  setRoleExempt(guildId: string, roleId: string, exempt: boolean): Promise<void> {
    return this.admin.setRoleExempt(guildId, roleId, exempt);
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
}

function logFields(reservation: PendingReservation) {
  return {
    reservationId: reservation.id,
    scope: reservation.scope,
    userId: reservation.userId,
    jobId: reservation.jobId,
  };
}
