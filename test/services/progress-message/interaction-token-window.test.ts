import { describe, expect, it } from 'vitest';
import { interactionTokenWindow } from '../../../src/services/progress-message/interaction-token-window.ts';

describe('interactionTokenWindow', () => {
  it('hands over a minute before a 15-minute token dies and stops using it half a minute before', () => {
    const window = interactionTokenWindow(1_000, 15 * 60_000);
    expect(window).toEqual({ handOverAt: 1_000 + 14 * 60_000, usableUntil: 1_000 + 14.5 * 60_000 });
  });

  it('scales the margin down with a short lifetime, keeping hand-over before the last use', () => {
    const window = interactionTokenWindow(0, 10_000);
    expect(window).toEqual({ handOverAt: 9_000, usableUntil: 9_500 });
  });
});
