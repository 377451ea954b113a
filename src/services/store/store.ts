import {
  type Limit,
  type Period,
  periodEnd,
  type Unit,
  type UnitAmounts,
  unitOf,
} from '../quotas/quota-period.ts';

/**
 * The bot's persistent state, on one of two backends that the rest of the bot never tells apart:
 * embedded SQLite (default, one file in DATA_DIR) or Redis (`REDIS_URL`, shared by every process).
 *
 * - Plain key/value data (server settings, quota rules) lives in named collections (keyv).
 * - Quota accounting, job records and process leases need atomic steps, so each backend does them
 *   with its own client: a Lua script on Redis, one `BEGIN IMMEDIATE` transaction on SQLite. No
 *   lock that could expire between a read and its write.
 *
 * Every call is bounded by a timeout; a backend that is down answers with StoreUnavailableError
 * instead of making the caller wait.
 */
export interface Store {
  readonly backend: 'sqlite' | 'redis';
  /** False from a failed call until the backend answers again: for health checks. */
  readonly available: boolean;
  collection<T>(name: string): Collection<T>;
  readonly quotaLedger: QuotaLedger;
  readonly jobRecords: JobRecordStore;
  readonly processes: ProcessRegistry;
  close(): Promise<void>;
}

export interface Collection<T> {
  get(key: string): Promise<T | undefined>;
  /** `ttlMs`: the entry is forgotten that long after (for short-lived data such as open forms). */
  set(key: string, value: T, ttlMs?: number): Promise<void>;
  /** Resolves true when there was something to delete. */
  delete(key: string): Promise<boolean>;
  /** Every entry of the collection; for start-up and admin views, not per-message paths. */
  entries(): Promise<Array<[key: string, value: T]>>;
  /**
   * Read-modify-write of one key with no other `update` of the key in between (in this process,
   * and on Redis in any other). `change` must be synchronous; `next: undefined` leaves the key.
   */
  update<R>(key: string, change: (current: T | undefined) => Update<T, R>): Promise<R>;
}

export interface Update<T, R> {
  next: T | undefined;
  result: R;
}

// --- Quota accounting ----------------------------------------------------------------------------

/** The period keys (`day:2026-12-01`, `week:2026-11-30`, `month:2026-12`) a moment falls in. */
export type PeriodKeys = Record<Period, string>;

export const PERIODS: readonly Period[] = ['day', 'week', 'month'];
export const UNITS: readonly Unit[] = ['videos', 'seconds', 'spend'];

/**
 * The counter of a unit in a period. Videos keep the keys they had before there were units, so
 * counters and reservations made by an older bot carry on.
 */
export function counterKey(unit: Unit, periodKey: string): string {
  return unit === 'videos' ? periodKey : `${unit}/${periodKey}`;
}

export type { UnitAmounts };

/**
 * The server-wide spend per model of a period: a counter like a member's, whose "members" are model
 * ids, so `topMembers` lists the models by spend.
 */
export function modelSpendKey(periodKey: string): string {
  return `models/${counterKey('spend', periodKey)}`;
}

/** What a reservation counts in each unit; one made before units counted one video and nothing else. */
export function amountsOf(reservation: Pick<PendingReservation, 'amounts'>): UnitAmounts {
  return { videos: 1, seconds: reservation.amounts?.seconds ?? 0, spend: reservation.amounts?.spend ?? 0 };
}

/** Used amounts per unit and period. */
export type UnitUsage = Record<Unit, Record<Period, number>>;

/**
 * One reserved video. It counts against every period it was made in until it is released;
 * committing it keeps it counted (with its spend corrected to the real cost) and only ends its
 * "in progress" state.
 */
export interface PendingReservation {
  id: string;
  /** `guild-<id>`, or `dm-<userId>` for direct messages. */
  scope: string;
  userId: string;
  /** The job the unit is for, so a sweep can tell a live job's unit from a stranded one. */
  jobId: string;
  /** The process that reserved it; its lease tells whether it is still alive. */
  ownerId: string;
  createdAt: number;
  periodKeys: PeriodKeys;
  /** Seconds of video and estimated spend (ledger amounts) it holds; one video is always counted. */
  amounts?: { seconds: number; spend: number };
  /** The model its spend is counted against, for the server's spend per model. */
  model?: string;
}

/** What the counters say about one member of a scope. */
export interface LedgerSituation {
  memberUsed: UnitUsage;
  serverUsed: UnitUsage;
  /** Reservations neither committed nor released. */
  running: number;
  lastReserveAt: number | undefined;
}

/** The limits a new reservation must fit in, resolved from the rules, in ledger amounts; null = no such limit. */
export interface ReserveLimits {
  member: Limit | null;
  server: Limit | null;
  /** 0 = no cap. */
  maxRunning: number;
  cooldownMs: number;
}

export interface ReserveOutcome {
  reserved: boolean;
  /** The counters as they were when the decision was taken (before the reservation). */
  situation: LedgerSituation;
}

