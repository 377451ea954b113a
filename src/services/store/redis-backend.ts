import KeyvRedis from '@keyv/redis';
import { ErrorReply } from '@redis/client';
import Keyv from 'keyv';
import type { Logger } from '../logging/logger.ts';
import type { Period } from '../quotas/quota-rules.ts';
import { createRedisClient, type RedisClient } from '../redis/redis-clients.ts';
import { withDeadline } from '../timing/deadline.ts';
import { KeyvCollections, LayeredLock, type LockClient, ProcessLock, RedisLock } from './keyv-collections.ts';
import {
  amountsOf,
  counterExpiry,
  counterKey,
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
  unitOf,
} from './store.ts';
import { StoreGuard } from './store-guard.ts';

const PREFIX = 'sora-bot:';
const PERIODS: readonly Period[] = ['day', 'week', 'month'];
/** Finished job records expire by themselves after this long (Retry and Regenerate work until then). */
export const FINISHED_RECORD_TTL_MS = 7 * 86_400_000;
const PLAIN_JSON = { serialize: JSON.stringify, deserialize: JSON.parse } as const;

export interface RedisBackendOptions {
  url: string;
  timeoutMs: number;
  logger: Logger;
}

/**
 * Redis: one node-redis client that reconnects by itself and refuses commands while it is offline
 * (no offline queue: a command replayed minutes later could overwrite newer state), every call
 * bounded by the guard, and the atomic steps as Lua scripts over small keys.
 */
export async function openRedisStore({ url, timeoutMs, logger }: RedisBackendOptions): Promise<Store> {
  const guard = new StoreGuard({ backend: 'redis', timeoutMs, logger, isRequestError: isErrorReply });
  const client = createRedisClient(url, {
    disableOfflineQueue: true,
    connectTimeoutMs: timeoutMs,
    onError: (error) => guard.markUnavailable(error),
  });
  client.on('ready', () => guard.markAvailable());
  const connected = client.connect().catch((error: unknown) => guard.markUnavailable(error));
  // A Redis that is down at start-up must not stop the bot from starting: it keeps reconnecting.
  await withDeadline(connected, timeoutMs);
  if (!client.isReady) guard.markUnavailable(new Error(`could not reach Redis within ${timeoutMs} ms`));

  const adapter = new KeyvRedis<unknown>(client as never, { throwErrors: true });
  // The adapter prefixes keys with the namespace itself; keyv must not prefix them a second time.
  const keyv = new Keyv({
    store: adapter,
    namespace: 'sora-bot',
    useKeyPrefix: false,
    throwOnErrors: true,
    ...PLAIN_JSON,
  });
  keyv.on('error', () => {});
  const lock = new LayeredLock(
    new ProcessLock(),
    new RedisLock(client as unknown as LockClient, PREFIX, guard),
  );
  const collections = new KeyvCollections(keyv, lock, guard);
  const run = <T>(what: string, operation: () => Promise<T>) => guard.run(what, operation);

  return {
    backend: 'redis',
    get available() {
      return guard.available;
    },
    collection: (name) => collections.collection(name),
    quotaLedger: new RedisQuotaLedger(client, run),
    jobRecords: new RedisJobRecords(client, run),
    processes: new RedisProcesses(client, run),
    async close() {
      if (client.isOpen) await client.disconnect().catch(() => undefined);
    },
  };
}

type Run = <T>(what: string, operation: () => Promise<T>) => Promise<T>;

/** Redis's own answer to a bad command (a bug in a script), not an outage. */
function isErrorReply(error: unknown): boolean {
  return error instanceof ErrorReply;
}

// --- Quota counters ------------------------------------------------------------------------------

/** Keys of one scope share a hash tag, so they would live on one node of a Redis Cluster too. */
function quotaKey(scope: string, part: string): string {
  return `${PREFIX}q:{${scope}}:${part}`;
}
const PENDING_SCOPES = `${PREFIX}q:pending-scopes`;

