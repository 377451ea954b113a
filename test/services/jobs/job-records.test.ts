import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { SurfaceLocation } from '../../../src/services/jobs/job-ports.ts';
import { type JobRecord, JobRecords } from '../../../src/services/jobs/job-records.ts';
import { TokenSeal } from '../../../src/services/jobs/token-seal.ts';
import { silentLogger } from '../../../src/services/logging/logger.ts';
import type { Store } from '../../../src/services/store/store.ts';
import { storeBackends } from '../../harness/store-backends.ts';

/**
 * Interaction tokens at rest: whatever a dump of the store shows (the SQLite files, every Redis
 * key), a token that could still edit a member's reply is never in it in clear, and a token the
 * job no longer needs is not in it at all. Read back by a process with the same bot token, the
 * token works again.
 */

const BOT_TOKEN = 'bot-token-shared-by-every-process.0123456789';
const TOKEN = 'aW50ZXJhY3Rpb246MTIzNDU2Nzg5MDEyMzQ1Njc4OmFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6';

function recordOf(id: string, state: JobRecord['state'], usableUntil = Date.now() + 10 * 60_000): JobRecord {
  const location: SurfaceLocation = {
    kind: 'interaction',
    applicationId: '100000000000000001',
    token: TOKEN,
    handOverAt: usableUntil - 60_000,
    usableUntil,
    channelId: '200000000000000001',
    messageId: '300000000000000001',
    uploadLimitBytes: 10 * 1024 * 1024,
  };
  const request = {
    requesterId: '400000000000000001',
    guildId: null,
    channelId: '2',
    prompt: 'p',
    model: 'm',
    source: 'slash' as const,
  };
  return { id, request, state, location, createdAt: Date.now(), updatedAt: Date.now() };
}

describe.each(storeBackends())('job records on $name', (backend) => {
  let store: Store;

  beforeAll(() => backend.start());
  afterAll(() => backend.stop());
  beforeEach(async () => {
    store = await backend.openStore();
  });
  afterEach(() => store.close());

  /** Everything the store holds, as raw as an attacker with the files or the Redis port sees it. */
  async function dump(): Promise<string> {
    if (backend.name === 'sqlite') {
      const dir = backend.dataDir;
      return readdirSync(dir)
        .map((name) => readFileSync(path.join(dir, name)).toString('latin1'))
        .join('\n');
    }
    const redis = new Redis(backend.redisUrl as string);
    try {
      const parts: string[] = [];
      for (const key of await redis.keys('*')) {
        const type = await redis.type(key);
        if (type === 'string') parts.push(key, String(await redis.get(key)));
        if (type === 'hash') parts.push(key, JSON.stringify(await redis.hgetall(key)));
        if (type === 'set') parts.push(key, ...(await redis.smembers(key)));
        if (type === 'zset') parts.push(key, ...(await redis.zrange(key, 0, -1)));
        if (type === 'list') parts.push(key, ...(await redis.lrange(key, 0, -1)));
      }
      return parts.join('\n');
    } finally {
      redis.disconnect();
    }
  }

  it('keeps a running job’s token sealed: not in the dump, yet usable by a process with the same bot token', async () => {
    const writer = new JobRecords(store, silentLogger, 'p-1', TokenSeal.fromSecret(BOT_TOKEN));
    await writer.save(recordOf('job-generating', 'generating'));

    const raw = await dump();
    expect(raw).toContain('job-generating');
    expect(raw).not.toContain(TOKEN);

    const restarted = new JobRecords(store, silentLogger, 'p-2', TokenSeal.fromSecret(BOT_TOKEN));
    const location = (await restarted.get('job-generating'))?.location;
    expect(location).toMatchObject({ kind: 'interaction', token: TOKEN });
    const [unfinished] = (await restarted.unfinished()).filter((job) => job.id === 'job-generating');
    expect(unfinished?.record.location).toMatchObject({ token: TOKEN });
  });

  it('drops the token once the job is final, or once it is past its use', async () => {
    const records = new JobRecords(store, silentLogger, 'p-1', TokenSeal.fromSecret(BOT_TOKEN));
    await records.save(recordOf('job-final', 'delivered'));
    await records.save(recordOf('job-expired', 'generating', Date.now() - 1));
    for (const id of ['job-final', 'job-expired']) {
      expect((await records.get(id))?.location).toMatchObject({ token: '', usableUntil: 0 });
    }
    const raw = await dump();
    expect(raw).toContain('job-final');
    expect(raw).not.toContain(TOKEN);
  });

  it('a token sealed under another bot token is not used: the reply is then edited with the bot’s own token', async () => {
    await new JobRecords(store, silentLogger, 'p-1', TokenSeal.fromSecret(BOT_TOKEN)).save(
      recordOf('job-rotated', 'generating'),
    );
    const rotated = new JobRecords(store, silentLogger, 'p-2', TokenSeal.fromSecret('a-new-bot-token'));
    expect((await rotated.get('job-rotated'))?.location).toMatchObject({
      token: '',
      usableUntil: 0,
      messageId: '300000000000000001',
    });
  });

  it('without a seal, stores no token at all', async () => {
    await new JobRecords(store, silentLogger, 'p-1').save(recordOf('job-unsealed', 'generating'));
    expect(await dump()).not.toContain(TOKEN);
    expect((await new JobRecords(store, silentLogger, 'p-1').get('job-unsealed'))?.location).toMatchObject({
      token: '',
    });
  });
});
