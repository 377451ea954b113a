import { mkdirSync } from 'node:fs';
import path from 'node:path';
import KeyvSqlite from '@keyv/sqlite';
import Keyv from 'keyv';
import sqlite3 from 'sqlite3';
import type { Logger } from '../logging/logger.ts';
import type { Period } from '../quotas/quota-rules.ts';
import { KeyvCollections, ProcessLock } from './keyv-collections.ts';
import {
  amountsOf,
  counterExpiry,
  counterKey,
  fitsLimits,
  givenBack,
  type JobRecordStore,
  LAST_RESERVE_KEEP_MS,
  type LedgerSituation,
  modelSpendKey,
  type PendingReservation,
  type PeriodKeys,
  type ProcessRegistry,
  type QuotaLedger,
  type RecordFence,
  type ReserveLimits,
  type Store,
  type StoredJob,
  UNITS,
  type UnitUsage,
} from './store.ts';
import { type GuardedAttempt, StoreGuard } from './store-guard.ts';

export const SQLITE_FILE_NAME = 'sora-bot.sqlite';
const PERIODS: readonly Period[] = ['day', 'week', 'month'];
const PLAIN_JSON = { serialize: JSON.stringify, deserialize: JSON.parse } as const;
const BUSY_TIMEOUT_MS = 5_000;

/**
 * Write-ahead logging lets readers (keyv's connection, /usage) go on during a write, and makes a
 * commit one append instead of a journal rewrite; NORMAL sync keeps it durable across a crash of
 * the bot (not of the machine's power), which is what a quota needs.
 */
const PRAGMAS = 'PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS quota_usage (
  scope TEXT NOT NULL, period_key TEXT NOT NULL, user_id TEXT NOT NULL,
  used INTEGER NOT NULL, expires_at INTEGER NOT NULL,
  PRIMARY KEY (scope, period_key, user_id));
CREATE INDEX IF NOT EXISTS quota_usage_expiry ON quota_usage (expires_at);
CREATE TABLE IF NOT EXISTS quota_pending (
  id TEXT PRIMARY KEY, scope TEXT NOT NULL, user_id TEXT NOT NULL, created_at INTEGER NOT NULL,
  reservation TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS quota_pending_member ON quota_pending (scope, user_id);
CREATE TABLE IF NOT EXISTS quota_last (
  scope TEXT NOT NULL, user_id TEXT NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (scope, user_id));
CREATE INDEX IF NOT EXISTS quota_last_at ON quota_last (at);
CREATE TABLE IF NOT EXISTS job_records (
  id TEXT PRIMARY KEY, owner_id TEXT NOT NULL, epoch INTEGER NOT NULL, final INTEGER NOT NULL,
  updated_at INTEGER NOT NULL, record TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS job_records_final ON job_records (final, updated_at);
CREATE TABLE IF NOT EXISTS process_leases (id TEXT PRIMARY KEY, expires_at INTEGER NOT NULL);
`;

/** The server-wide counter of a scope is the row of this (impossible) user id. */
const WHOLE_SCOPE = '';

export interface SqliteBackendOptions {
  dataDir: string;
  timeoutMs: number;
  logger: Logger;
}

/**
 * SQLite: one file in DATA_DIR. Plain key/value data goes through keyv; the atomic steps are
 * transactions on a connection of our own (`BEGIN IMMEDIATE`, so another process on the same file
 * waits instead of interleaving), taken one at a time in this process.
 */
export async function openSqliteStore({ dataDir, timeoutMs, logger }: SqliteBackendOptions): Promise<Store> {
  mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, SQLITE_FILE_NAME);
  const guard = new StoreGuard({ backend: 'sqlite', timeoutMs, logger, isRequestError: isSqlMistake });
  const database = await SqliteDatabase.open(file);
  await database.exec(PRAGMAS);
  await database.exec(SCHEMA);
  // iterationLimit is the page size of entries(); the adapter's default of 10 means a query per 10 rows.
  const adapter = new KeyvSqlite({
    uri: `sqlite://${file}`,
    busyTimeout: BUSY_TIMEOUT_MS,
    iterationLimit: 500,
  });
  const keyv = new Keyv({ store: adapter, namespace: 'sora-bot', throwOnErrors: true, ...PLAIN_JSON });
  keyv.on('error', () => {});
  const collections = new KeyvCollections(keyv, new ProcessLock(), guard);
  // Transactions wait their turn on the one connection; a burst may queue for a while (see QUEUED_WAIT_MS).
  const run: Run = (what, operation) => guard.run(what, operation, { queuedWaitMs: QUEUED_WAIT_MS });
  return {
    backend: 'sqlite',
    get available() {
      return guard.available;
    },
    collection: (name) => collections.collection(name),
    quotaLedger: new SqliteQuotaLedger(database, run),
    jobRecords: new SqliteJobRecords(database, run),
    processes: new SqliteProcesses(database, run),
    async close() {
      await keyv.disconnect();
      await database.close();
    },
  };
}

