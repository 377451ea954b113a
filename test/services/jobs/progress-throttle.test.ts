import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ProgressThrottle } from '../../../src/services/jobs/progress-throttle.ts';

describe('ProgressThrottle', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  function setup(sendDelayMs = 0) {
    const sent: string[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const throttle = new ProgressThrottle<string>({
      intervalMs: 1_000,
      keyOf: (value) => value,
      send: async (value) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((resolve) => setTimeout(resolve, sendDelayMs));
        sent.push(value);
        inFlight--;
      },
      onError: () => {},
    });
    return { throttle, sent, maxInFlight: () => maxInFlight };
  }

  it('sends the first value at once and then only the latest of a burst', async () => {
    const { throttle, sent } = setup();
    throttle.push('10%');
    await vi.advanceTimersByTimeAsync(0);
    for (const value of ['20%', '30%', '40%']) throttle.push(value);
    await vi.advanceTimersByTimeAsync(1_100);
    expect(sent).toEqual(['10%', '40%']);
  });

  it('skips a value whose text did not change', async () => {
    const { throttle, sent } = setup();
    throttle.push('10%');
    await vi.advanceTimersByTimeAsync(1_500);
    throttle.push('10%');
    await vi.advanceTimersByTimeAsync(1_500);
    expect(sent).toEqual(['10%']);
  });

  it('never has two sends in flight for one message, even when Discord is slow', async () => {
    const { throttle, sent, maxInFlight } = setup(5_000);
    for (let step = 0; step < 20; step++) {
      throttle.push(`${step}%`);
      await vi.advanceTimersByTimeAsync(300);
    }
    await vi.advanceTimersByTimeAsync(20_000);
    expect(maxInFlight()).toBe(1);
    expect(sent.at(-1)).toBe('19%');
    expect(sent.length).toBeLessThan(6);
  });

  it('drops what is pending once closed, after the send in flight lands', async () => {
    const { throttle, sent } = setup(500);
    throttle.push('10%');
    await vi.advanceTimersByTimeAsync(0);
    throttle.push('90%');
    const closed = throttle.close();
    await vi.advanceTimersByTimeAsync(2_000);
    await closed;
    expect(sent).toEqual(['10%']);
  });
});