/** The nine counters of a member and of a scope: each unit in each period, unit by unit. */
function scopeKeys(scope: string, periodKeys: PeriodKeys) {
  const counters = UNITS.flatMap((unit) => PERIODS.map((period) => counterKey(unit, periodKeys[period])));
  return {
    pending: quotaKey(scope, 'pending'),
    running: quotaKey(scope, 'running'),
    last: quotaKey(scope, 'last'),
    used: counters.map((counter) => quotaKey(scope, `used:${counter}`)),
    total: counters.map((counter) => quotaKey(scope, `total:${counter}`)),
    /** Spend per model, one sorted set per period (members are model ids). */
    models: PERIODS.map((period) => quotaKey(scope, `used:${modelSpendKey(periodKeys[period])}`)),
  };
}

/** Where a limit's counter is among the nine (1-based, as Lua counts), 0 for no limit. */
function counterIndex(limit: ReserveLimits['member']): number {
  if (!limit) return 0;
  return UNITS.indexOf(unitOf(limit)) * PERIODS.length + PERIODS.indexOf(limit.period) + 1;
}

/**
 * Mirrors `fitsLimits` in store.ts: the same checks in the same order. Counter i (1..9) is unit
 * ceil(i / 3) in period ((i - 1) % 3) + 1; ARGV[16..18] are the amounts of the three units.
 */
const RESERVE = `
local user = ARGV[3]
local now = tonumber(ARGV[5])
local memberUsed, serverUsed = {}, {}
for i = 1, 9 do
  memberUsed[i] = tonumber(redis.call('ZSCORE', KEYS[4 + i], user) or '0')
  serverUsed[i] = tonumber(redis.call('GET', KEYS[13 + i]) or '0')
end
local amount = function(i) return tonumber(ARGV[15 + math.ceil(i / 3)]) end
local running = tonumber(redis.call('HGET', KEYS[2], user) or '0')
local last = redis.call('ZSCORE', KEYS[3], user)
local fits = true
local memberCounter, serverCounter = tonumber(ARGV[6]), tonumber(ARGV[8])
if memberCounter > 0 and memberUsed[memberCounter] + amount(memberCounter) > tonumber(ARGV[7]) then fits = false end
if fits and serverCounter > 0 and serverUsed[serverCounter] + amount(serverCounter) > tonumber(ARGV[9]) then fits = false end
local maxRunning = tonumber(ARGV[10])
if fits and maxRunning > 0 and running >= maxRunning then fits = false end
local cooldown = tonumber(ARGV[11])
if fits and last and cooldown > 0 and now < tonumber(last) + cooldown then fits = false end
if fits then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  redis.call('HINCRBY', KEYS[2], user, 1)
  redis.call('ZADD', KEYS[3], now, user)
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - tonumber(ARGV[15]))
  redis.call('SADD', KEYS[4], ARGV[4])
  for i = 1, 9 do
    local add = amount(i)
    if add ~= 0 then
      local lifetime = ARGV[11 + ((i - 1) % 3) + 1]
      redis.call('ZINCRBY', KEYS[4 + i], add, user)
      redis.call('PEXPIRE', KEYS[4 + i], lifetime)
      redis.call('INCRBY', KEYS[13 + i], add)
      redis.call('PEXPIRE', KEYS[13 + i], lifetime)
    end
  end
  local spend = tonumber(ARGV[18])
  if ARGV[19] ~= '' and spend ~= 0 then
    for p = 1, 3 do
      redis.call('ZINCRBY', KEYS[22 + p], spend, ARGV[19])
      redis.call('PEXPIRE', KEYS[22 + p], ARGV[11 + p])
    end
  end
end
local out = { fits and 1 or 0 }
for i = 1, 9 do out[1 + i] = memberUsed[i] end
for i = 1, 9 do out[10 + i] = serverUsed[i] end
out[20] = running
out[21] = last or ''
return out
`;

const READ_SITUATION = `
local user = ARGV[1]
local out = {}
for i = 1, 9 do
  out[i] = tonumber(redis.call('ZSCORE', KEYS[2 + i], user) or '0')
  out[9 + i] = tonumber(redis.call('GET', KEYS[11 + i]) or '0')
end
out[19] = tonumber(redis.call('HGET', KEYS[1], user) or '0')
out[20] = redis.call('ZSCORE', KEYS[2], user) or ''
return out
`;

/**
 * Ends a reservation once: only the call that removes its pending entry changes anything. ARGV[4..6]
 * are what each unit's counters give back (a negative amount adds: a real cost above the estimate).
 */