/**
 * How long a call may wait behind this process's other transactions before it begins: a thousand
 * members at once take a while to serve, which is not an outage; a connection stuck for this long is.
 */
const QUEUED_WAIT_MS = 30_000;

type Run = <T>(what: string, operation: (attempt: GuardedAttempt) => Promise<T>) => Promise<T>;

/** SQLITE_ERROR and friends mean a wrong statement (a bug); busy, locked, I/O and full mean an outage. */
function isSqlMistake(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return code === 'SQLITE_ERROR' || code === 'SQLITE_CONSTRAINT' || code === 'SQLITE_MISMATCH';
}

type Row = Record<string, unknown>;

/** The few sqlite3 calls we need, as promises, with transactions taken one after another. */
class SqliteDatabase {
  private tail: Promise<unknown> = Promise.resolve();

  private constructor(private readonly db: sqlite3.Database) {}

  static open(file: string): Promise<SqliteDatabase> {
    return new Promise((resolve, reject) => {
      const db = new sqlite3.Database(file, (error) => {
        if (error) return reject(error);
        db.configure('busyTimeout', BUSY_TIMEOUT_MS);
        resolve(new SqliteDatabase(db));
      });
    });
  }

  exec(sql: string): Promise<void> {
    return new Promise((resolve, reject) =>
      this.db.exec(sql, (error) => (error ? reject(error) : resolve())),
    );
  }

  run(sql: string, params: unknown[] = []): Promise<number> {
    return new Promise((resolve, reject) =>
      this.db.run(sql, params, function (this: sqlite3.RunResult, error: Error | null) {
        if (error) reject(error);
        else resolve(this.changes);
      }),
    );
  }

  get(sql: string, params: unknown[] = []): Promise<Row | undefined> {
    return new Promise((resolve, reject) =>
      this.db.get(sql, params, (error: Error | null, row: Row | undefined) =>
        error ? reject(error) : resolve(row),
      ),
    );
  }

  all(sql: string, params: unknown[] = []): Promise<Row[]> {
    return new Promise((resolve, reject) =>
      this.db.all(sql, params, (error: Error | null, rows: Row[]) => (error ? reject(error) : resolve(rows))),
    );
  }

  /**
   * Runs `work` inside one immediate transaction. Transactions of this process queue behind each
   * other: statements of two at once on one connection would mix into a single transaction.
   */
  transaction<T>(work: () => Promise<T>, attempt?: GuardedAttempt): Promise<T> {
    const result = this.tail.then(async () => {
      // A caller who gave up while this waited its turn has been told nothing happened: keep it so.
      if (attempt?.signal.aborted) throw attempt.signal.reason;
      attempt?.begin();
      await this.run('BEGIN IMMEDIATE');
      try {
        const value = await work();
        if (attempt?.signal.aborted) throw attempt.signal.reason;
        await this.run('COMMIT');
        return value;
      } catch (error) {
        await this.run('ROLLBACK').catch(() => undefined);
        throw error;
      }
    });
    this.tail = result.catch(() => undefined);
    return result;
  }

  close(): Promise<void> {
    return new Promise((resolve, reject) => this.db.close((error) => (error ? reject(error) : resolve())));
  }
}

class SqliteQuotaLedger implements QuotaLedger {
  constructor(
    private readonly db: SqliteDatabase,
    private readonly run: Run,
  ) {}

