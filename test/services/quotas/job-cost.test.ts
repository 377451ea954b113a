import { describe, expect, it } from 'vitest';
import type { Catalogue } from '../../../src/services/catalogue/catalogue.ts';
import { type CanPay, chooseFallback } from '../../../src/services/catalogue/model-fallback.ts';
import { canPayFromReservation, estimatedCost } from '../../../src/services/quotas/job-cost.ts';
import { catalogueModel } from '../../harness/catalogue-fixtures.ts';

/** Prices, and which fallback a job's reservation can pay for. */

const veo = catalogueModel({ id: 'veo', pricePerSecond: 0.4, durations: [4, 8], fallback: ['sora', 'wan'] });
const sora = catalogueModel({ id: 'sora', pricePerSecond: 0.5, durations: [4, 8] });
const wan = catalogueModel({ id: 'wan', pricePerSecond: 0.05, durations: [5, 10] });
const catalogue = {
  defaultModel: 'veo',
  currency: 'USD',
  providers: new Map(),
  models: [veo, sora, wan],
} as Catalogue;

/** An 8 s Veo video reserved: 8 seconds and $3.20 (in millionths). */
const held = (limitedBy: Array<'videos' | 'seconds' | 'spend'>) => ({
  amounts: { seconds: 8, spend: 3_200_000 },
  limitedBy,
});

describe('what a job costs', () => {
  it('is length × price, without float dust; a model with no price costs nothing', () => {
    expect(estimatedCost(veo, 8)).toEqual({ seconds: 8, spend: 3.2 });
    expect(estimatedCost(catalogueModel({ pricePerSecond: 0.1 }), 3)).toEqual({ seconds: 3, spend: 0.3 });
    expect(estimatedCost(catalogueModel(), 8)).toEqual({ seconds: 8, spend: 0 });
  });

  it('a fallback under a spend allowance goes only to a model the reservation pays for', () => {
    const ask = { model: 'veo', durationSeconds: 8 };
    const pay: CanPay = (asked, model) => canPayFromReservation(asked, model, held(['spend']));
    // Sora at $4.00 for 8 s is more than the $3.20 reserved; Wan (snapped to 10 s, $0.50) is not.
    expect(chooseFallback(catalogue, 'veo', ask, new Set(['veo']), pay)?.model.id).toBe('wan');
  });

  it('under a seconds allowance a longer snapped length does not fit; under videos any model does', () => {
    const ask = { model: 'veo', durationSeconds: 8 };
    expect(canPayFromReservation(ask, wan, held(['seconds']))).toBe(false);
    expect(canPayFromReservation(ask, sora, held(['seconds']))).toBe(true);
    expect(canPayFromReservation(ask, sora, held(['videos']))).toBe(true);
    expect(canPayFromReservation(ask, sora, undefined)).toBe(true);
  });
});
