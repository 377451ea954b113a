/**
 * The quota's words and period arithmetic, with no imports: the store, the rules and the reports
 * all read them. Periods are calendar periods in **UTC**: a day starts at 00:00 UTC, a week on
 * Monday 00:00 UTC, a month on the 1st at 00:00 UTC. Times are epoch milliseconds.
 */

export type Period = 'day' | 'week' | 'month';

/** What an allowance counts: videos, seconds of video, or money in the catalogue's currency. */
export type Unit = 'videos' | 'seconds' | 'spend';

/**
 * At most `count` of `unit` per `period` (spend may have decimals). A count of 0 allows none. A
 * limit stored before there were units has no `unit`: it counts videos.
 */
export interface Limit {
  count: number;
  period: Period;
  unit?: Unit;
}

/** A limit set before there were units counts videos. */
export function unitOf(limit: Limit): Unit {
  return limit.unit ?? 'videos';
}

/**
 * Amounts as the ledger counts them: whole numbers, so sums stay exact on both stores. Spend is in
 * millionths of the catalogue's currency (SPEND_SCALE).
 */
export type UnitAmounts = Record<Unit, number>;

export const SPEND_SCALE = 1_000_000;

/** A figure as members and admins write it (spend in the currency) to a ledger amount, and back. */
export function toLedger(unit: Unit, amount: number): number {
  return unit === 'spend' ? Math.round(amount * SPEND_SCALE) : amount;
}

export function fromLedger(unit: Unit, amount: number): number {
  return unit === 'spend' ? amount / SPEND_SCALE : amount;
}

/** One video, of no known length or price: what a job costs under a `videos` allowance, and all a job without a cost counts. */
export const ONE_VIDEO: UnitAmounts = { videos: 1, seconds: 0, spend: 0 };

const DAY_MS = 86_400_000;

export function periodStart(period: Period, now: number): number {
  const date = new Date(now);
  const midnight = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate());
  if (period === 'day') return midnight;
  if (period === 'month') return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1);
  const daysSinceMonday = (date.getUTCDay() + 6) % 7;
  return midnight - daysSinceMonday * DAY_MS;
}

/** The first instant of the next period, when usage resets. */
export function periodEnd(period: Period, now: number): number {
  const start = new Date(periodStart(period, now));
  if (period === 'day') return start.getTime() + DAY_MS;
  if (period === 'week') return start.getTime() + 7 * DAY_MS;
  return Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1);
}

/** A stable name for the period containing `now`, e.g. `day:2025-01-31`, `week:2025-01-27`, `month:2025-01`. */
export function periodKey(period: Period, now: number): string {
  const startDate = new Date(periodStart(period, now)).toISOString().slice(0, 10);
  return `${period}:${period === 'month' ? startDate.slice(0, 7) : startDate}`;
}

/**
 * The earliest instant any rule can still count: the start of the current week or month, whichever
 * is earlier. Delivered videos before it can be forgotten.
 */
export function retentionStart(now: number): number {
  return Math.min(periodStart('week', now), periodStart('month', now));
}