  reserve(reservation: PendingReservation, limits: ReserveLimits, now: number) {
    return this.run('reserve', (attempt) =>
      this.db.transaction(async () => {
        const { scope, userId, periodKeys } = reservation;
        const situation = await this.read(scope, userId, periodKeys);
        const reserved = fitsLimits(situation, limits, amountsOf(reservation), now);
        if (reserved) await this.apply(reservation, now);
        return { reserved, situation };
      }, attempt),
    );
  }

  private async apply(reservation: PendingReservation, now: number): Promise<void> {
    const { id, scope, userId, periodKeys, createdAt } = reservation;
    await this.db.run(
      'INSERT INTO quota_pending (id, scope, user_id, created_at, reservation) VALUES (?, ?, ?, ?, ?)',
      [id, scope, userId, createdAt, JSON.stringify(reservation)],
    );
    await this.db.run(
      'INSERT INTO quota_last (scope, user_id, at) VALUES (?, ?, ?) ON CONFLICT (scope, user_id) DO UPDATE SET at = excluded.at',
      [scope, userId, now],
    );
    const amounts = amountsOf(reservation);
    if (reservation.model && amounts.spend !== 0) {
      for (const period of PERIODS) {
        await this.db.run(
          `INSERT INTO quota_usage (scope, period_key, user_id, used, expires_at) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (scope, period_key, user_id) DO UPDATE SET used = used + excluded.used`,
          [
            scope,
            modelSpendKey(periodKeys[period]),
            reservation.model,
            amounts.spend,
            counterExpiry(period, now),
          ],
        );
      }
    }
    for (const unit of UNITS) {
      if (amounts[unit] === 0) continue;
      for (const period of PERIODS) {
        for (const who of [userId, WHOLE_SCOPE]) {
          await this.db.run(
            `INSERT INTO quota_usage (scope, period_key, user_id, used, expires_at) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (scope, period_key, user_id) DO UPDATE SET used = used + excluded.used`,
            [scope, counterKey(unit, periodKeys[period]), who, amounts[unit], counterExpiry(period, now)],
          );
        }
      }
    }
  }

  commit(reservation: PendingReservation, actualSpend?: number): Promise<boolean> {
    return this.settle(reservation, 'commit', actualSpend);
  }

  release(reservation: PendingReservation): Promise<boolean> {
    return this.settle(reservation, 'release');
  }

  private settle(
    reservation: PendingReservation,
    how: 'commit' | 'release',
    actualSpend?: number,
  ): Promise<boolean> {
    return this.run(how, (attempt) =>
      this.db.transaction(async () => {
        const removed = await this.db.run('DELETE FROM quota_pending WHERE id = ?', [reservation.id]);
        if (removed === 0) return false;
        const back = givenBack(reservation, how, actualSpend);
        if (reservation.model && back.spend !== 0) {
          for (const period of PERIODS) {
            await this.db.run(
              'UPDATE quota_usage SET used = MAX(0, used - ?) WHERE scope = ? AND period_key = ? AND user_id = ?',
              [
                back.spend,
                reservation.scope,
                modelSpendKey(reservation.periodKeys[period]),
                reservation.model,
              ],
            );
          }
        }
        for (const unit of UNITS) {
          if (back[unit] === 0) continue;
          for (const period of PERIODS) {
            await this.db.run(
              'UPDATE quota_usage SET used = MAX(0, used - ?) WHERE scope = ? AND period_key = ? AND user_id IN (?, ?)',
              [
                back[unit],
                reservation.scope,
                counterKey(unit, reservation.periodKeys[period]),
                reservation.userId,
                WHOLE_SCOPE,
              ],
            );
          }
        }
        return true;
      }, attempt),
    );
  }

  situation(scope: string, userId: string, periodKeys: PeriodKeys): Promise<LedgerSituation> {
    return this.run('read usage', () => this.read(scope, userId, periodKeys));
  }