const SETTLE = `
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
if redis.call('HINCRBY', KEYS[2], ARGV[2], -1) <= 0 then redis.call('HDEL', KEYS[2], ARGV[2]) end
if redis.call('HLEN', KEYS[1]) == 0 then redis.call('SREM', KEYS[3], ARGV[3]) end
for i = 1, 9 do
  local back = tonumber(ARGV[3 + math.ceil(i / 3)])
  if back ~= 0 then
    if redis.call('EXISTS', KEYS[3 + i]) == 1 and tonumber(redis.call('ZINCRBY', KEYS[3 + i], -back, ARGV[2])) <= 0 then
      redis.call('ZREM', KEYS[3 + i], ARGV[2])
    end
    if redis.call('EXISTS', KEYS[12 + i]) == 1 and redis.call('DECRBY', KEYS[12 + i], back) <= 0 then
      redis.call('DEL', KEYS[12 + i])
    end
  end
end
local spendBack = tonumber(ARGV[6])
if ARGV[7] ~= '' and spendBack ~= 0 then
  for p = 1, 3 do
    if redis.call('EXISTS', KEYS[21 + p]) == 1 and tonumber(redis.call('ZINCRBY', KEYS[21 + p], -spendBack, ARGV[7])) <= 0 then
      redis.call('ZREM', KEYS[21 + p], ARGV[7])
    end
  end
end
return 1
`;

/** Keeps, per unit and period, only the amounts of the member's videos still running in it; their cooldown ends. */
const RESET_MEMBER = `
local user = ARGV[1]
local names = { 'day', 'week', 'month' }
local units = { 'videos', 'seconds', 'spend' }
local pending = redis.call('HVALS', KEYS[1])
for i = 1, 9 do
  local unit = units[math.ceil(i / 3)]
  local p = ((i - 1) % 3) + 1
  local keep = 0
  for _, raw in ipairs(pending) do
    local entry = cjson.decode(raw)
    if entry.userId == user and entry.periodKeys[names[p]] == ARGV[1 + p] then
      if unit == 'videos' then keep = keep + 1
      elseif type(entry.amounts) == 'table' then keep = keep + (tonumber(entry.amounts[unit]) or 0) end
    end
  end
  local old = tonumber(redis.call('ZSCORE', KEYS[2 + i], user) or '0')
  if old > keep then
    if keep == 0 then redis.call('ZREM', KEYS[2 + i], user) else redis.call('ZADD', KEYS[2 + i], keep, user) end
    if redis.call('DECRBY', KEYS[11 + i], old - keep) <= 0 then redis.call('DEL', KEYS[11 + i]) end
  end
end
redis.call('ZREM', KEYS[2], user)
return 1
`;

class RedisQuotaLedger implements QuotaLedger {
  constructor(
    private readonly client: RedisClient,
    private readonly run: Run,
  ) {}

  async reserve(reservation: PendingReservation, limits: ReserveLimits, now: number) {
    const keys = scopeKeys(reservation.scope, reservation.periodKeys);
    const amounts = amountsOf(reservation);
    // Relative lifetimes: Redis counts them from its own clock.
    const lifetimes = PERIODS.map((period) => String(Math.max(1, counterExpiry(period, now) - now)));
    const reply = (await this.run('reserve', () =>
      this.client.eval(RESERVE, {
        keys: [
          keys.pending,
          keys.running,
          keys.last,
          PENDING_SCOPES,
          ...keys.used,
          ...keys.total,
          ...keys.models,
        ],
        arguments: [
          reservation.id,
          JSON.stringify(reservation),
          reservation.userId,
          reservation.scope,
          String(now),
          String(counterIndex(limits.member)),
          String(limits.member?.count ?? 0),
          String(counterIndex(limits.server)),
          String(limits.server?.count ?? 0),
          String(limits.maxRunning),
          String(limits.cooldownMs),
          ...lifetimes,
          String(LAST_RESERVE_KEEP_MS),
          ...UNITS.map((unit) => String(amounts[unit])),
          reservation.model ?? '',
        ],
      }),
    )) as Array<number | string>;
    return { reserved: reply[0] === 1, situation: situationOf(reply.slice(1)) };
  }

