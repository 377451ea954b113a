import { randomUUID } from 'node:crypto';
import { translatorFor } from '../i18n/translator.ts';
import type { Logger } from '../logging/logger.ts';
import {
  amountsOf,
  type LedgerSituation,
  type PendingReservation,
  type QuotaLedger,
  type ReserveLimits,
  type Store,
} from '../store/store.ts';
import type { Debit } from './credits.ts';
import { DEFAULT_CURRENCY, describeBlock } from './quota-format.ts';
import { QuotaReports, type ServerUsage, type UsageSummary } from './quota-reports.ts';
import {
  defaultsForScope,
  findBlock,
  fromLedger,
  type GuildQuotaRules,
  type Limit,
  type MemberQuota,
  memberQuota,
  type QuotaBlock,
  type QuotaDefaults,
  serverTotalLimit,
  toLedger,
  type Unit,
  type UnitAmounts,
  unitOf,
} from './quota-rules.ts';
import { QuotaRulesAdmin, type RuleTarget } from './quota-rules-admin.ts';
import { guildIdOf, periodKeysAt, scopeKey } from './quota-scopes.ts';
import type { Requester } from './requester.ts';

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
  /** The units of the allowances it had to fit, so a fallback stays within what was reserved. */
  limitedBy?: Unit[];
  /** Paid from the member's bought credits (their allowance was used up): refunded there if undelivered. */
  paidFromBalance?: Debit;
}

/** What a job will cost: its length, and its estimated price in the catalogue's currency. */
export interface ReserveCost {
  seconds: number;
  spend: number;
  /** The model's name, for a refusal that says what the video needed. */
  model?: string;
  /** The model's id, for the server's spend per model. */
  modelId?: string;
}

/** Why a job did not fit an allowance in seconds or money: what it needs and what is left, in that unit. */
export interface Shortfall {
  unit: Unit;
  needed: number;
  left: number;
}

export type ReserveResult =
  | { ok: true; reservation: Reservation; unit: Unit }
  | {
      ok: false;
      reason: string;
      retryAt?: number;
      shortfall?: Shortfall;
      /** A job with a cost, refused by the member's or the server's allowance (credits could pay). */
      allowanceUsedUp?: boolean;
    };

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
  /** The catalogue's currency, for spend allowances and prices. */
  currency?: string;
}

export class QuotaService {
  private readonly admin: QuotaRulesAdmin;
  private readonly reports: QuotaReports;
  private readonly ledger: QuotaLedger;
  private readonly defaults: QuotaDefaults;
  private readonly ownerIds: readonly string[];
  private readonly logger: Logger;
  private readonly processId: string;
  readonly currency: string;

  constructor({ store, defaults, ownerIds, logger, processId, currency }: QuotaServiceOptions) {
    this.currency = currency ?? DEFAULT_CURRENCY;
    this.admin = new QuotaRulesAdmin(store.collection('quota-rules'), logger);
    this.ledger = store.quotaLedger;
    this.reports = new QuotaReports({ ledger: this.ledger, rules: this.admin, defaults, ownerIds, logger });
    this.defaults = defaults;
    this.ownerIds = ownerIds;
    this.logger = logger;
    this.processId = processId ?? 'unknown';
  }