  private async read(scope: string, userId: string, periodKeys: PeriodKeys): Promise<LedgerSituation> {
    const keys = UNITS.flatMap((unit) => PERIODS.map((period) => counterKey(unit, periodKeys[period])));
    const rows = await this.db.all(
      `SELECT period_key, user_id, used FROM quota_usage WHERE scope = ? AND period_key IN (${keys.map(() => '?').join(', ')}) AND user_id IN (?, ?)`,
      [scope, ...keys, userId, WHOLE_SCOPE],
    );
    const usageOf = (who: string) => {
      const usage = {} as UnitUsage;
      for (const unit of UNITS) {
        const byPeriod = {} as Record<Period, number>;
        for (const period of PERIODS) {
          const key = counterKey(unit, periodKeys[period]);
          byPeriod[period] = Number(
            rows.find((row) => row.period_key === key && row.user_id === who)?.used ?? 0,
          );
        }
        usage[unit] = byPeriod;
      }
      return usage;
    };
    const running = await this.db.get(
      'SELECT COUNT(*) AS running FROM quota_pending WHERE scope = ? AND user_id = ?',
      [scope, userId],
    );
    const last = await this.db.get('SELECT at FROM quota_last WHERE scope = ? AND user_id = ?', [
      scope,
      userId,
    ]);
    return {
      memberUsed: usageOf(userId),
      serverUsed: usageOf(WHOLE_SCOPE),
      running: Number(running?.running ?? 0),
      lastReserveAt: last === undefined ? undefined : Number(last.at),
    };
  }

  async serverUsed(scope: string, periodKey: string): Promise<number> {
    const row = await this.run('read total', () =>
      this.db.get('SELECT used FROM quota_usage WHERE scope = ? AND period_key = ? AND user_id = ?', [
        scope,
        periodKey,
        WHOLE_SCOPE,
      ]),
    );
    return Number(row?.used ?? 0);
  }

  async topMembers(scope: string, periodKey: string, count: number) {
    const rows = await this.run('read top members', () =>
      this.db.all(
        `SELECT user_id, used FROM quota_usage WHERE scope = ? AND period_key = ? AND user_id <> ? AND used > 0
         ORDER BY used DESC, user_id ASC LIMIT ?`,
        [scope, periodKey, WHOLE_SCOPE, count],
      ),
    );
    return rows.map((row) => ({ userId: String(row.user_id), used: Number(row.used) }));
  }

  resetMember(scope: string, userId: string, periodKeys: PeriodKeys): Promise<void> {
    return this.run('reset member', (attempt) =>
      this.db.transaction(async () => {
        const pending = (
          await this.db.all('SELECT reservation FROM quota_pending WHERE scope = ? AND user_id = ?', [
            scope,
            userId,
          ])
        ).map((row) => JSON.parse(String(row.reservation)) as PendingReservation);
        for (const unit of UNITS) {
          for (const period of PERIODS) {
            const key = counterKey(unit, periodKeys[period]);
            const keep = pending
              .filter((entry) => entry.periodKeys[period] === periodKeys[period])
              .reduce((sum, entry) => sum + amountsOf(entry)[unit], 0);
            const row = await this.db.get(
              'SELECT used FROM quota_usage WHERE scope = ? AND period_key = ? AND user_id = ?',
              [scope, key, userId],
            );
            const forgotten = Number(row?.used ?? 0) - keep;
            if (forgotten <= 0) continue;
            await this.db.run(
              'UPDATE quota_usage SET used = used - ? WHERE scope = ? AND period_key = ? AND user_id IN (?, ?)',
              [forgotten, scope, key, userId, WHOLE_SCOPE],
            );
          }
        }
        await this.db.run('DELETE FROM quota_last WHERE scope = ? AND user_id = ?', [scope, userId]);
      }, attempt),
    );
  }

  async pending(): Promise<PendingReservation[]> {
    const rows = await this.run('list pending', () => this.db.all('SELECT reservation FROM quota_pending'));
    return rows.map((row) => JSON.parse(String(row.reservation)) as PendingReservation);
  }

  async prune(now: number): Promise<void> {
    await this.run('prune counters', async () => {
      await this.db.run('DELETE FROM quota_usage WHERE expires_at < ? OR used <= 0', [now]);
      await this.db.run('DELETE FROM quota_last WHERE at < ?', [now - LAST_RESERVE_KEEP_MS]);
    });
  }
}

