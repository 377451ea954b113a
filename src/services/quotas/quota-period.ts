/**
 * The quota's words and period arithmetic, with no imports: the store, the rules and the reports
 * all read them. Periods are calendar periods in **UTC**: a day starts at 00:00 UTC, a week on
 * Monday 00:00 UTC, a month on the 1st at 00:00 UTC. Times are epoch milliseconds.
 */

export type Period = 'day' | 'week' | 'month';

/** At most `count` videos per `period`. A count of 0 allows none. */
export interface Limit {
  count: number;
  period: Period;
}

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