  /**
   * Atomically checks every limit and, if the job fits, reserves it for `jobId`: one video, and
   * with a `cost` its seconds and estimated spend too, so allowances in any unit count it. A
   * refusal's `reason` is in `locale` (a Discord locale; English when absent).
   */
  async reserve(
    member: Requester,
    now = Date.now(),
    jobId: string = randomUUID(),
    locale?: string,
    cost?: ReserveCost,
    paidFromBalance?: Debit,
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
      ...(cost ? { amounts: { seconds: cost.seconds, spend: toLedger('spend', cost.spend) } } : {}),
      ...(paidFromBalance ? { paidFromBalance } : {}),
      ...(cost?.modelId ? { model: cost.modelId } : {}),
    };
    // Paid from credits: counted in the usage as any job, but no allowance limits it.
    const limits = paidFromBalance
      ? { ...this.limitsFor(rules, quota, member), member: null, server: null }
      : this.limitsFor(rules, quota, member);
    // Paid from credits, the job is bounded by what was taken from them.
    const limitedBy = paidFromBalance
      ? [paidFromBalance.unit]
      : [limits.member, limits.server].flatMap((limit) => (limit ? [unitOf(limit)] : []));
    if (cost && limitedBy.length > 0) reservation.limitedBy = limitedBy;
    const { reserved, situation } = await this.ledger.reserve(reservation, limits, now);
    if (reserved) {
      this.logger.info('quota_reserved', { ...logFields(reservation), rule: quota.rule.source });
      return { ok: true, reservation, unit: quota.limit ? unitOf(quota.limit) : 'videos' };
    }
    const block = this.blockOf(situation, limits, quota, amountsOf(reservation), now);
    // The ledger applies exactly the checks findBlock names; a refusal without a block is a bug.
    if (!block) throw new Error('the quota ledger refused a reservation that fits every limit');
    this.logger.info('quota_refused', { guildId: member.guildId, userId: member.userId, block: block.kind });
    const retryAt = 'retryAt' in block ? block.retryAt : undefined;
    return {
      ok: false,
      reason: describeBlock(
        block,
        translatorFor(locale),
        cost && { seconds: cost.seconds, model: cost.model ?? '', currency: this.currency },
      ),
      ...(retryAt === undefined ? {} : { retryAt }),
      ...shortfallOf(block),
      // Said for a job with a cost (the one credits could pay for), as the shortfall is.
      ...(cost && (block.kind === 'member-limit' || block.kind === 'server-limit')
        ? { allowanceUsedUp: true }
        : {}),
    };
  }

  /**
   * The video was delivered: what it reserved becomes used, with its spend corrected to
   * `actualCost` (the provider's own figure, in the catalogue's currency) when there is one.
   * Idempotent.
   */
  async commit(reservation: PendingReservation, actualCost?: number): Promise<void> {
    const actualSpend = actualCost === undefined ? undefined : toLedger('spend', actualCost);
    const changed = await this.ledger.commit(reservation, actualSpend);
    this.logger.info('quota_committed', { ...logFields(reservation), changed, actualCost });
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

  /** The limits the ledger checks atomically, in ledger amounts; owners are free of the server total too. */
  private limitsFor(rules: GuildQuotaRules, quota: MemberQuota, member: Requester): ReserveLimits {
    const server =
      member.guildId && quota.rule.source !== 'owner' ? serverTotalLimit(rules, this.defaults) : null;
    return {
      member: quota.limit && inLedger(quota.limit),
      server: server && inLedger(server),
      maxRunning: quota.maxRunning,
      cooldownMs: quota.cooldownMs,
    };
  }

  /** Why a reservation did not fit, from the counters the ledger decided on. */
  private blockOf(
    situation: LedgerSituation,
    limits: ReserveLimits,
    quota: MemberQuota,
    needed: UnitAmounts,
    now: number,
  ): QuotaBlock | null {
    // Compared in ledger amounts, exactly as the ledger did; shown in the currency.
    const memberUnit = quota.limit ? unitOf(quota.limit) : 'videos';
    const block = findBlock({
      quota: { ...quota, limit: limits.member },
      memberUsed: situation.memberUsed[memberUnit][quota.period],
      serverTotal: limits.server
        ? { limit: limits.server, used: situation.serverUsed[unitOf(limits.server)][limits.server.period] }
        : null,
      needed,
      running: situation.running,
      lastReserveAt: situation.lastReserveAt,
      now,
    });
    if (!block || (block.kind !== 'member-limit' && block.kind !== 'server-limit')) return block;
    const unit = unitOf(block.limit);
    return {
      ...block,
      limit: { ...block.limit, count: fromLedger(unit, block.limit.count) },
      used: fromLedger(unit, block.used),
      ...(block.needed === undefined ? {} : { needed: fromLedger(unit, block.needed) }),
    };
  }
}

function inLedger(limit: Limit): Limit {
  return { ...limit, count: toLedger(unitOf(limit), limit.count) };
}

/** The figures of a refusal by an allowance in seconds or money, so the front door can say what would fit. */
function shortfallOf(block: QuotaBlock): { shortfall?: Shortfall } {
  if (block.kind !== 'member-limit' && block.kind !== 'server-limit') return {};
  const unit = unitOf(block.limit);
  if (unit === 'videos' || block.needed === undefined) return {};
  return { shortfall: { unit, needed: block.needed, left: Math.max(0, block.limit.count - block.used) } };
}

function logFields(reservation: PendingReservation) {
  return {
    reservationId: reservation.id,
    scope: reservation.scope,
    userId: reservation.userId,
    jobId: reservation.jobId,
  };
}
