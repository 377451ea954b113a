import type { CatalogueModel } from '../catalogue/catalogue.ts';
import { nearestDuration } from '../catalogue/fit-request.ts';
import type { FallbackAsk } from '../catalogue/model-fallback.ts';
import { toLedger, type Unit } from './quota-rules.ts';

/** What a job of `seconds` on `model` is expected to cost; a model with no price costs nothing. */
export function estimatedCost(model: Pick<CatalogueModel, 'pricePerSecond'>, seconds: number) {
  return { seconds, spend: roundMoney((model.pricePerSecond ?? 0) * seconds) };
}

/** Prices are shown and counted to a millionth: no float dust such as 3.2000000000000006. */
function roundMoney(amount: number): number {
  return Math.round(amount * 1_000_000) / 1_000_000;
}

/** What a reservation holds, as far as a fallback needs to know. */
export interface HeldAmounts {
  amounts?: { seconds: number; spend: number };
  /** The units of the allowances the reservation had to fit (videos, seconds, spend). */
  limitedBy?: Unit[];
}

/**
 * Whether a fallback model can run on what the job already reserved: under an allowance in
 * seconds or money, the fallback's length and price must not exceed the reservation (a video is
 * a video, so a videos allowance pays for any). Nothing is reserved anew mid-job, so a fallback
 * never overshoots an allowance another job is counting on.
 */
export function canPayFromReservation(ask: FallbackAsk, model: CatalogueModel, held?: HeldAmounts): boolean {
  if (!held?.amounts || !held.limitedBy) return true;
  const asked = ask.durationSeconds ?? model.durations[0] ?? 0;
  const seconds = nearestDuration(asked, model.durations) ?? asked;
  const cost = estimatedCost(model, seconds);
  if (held.limitedBy.includes('seconds') && cost.seconds > held.amounts.seconds) return false;
  if (held.limitedBy.includes('spend') && toLedger('spend', cost.spend) > held.amounts.spend) return false;
  return true;
}