  commit(reservation: PendingReservation, actualSpend?: number): Promise<boolean> {
    return this.settle(reservation, 'commit', actualSpend);
  }

  release(reservation: PendingReservation): Promise<boolean> {
    return this.settle(reservation, 'release');
  }

  private async settle(
    reservation: PendingReservation,
    how: 'commit' | 'release',
    actualSpend?: number,
  ): Promise<boolean> {
    const keys = scopeKeys(reservation.scope, reservation.periodKeys);
    const back = givenBack(reservation, how, actualSpend);
    const changed = await this.run(how, () =>
      this.client.eval(SETTLE, {
        keys: [keys.pending, keys.running, PENDING_SCOPES, ...keys.used, ...keys.total, ...keys.models],
        arguments: [
          reservation.id,
          reservation.userId,
          reservation.scope,
          ...UNITS.map((unit) => String(back[unit])),
          reservation.model ?? '',
        ],
      }),
    );
    return changed === 1;
  }

  async situation(scope: string, userId: string, periodKeys: PeriodKeys): Promise<LedgerSituation> {
    const keys = scopeKeys(scope, periodKeys);
    const reply = (await this.run('read usage', () =>
      this.client.eval(READ_SITUATION, {
        keys: [keys.running, keys.last, ...keys.used, ...keys.total],
        arguments: [userId],
      }),
    )) as Array<number | string>;
    return situationOf(reply);
  }

  async serverUsed(scope: string, periodKey: string): Promise<number> {
    const total = await this.run('read total', () => this.client.get(quotaKey(scope, `total:${periodKey}`)));
    return Number(total ?? 0);
  }

  async topMembers(scope: string, periodKey: string, count: number) {
    const top = await this.run('read top members', () =>
      this.client.zRangeWithScores(quotaKey(scope, `used:${periodKey}`), 0, count - 1, { REV: true }),
    );
    return top
      .map(({ value, score }) => ({ userId: value, used: score }))
      .sort((a, b) => b.used - a.used || a.userId.localeCompare(b.userId));
  }

  async resetMember(scope: string, userId: string, periodKeys: PeriodKeys): Promise<void> {
    const keys = scopeKeys(scope, periodKeys);
    await this.run('reset member', () =>
      this.client.eval(RESET_MEMBER, {
        keys: [keys.pending, keys.last, ...keys.used, ...keys.total],
        arguments: [userId, ...PERIODS.map((period) => periodKeys[period])],
      }),
    );
  }

  async pending(): Promise<PendingReservation[]> {
    const scopes = await this.run('list pending scopes', () => this.client.sMembers(PENDING_SCOPES));
    const lists = await Promise.all(
      scopes.map((scope) => this.run('list pending', () => this.client.hVals(quotaKey(scope, 'pending')))),
    );
    return lists.flat().map((raw) => JSON.parse(raw) as PendingReservation);
  }

  async prune(): Promise<void> {
    // Counters carry their own expiry.
  }
}

function situationOf(values: Array<number | string>): LedgerSituation {
  const number = (index: number) => Number(values[index] ?? 0);
  const usageFrom = (offset: number) => {
    const usage = {} as UnitUsage;
    UNITS.forEach((unit, u) => {
      usage[unit] = {
        day: number(offset + u * 3),
        week: number(offset + u * 3 + 1),
        month: number(offset + u * 3 + 2),
      };
    });
    return usage;
  };
  const last = values[19];
  return {
    memberUsed: usageFrom(0),
    serverUsed: usageFrom(9),
    running: number(18),
    lastReserveAt: last === '' || last === undefined ? undefined : Number(last),
  };
}

// --- Job records ---------------------------------------------------------------------------------

const UNFINISHED = `${PREFIX}jobs:unfinished`;
const jobKey = (id: string) => `${PREFIX}job:${id}`;
const processKey = (id: string) => `${PREFIX}process:${id}`;

