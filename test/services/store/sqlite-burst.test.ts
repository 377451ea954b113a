import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/services/logging/logger.ts';
import { periodKeysAt } from '../../../src/services/quotas/quota-scopes.ts';
import { openSqliteStore } from '../../../src/services/store/sqlite-backend.ts';
import type { PendingReservation, ReserveLimits, Store } from '../../../src/services/store/store.ts';

/**
 * The embedded store runs its transactions one after another on one connection. A burst of
 * requests (a thousand members at once) must wait its turn, not be told the store is down.
 */

const UNLIMITED: ReserveLimits = { member: null, server: null, maxRunning: 0, cooldownMs: 0 };
const dirs: string[] = [];
const stores: Store[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((store) => store.close()));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function openStore(timeoutMs: number): Promise<Store> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'sora-bot-burst-'));
  dirs.push(dataDir);
  const store = await openSqliteStore({ dataDir, timeoutMs, logger: silentLogger });
  stores.push(store);
  return store;
}

function reservation(index: number, now: number): PendingReservation {
  return {
    id: `r-${index}`,
    scope: 'guild-1',
    userId: `member-${index}`,
    jobId: `job-${index}`,
    ownerId: 'process-1',
    createdAt: now,
    periodKeys: periodKeysAt(now),
  };
}

describe('SQLite store under a burst', () => {
  it('answers every one of a thousand reservations at once, however long the line, with a short timeout', async () => {
    const store = await openStore(100);
    const now = Date.now();
    const outcomes = await Promise.allSettled(
      Array.from({ length: 1_000 }, (_, index) =>
        store.quotaLedger.reserve(reservation(index, now), UNLIMITED, now),
      ),
    );
    expect(outcomes.filter((outcome) => outcome.status === 'rejected').slice(0, 1)).toEqual([]); // the first refusal, if any, with its reason
    expect(store.available).toBe(true);
    expect((await store.quotaLedger.pending()).length).toBe(1_000);
  });
});
