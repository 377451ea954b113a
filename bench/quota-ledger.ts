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
 * the work does not grow with the period's volume) and the store's size at the end.
 */

const PAIRS = 10_000;
const MEMBERS = 500;
const GUILD = '900000000000000001';
const DEFAULTS = {
  memberLimit: 1_000,
  serverLimit: 100_000,
  period: 'day' as const,
  maxRunningPerMember: 0,
  cooldownSeconds: 0,
};

type Row = Record<string, string | number> & {
  backend: string;
  'first 1,000 (ms/pair)': number;
  'last 1,000 (ms/pair)': number;
  'last / first': number;
  'store size at end': string;
};

async function measure(quotas: QuotaService): Promise<number[]> {
  const perThousand: number[] = [];
  let started = performance.now();
  for (let i = 0; i < PAIRS; i++) {
    const member = {
      guildId: GUILD,
      userId: String(100000000000000000n + BigInt(i % MEMBERS)),
      roleIds: [GUILD],
    };
    const reserved = await quotas.reserve(member);
    if (!reserved.ok) throw new Error(`refused at pair ${i}: ${reserved.reason}`);
    await quotas.commit(reserved.reservation);
    if ((i + 1) % 1_000 === 0) {
      perThousand.push((performance.now() - started) / 1_000);
      started = performance.now();
    }
  }
  return perThousand;
}

function rowOf(backend: string, perThousand: number[], size: string): Row {
  const first = perThousand[0] as number;
  const last = perThousand[perThousand.length - 1] as number;
  return {
    backend,
    'first 1,000 (ms/pair)': round(first, 3),
    'last 1,000 (ms/pair)': round(last, 3),
    'last / first': round(last / first, 2),
    'store size at end': size,
  };
}

async function sqliteRun(): Promise<Row> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'sora-bench-ledger-'));
  const store = await createStore({ dataDir, logger: silentLogger, timeoutMs: 30_000 });
  try {
    const quotas = new QuotaService({
      store,
      defaults: DEFAULTS,
      ownerIds: [],
      logger: silentLogger,
      processId: 'bench',
    });
    const perThousand = await measure(quotas);
    await store.close();
    const bytes = statSync(path.join(dataDir, SQLITE_FILE_NAME)).size;
    return rowOf('sqlite', perThousand, `${round(bytes / 1024, 0)} KiB file`);
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function redisRun(): Promise<Row> {
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
      defaults: DEFAULTS,
      ownerIds: [],
      logger: silentLogger,
      processId: 'bench',
    });
    const perThousand = await measure(quotas);
    await store.close();
    const client = createClient({ url: redis.url });
    await client.connect();
    const keys = await client.dbSize();
    const memory = /used_memory_dataset:(\d+)/.exec(await client.info('memory'))?.[1];
    await client.disconnect();
    return rowOf('redis', perThousand, `${keys} keys, ${round(Number(memory) / 1024, 0)} KiB of data`);
  } finally {
    await redis.stop();
  }
}

export async function runQuotaLedgerBench(): Promise<object> {
  const rows = [await sqliteRun(), await redisRun()];
  printTable(
    `Quota ledger: ${PAIRS.toLocaleString('en')} reserve + commit pairs on one server, ${MEMBERS} members`,
    rows,
  );
  const result = { pairs: PAIRS, members: MEMBERS, rows };
  saveResult('quota-ledger', result);
  return result;
}