class SqliteJobRecords implements JobRecordStore {
  constructor(
    private readonly db: SqliteDatabase,
    private readonly run: Run,
  ) {}

  write<R>(id: string, record: R, fence: RecordFence, final: boolean, now: number): Promise<boolean> {
    return this.run('write job record', (attempt) =>
      this.db.transaction(async () => {
        const current = await this.db.get('SELECT owner_id, epoch FROM job_records WHERE id = ?', [id]);
        if (current && (current.owner_id !== fence.ownerId || Number(current.epoch) !== fence.epoch))
          return false;
        await this.db.run(
          `INSERT INTO job_records (id, owner_id, epoch, final, updated_at, record) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (id) DO UPDATE SET final = excluded.final, updated_at = excluded.updated_at, record = excluded.record`,
          [id, fence.ownerId, fence.epoch, final ? 1 : 0, now, JSON.stringify(record)],
        );
        return true;
      }, attempt),
    );
  }

  async get<R>(id: string): Promise<StoredJob<R> | undefined> {
    const row = await this.run('read job record', () =>
      this.db.get('SELECT * FROM job_records WHERE id = ?', [id]),
    );
    return row && storedJob<R>(row);
  }

  async unfinished<R>(): Promise<Array<StoredJob<R>>> {
    const rows = await this.run('list unfinished jobs', () =>
      this.db.all('SELECT * FROM job_records WHERE final = 0'),
    );
    return rows.map((row) => storedJob<R>(row));
  }

  claim(id: string, from: RecordFence, toOwnerId: string, now: number): Promise<RecordFence | undefined> {
    return this.run('claim job', (attempt) =>
      this.db.transaction(async () => {
        const current = await this.db.get('SELECT owner_id, epoch, final FROM job_records WHERE id = ?', [
          id,
        ]);
        if (!current || current.owner_id !== from.ownerId || Number(current.epoch) !== from.epoch)
          return undefined;
        if (Number(current.final) === 1) return undefined;
        const lease = await this.db.get('SELECT expires_at FROM process_leases WHERE id = ?', [from.ownerId]);
        if (lease && Number(lease.expires_at) > now) return undefined;
        const epoch = from.epoch + 1;
        await this.db.run('UPDATE job_records SET owner_id = ?, epoch = ? WHERE id = ?', [
          toOwnerId,
          epoch,
          id,
        ]);
        return { ownerId: toOwnerId, epoch };
      }, attempt),
    );
  }

  pruneFinished(before: number): Promise<number> {
    return this.run('prune job records', () =>
      this.db.run('DELETE FROM job_records WHERE final = 1 AND updated_at < ?', [before]),
    );
  }
}

function storedJob<R>(row: Row): StoredJob<R> {
  return {
    id: String(row.id),
    record: JSON.parse(String(row.record)) as R,
    ownerId: String(row.owner_id),
    epoch: Number(row.epoch),
    final: Number(row.final) === 1,
    updatedAt: Number(row.updated_at),
  };
}

class SqliteProcesses implements ProcessRegistry {
  constructor(
    private readonly db: SqliteDatabase,
    private readonly run: Run,
  ) {}

  async renew(processId: string, leaseMs: number, now: number): Promise<void> {
    await this.run('renew lease', () =>
      this.db.run(
        'INSERT INTO process_leases (id, expires_at) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET expires_at = excluded.expires_at',
        [processId, now + leaseMs],
      ),
    );
    // Leases of processes long gone are of no use to anyone.
    await this.run('prune leases', () =>
      this.db.run('DELETE FROM process_leases WHERE expires_at < ?', [now - 86_400_000]),
    );
  }

  async alive(processIds: readonly string[], now: number): Promise<Set<string>> {
    if (processIds.length === 0) return new Set();
    const rows = await this.run('read leases', () =>
      this.db.all(
        `SELECT id FROM process_leases WHERE expires_at > ? AND id IN (${processIds.map(() => '?').join(', ')})`,
        [now, ...processIds],
      ),
    );
    return new Set(rows.map((row) => String(row.id)));
  }

  async remove(processId: string): Promise<void> {
    await this.run('end lease', () => this.db.run('DELETE FROM process_leases WHERE id = ?', [processId]));
  }
}
