import { statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createClient } from '@redis/client';
import { silentLogger } from '../src/services/logging/logger.ts';
import { QuotaService } from '../src/services/quotas/quota-service.ts';
import { createStore } from '../src/services/store/create-store.ts';
import { SQLITE_FILE_NAME } from '../src/services/store/sqlite-backend.ts';
import { startRedisServer } from '../test/harness/redis-server.ts';
import { printTable, round, saveResult } from './support/report.ts';

/**
 * Bench 7: the quota ledger's cost per video as a server's day fills up. 10,000 reserve + commit
 * pairs on one server (500 members, a member limit the run never reaches, a server total), on
 * SQLite and on a real Redis: the time per pair over the first and the last thousand (flat means
 * the work does not grow with the period's volume) and the store's size at the end. Once per unit
 * of the limits: videos (a job without a cost, as before units), and seconds and spend (each job
 * an 8 s video at $0.40 a second, committed at a real cost a little under the estimate).
 */

const PAIRS = 10_000;
const MEMBERS = 500;
const GUILD = '900000000000000001';
type Unit = 'videos' | 'seconds' | 'spend';
const UNITS: Unit[] = ['videos', 'seconds', 'spend'];
/** Limits the run never reaches, in each unit (8 s and $3.20 a video). */
const LIMITS: Record<Unit, { memberLimit: number; serverLimit: number }> = {
  videos: { memberLimit: 1_000, serverLimit: 100_000 },
  seconds: { memberLimit: 8_000, serverLimit: 800_000 },
  spend: { memberLimit: 3_200, serverLimit: 320_000 },
};
const COST = { seconds: 8, spend: 3.2, model: 'Veo 3.1', modelId: 'veo' };
const REAL_COST = 3.05;

function defaultsFor(unit: Unit) {
  return { ...LIMITS[unit], unit, period: 'day' as const, maxRunningPerMember: 0, cooldownSeconds: 0 };
}

type Row = Record<string, string | number> & {
  backend: string;
  unit: Unit;
  'first 1,000 (ms/pair)': number;
  'last 1,000 (ms/pair)': number;
  'last / first': number;
  'store size at end': string;
};

async function measure(quotas: QuotaService, unit: Unit): Promise<number[]> {
  const perThousand: number[] = [];
  let started = performance.now();
  for (let i = 0; i < PAIRS; i++) {
    const member = {
      guildId: GUILD,
      userId: String(100000000000000000n + BigInt(i % MEMBERS)),
      roleIds: [GUILD],
    };
    const withCost = unit !== 'videos';
    const reserved = await quotas.reserve(
      member,
      Date.now(),
      undefined,
      undefined,
      withCost ? COST : undefined,
    );
    if (!reserved.ok) throw new Error(`refused at pair ${i}: ${reserved.reason}`);
    await quotas.commit(reserved.reservation, withCost ? REAL_COST : undefined);
    if ((i + 1) % 1_000 === 0) {
      perThousand.push((performance.now() - started) / 1_000);
      started = performance.now();
    }
  }
  return perThousand;
}

function rowOf(backend: string, unit: Unit, perThousand: number[], size: string): Row {
  const first = perThousand[0] as number;
  const last = perThousand[perThousand.length - 1] as number;
  return {
    backend,
    unit,
    'first 1,000 (ms/pair)': round(first, 3),
    'last 1,000 (ms/pair)': round(last, 3),
    'last / first': round(last / first, 2),
    'store size at end': size,
  };
}

async function sqliteRun(unit: Unit): Promise<Row> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'sora-bench-ledger-'));
  const store = await createStore({ dataDir, logger: silentLogger, timeoutMs: 30_000 });
  try {
    const quotas = new QuotaService({
      store,
      defaults: defaultsFor(unit),
      ownerIds: [],
      logger: silentLogger,
      processId: 'bench',
    });
    const perThousand = await measure(quotas, unit);
    await store.close();
    const bytes = statSync(path.join(dataDir, SQLITE_FILE_NAME)).size;
    return rowOf('sqlite', unit, perThousand, `${round(bytes / 1024, 0)} KiB file`);
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function redisRun(unit: Unit): Promise<Row> {
  const redis = await startRedisServer();
  try {
    const store = await createStore({
      dataDir: tmpdir(),
      redisUrl: redis.url,
      logger: silentLogger,
      timeoutMs: 30_000,
    });
    const quotas = new QuotaService({
      store,
      defaults: defaultsFor(unit),
      ownerIds: [],
      logger: silentLogger,
      processId: 'bench',
    });
    const perThousand = await measure(quotas, unit);
    await store.close();
    const client = createClient({ url: redis.url });
    await client.connect();
    const keys = await client.dbSize();
    const memory = /used_memory_dataset:(\d+)/.exec(await client.info('memory'))?.[1];
    await client.disconnect();
    return rowOf('redis', unit, perThousand, `${keys} keys, ${round(Number(memory) / 1024, 0)} KiB of data`);
  } finally {
    await redis.stop();
  }
}

export async function runQuotaLedgerBench(): Promise<object> {
  const rows: Row[] = [];
  for (const unit of UNITS) rows.push(await sqliteRun(unit));
  for (const unit of UNITS) rows.push(await redisRun(unit));
  printTable(
    `Quota ledger: ${PAIRS.toLocaleString('en')} reserve + commit pairs on one server, ${MEMBERS} members`,
    rows,
  );
  const result = { pairs: PAIRS, members: MEMBERS, rows };
  saveResult('quota-ledger', result);
  return result;
}
