import { describe, expect, it } from 'vitest';
import { ProcessLease } from '../../../src/services/jobs/process-lease.ts';
import { silentLogger } from '../../../src/services/logging/logger.ts';
import type { ProcessRegistry } from '../../../src/services/store/store.ts';

/** A registry the test can make refuse renewals, and a clock the test moves. */
function setup() {
  const clock = { now: 1_000_000 };
  const registry: ProcessRegistry & { down: boolean; renewals: number } = {
    down: false,
    renewals: 0,
    async renew() {
      if (registry.down) throw new Error('store down');
      registry.renewals += 1;
    },
    async alive() {
      return new Set<string>();
    },
    async remove() {},
  };
  const lease = new ProcessLease({
    processId: 'p',
    processes: registry,
    leaseMs: 10_000,
    logger: silentLogger,
    now: () => clock.now,
  });
  return { clock, registry, lease };
}

describe('ProcessLease', () => {
  it('is fresh for half a lease after a renewal; a renewal after that counts as a lapse', async () => {
    const { clock, lease } = setup();
    expect(lease.fresh()).toBe(false);
    await lease.renew();
    expect([lease.fresh(), lease.lapses]).toEqual([true, 0]);
    clock.now += 4_000;
    await lease.renew();
    expect([lease.fresh(), lease.lapses]).toEqual([true, 0]);
    // A pause longer than half a lease: the process may have lost its jobs.
    clock.now += 5_000;
    expect(lease.fresh()).toBe(false);
    await lease.renew();
    expect([lease.fresh(), lease.lapses]).toEqual([true, 1]);
  });

  it('untilFresh waits through failed renewals for the next one the store takes, and gives up when its signal aborts', async () => {
    const { clock, registry, lease } = setup();
    await lease.renew();
    clock.now += 6_000;
    registry.down = true;
    const gaveUp = lease.untilFresh(AbortSignal.abort(new Error('deadline')));
    await expect(gaveUp).rejects.toThrow('deadline');

    let fresh = false;
    const waiting = lease.untilFresh().then(() => {
      fresh = true;
    });
    await lease.renew();
    expect(fresh).toBe(false);
    registry.down = false;
    await lease.renew();
    await waiting;
    expect([fresh, lease.lapses]).toEqual([true, 1]);
  });
});