/** Writes only while the writer's fence is the record's: a takeover bumps the epoch. */
const WRITE_RECORD = `
local current = redis.call('HMGET', KEYS[1], 'owner', 'epoch')
if current[1] and (current[1] ~= ARGV[2] or tonumber(current[2]) ~= tonumber(ARGV[3])) then return 0 end
redis.call('HSET', KEYS[1], 'record', ARGV[1], 'owner', ARGV[2], 'epoch', ARGV[3], 'final', ARGV[4], 'updated', ARGV[5])
if ARGV[4] == '1' then
  redis.call('HDEL', KEYS[2], ARGV[7])
  redis.call('PEXPIRE', KEYS[1], ARGV[6])
else
  redis.call('HSET', KEYS[2], ARGV[7], ARGV[2])
  redis.call('PERSIST', KEYS[1])
end
return 1
`;

/** The liveness check and the takeover in one step, so two survivors cannot both take a job. */
const CLAIM = `
local current = redis.call('HMGET', KEYS[1], 'owner', 'epoch', 'final')
if not current[1] or current[1] ~= ARGV[1] or tonumber(current[2]) ~= tonumber(ARGV[2]) or current[3] == '1' then
  return false
end
if redis.call('EXISTS', KEYS[3]) == 1 then return false end
local epoch = redis.call('HINCRBY', KEYS[1], 'epoch', 1)
redis.call('HSET', KEYS[1], 'owner', ARGV[3])
redis.call('HSET', KEYS[2], ARGV[4], ARGV[3])
return epoch
`;

class RedisJobRecords implements JobRecordStore {
  constructor(
    private readonly client: RedisClient,
    private readonly run: Run,
  ) {}

  async write<R>(id: string, record: R, fence: RecordFence, final: boolean, now: number): Promise<boolean> {
    const written = await this.run('write job record', () =>
      this.client.eval(WRITE_RECORD, {
        keys: [jobKey(id), UNFINISHED],
        arguments: [
          JSON.stringify(record),
          fence.ownerId,
          String(fence.epoch),
          final ? '1' : '0',
          String(now),
          String(FINISHED_RECORD_TTL_MS),
          id,
        ],
      }),
    );
    return written === 1;
  }

  async get<R>(id: string): Promise<StoredJob<R> | undefined> {
    const fields = await this.run('read job record', () => this.client.hGetAll(jobKey(id)));
    return storedJob<R>(id, fields);
  }

  async unfinished<R>(): Promise<Array<StoredJob<R>>> {
    const ids = await this.run('list unfinished jobs', () => this.client.hKeys(UNFINISHED));
    const jobs = await Promise.all(ids.map((id) => this.get<R>(id)));
    return jobs.filter((job): job is StoredJob<R> => job !== undefined && !job.final);
  }

  async claim(id: string, from: RecordFence, toOwnerId: string): Promise<RecordFence | undefined> {
    const epoch = await this.run('claim job', () =>
      this.client.eval(CLAIM, {
        keys: [jobKey(id), UNFINISHED, processKey(from.ownerId)],
        arguments: [from.ownerId, String(from.epoch), toOwnerId, id],
      }),
    );
    return typeof epoch === 'number' ? { ownerId: toOwnerId, epoch } : undefined;
  }

  async pruneFinished(): Promise<number> {
    // Finished records expire by themselves (FINISHED_RECORD_TTL_MS).
    return 0;
  }
}

function storedJob<R>(id: string, fields: Record<string, string>): StoredJob<R> | undefined {
  if (!fields.record) return undefined;
  return {
    id,
    record: JSON.parse(fields.record) as R,
    ownerId: fields.owner ?? '',
    epoch: Number(fields.epoch ?? 0),
    final: fields.final === '1',
    updatedAt: Number(fields.updated ?? 0),
  };
}

class RedisProcesses implements ProcessRegistry {
  constructor(
    private readonly client: RedisClient,
    private readonly run: Run,
  ) {}

  async renew(processId: string, leaseMs: number, now: number): Promise<void> {
    await this.run('renew lease', () => this.client.set(processKey(processId), String(now), { PX: leaseMs }));
  }

  async alive(processIds: readonly string[]): Promise<Set<string>> {
    if (processIds.length === 0) return new Set();
    const values = await this.run('read leases', () => this.client.mGet(processIds.map(processKey)));
    return new Set(processIds.filter((_, index) => values[index] !== null));
  }

  async remove(processId: string): Promise<void> {
    await this.run('end lease', () => this.client.del(processKey(processId)));
  }
}