/**
 * Small per-member and per-server counters, one set per period, so the work of a reservation does
 * not grow with the videos a server made; counters of past periods expire on their own.
 */
export interface QuotaLedger {
  /** Checks every limit and reserves the unit, as one atomic step. */
  reserve(reservation: PendingReservation, limits: ReserveLimits, now: number): Promise<ReserveOutcome>;
  /**
   * Delivered: the amounts stay counted, the reservation ends; `actualSpend` (ledger amount), when
   * given, replaces the estimated spend. False when it had already ended.
   */
  commit(reservation: PendingReservation, actualSpend?: number): Promise<boolean>;
  /** Not delivered: the unit is given back. False when it had already ended. */
  release(reservation: PendingReservation): Promise<boolean>;
  situation(scope: string, userId: string, periodKeys: PeriodKeys): Promise<LedgerSituation>;
  serverUsed(scope: string, periodKey: string): Promise<number>;
  /** Members by a counter (`counterKey`) of a period, most first. */
  topMembers(
    scope: string,
    periodKey: string,
    count: number,
  ): Promise<Array<{ userId: string; used: number }>>;
  /** Forgets a member's delivered videos and cooldown in the current periods; running ones stay. */
  resetMember(scope: string, userId: string, periodKeys: PeriodKeys): Promise<void>;
  /** Every reservation neither committed nor released, for the sweep. */
  pending(): Promise<PendingReservation[]>;
  /** Drops counters of periods that have ended (Redis lets them expire by themselves). */
  prune(now: number): Promise<void>;
}

/**
 * Whether the reservation's amounts fit: the same order and comparisons as `findBlock` in
 * quota-rules.ts (which then says *why* they do not fit). The Redis script mirrors this function
 * line for line.
 */
export function fitsLimits(
  situation: LedgerSituation,
  limits: ReserveLimits,
  amounts: UnitAmounts,
  now: number,
): boolean {
  const over = (used: UnitUsage, limit: Limit) =>
    used[unitOf(limit)][limit.period] + amounts[unitOf(limit)] > limit.count;
  if (limits.member && over(situation.memberUsed, limits.member)) return false;
  if (limits.server && over(situation.serverUsed, limits.server)) return false;
  if (limits.maxRunning > 0 && situation.running >= limits.maxRunning) return false;
  const last = situation.lastReserveAt;
  if (last !== undefined && limits.cooldownMs > 0 && now < last + limits.cooldownMs) return false;
  return true;
}

/** A limit set before there were units counts videos. */
export { unitOf };

/** The amounts a settlement takes back from the counters: all of them on release, the spend overestimate on commit. */
export function givenBack(
  reservation: PendingReservation,
  how: 'commit' | 'release',
  actualSpend?: number,
): UnitAmounts {
  const amounts = amountsOf(reservation);
  if (how === 'release') return amounts;
  return { videos: 0, seconds: 0, spend: actualSpend === undefined ? 0 : amounts.spend - actualSpend };
}

/** How long a period's counters are kept after the period ended (a day of slack for late releases). */
const COUNTER_SLACK_MS = 86_400_000;

/** When a period's counters may go. */
export function counterExpiry(period: Period, now: number): number {
  return periodEnd(period, now) + COUNTER_SLACK_MS;
}
/** Cooldown marks older than the longest cooldown an admin can set (a week) mean nothing. */
export const LAST_RESERVE_KEEP_MS = 8 * 86_400_000;

// --- Job records and process leases ---------------------------------------------------------------

/** Who may write a job record: its owner process, at the epoch it took it over at. */
export interface RecordFence {
  ownerId: string;
  epoch: number;
}

export interface StoredJob<R> extends RecordFence {
  id: string;
  record: R;
  final: boolean;
  updatedAt: number;
}

export interface JobRecordStore {
  /**
   * Writes a record unless another process has taken the job over since (a newer epoch or another
   * owner): a delayed write can never overwrite a newer one. Resolves false when fenced out.
   */
  write<R>(id: string, record: R, fence: RecordFence, final: boolean, now: number): Promise<boolean>;
  get<R>(id: string): Promise<StoredJob<R> | undefined>;
  unfinished<R>(): Promise<Array<StoredJob<R>>>;
  /**
   * Takes over a job from an owner whose lease has run out, as one atomic step with the liveness
   * check. Resolves the new fence, or undefined when the owner is alive or someone was faster.
   */
  claim(id: string, from: RecordFence, toOwnerId: string, now: number): Promise<RecordFence | undefined>;
  /** Deletes finished records last written before `before` (Redis lets them expire by themselves). */
  pruneFinished(before: number): Promise<number>;
}

/** Each running bot process renews a lease; a process whose lease ran out is taken for dead. */
export interface ProcessRegistry {
  renew(processId: string, leaseMs: number, now: number): Promise<void>;
  /** The ids, of those asked about, whose lease is still running. */
  alive(processIds: readonly string[], now: number): Promise<Set<string>>;
  /** A clean stop: the process's jobs may be taken over at once. */
  remove(processId: string): Promise<void>;
}
