import { describe, expect, it } from 'vitest';
import { parseCreditSkus } from '../../../src/services/quotas/credit-skus.ts';

describe('CREDIT_SKUS', () => {
  it('reads seconds (`60s`) and money (`5.00`) grants by SKU id; empty sells nothing', () => {
    expect(parseCreditSkus('123456789012345678=60s, 223456789012345678=5.00')).toEqual(
      new Map([
        ['123456789012345678', { unit: 'seconds', amount: 60 }],
        ['223456789012345678', { unit: 'spend', amount: 5 }],
      ]),
    );
    expect(parseCreditSkus('').size).toBe(0);
  });

  it('refuses what it cannot read, naming the entry', () => {
    expect(() => parseCreditSkus('123456789012345678=60 minutes')).toThrow(/60 minutes/);
    expect(() => parseCreditSkus('abc=5.00')).toThrow(/abc=5.00/);
    expect(() => parseCreditSkus('123456789012345678=5.001')).toThrow();
  });
});
