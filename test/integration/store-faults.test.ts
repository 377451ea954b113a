import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { APIMessage } from 'discord-api-types/v10';
import { afterEach, describe, expect, it } from 'vitest';
import { translatorFor } from '../../src/services/i18n/translator.ts';
import { STORE_DOWN } from '../../src/services/jobs/job-admission.ts';
import { type FakeDiscord, type FakeMember, startFakeDiscord } from '../fakes/fake-discord/fake-discord.ts';
import { type FakeVideoService, progressStream, startFakeVideoService } from '../fakes/fake-video-service.ts';
import { killBotProcesses, startBotProcess } from '../harness/bot-process.ts';
import {
  hasVideoFile,
  jobIdOf,
  labelsOf,
  usageOf,
  waitForJobFinished,
  waitForLog,
} from '../harness/fault-kit.ts';
import { type RedisServer, startRedisServer } from '../harness/redis-server.ts';
import { startTestBot, TEST_API_KEY, type TestBot, videoOptions } from '../harness/test-bot.ts';

/**
 * The store under faults, with the real bot: Redis killed and restarted, Redis down before a
 * request, the bot killed during an upload, and two bot processes on one Redis with one of them
 * killed. Each test ends with the member's /usage: counted once if delivered, never blocked.
 */

const showsProgress = (message: APIMessage) => /\d+%/.test(message.content);
const isFinal = (message: APIMessage) =>
  ['Your video is ready', 'could not be made', '**Interrupted**'].some((text) =>
    message.content.includes(text),
  );
/** A stream that takes a few seconds, so a fault can strike while it runs. */
const slowStream = (chunkDelayMs: number) => ({
  ...progressStream({ steps: [10, 30, 50, 70, 90] }),
  chunkDelayMs,
});

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  await killBotProcesses();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

async function botOnRedis(redis: RedisServer, env: Record<string, string> = {}): Promise<TestBot> {
  const bot = await startTestBot({
    env: { REDIS_URL: redis.url, STORE_TIMEOUT_MS: '500', DEFAULT_MEMBER_LIMIT: '5', ...env },
  });
  cleanups.push(() => bot.close());
  return bot;
}

async function videoDelivered(
  discord: FakeDiscord,
  logs: string[],
  member?: FakeMember,
): Promise<APIMessage> {
  const ix = discord.slashCommand({
    name: 'video',
    member,
    options: videoOptions({ prompt: 'a paper boat' }),
  });
  const final = await discord.waitForOriginal(ix, isFinal, { timeoutMs: 20_000 });
  expect(hasVideoFile(final)).toBe(true);
  expect((await waitForJobFinished(logs, jobIdOf(final))).state).toBe('delivered');
  return final;
}

describe('store faults', () => {
  it('Redis killed mid-job and started again: the bot stays up, the job is delivered and counted once, the member can start another', async () => {
    const redis = await startRedisServer({ persist: true });
    cleanups.push(() => redis.stop());
    const bot = await botOnRedis(redis);
    const before = await usageOf(bot.discord);
    bot.service.enqueue(slowStream(400));
    const ix = bot.discord.slashCommand({
      name: 'video',
      options: videoOptions({ prompt: 'a storm at sea' }),
    });
    await bot.discord.waitForOriginal(ix, showsProgress);

    await redis.kill();
    await waitForLog(bot.logs, (entry) => entry.event === 'store_unavailable', { what: 'store_unavailable' });
    await redis.restart();
    await waitForLog(bot.logs, (entry) => entry.event === 'store_recovered', { what: 'store_recovered' });

    const final = await bot.discord.waitForOriginal(ix, isFinal, { timeoutMs: 20_000 });
    expect(hasVideoFile(final)).toBe(true);
    expect((await waitForJobFinished(bot.logs, jobIdOf(final))).state).toBe('delivered');
    await waitForLog(bot.logs, (entry) => entry.event === 'quota_committed' && entry.changed === true);
    expect(await usageOf(bot.discord)).toEqual({ used: before.used + 1, running: 0 });
    await videoDelivered(bot.discord, bot.logs);
    expect(bot.logs.filter((line) => line.includes('"event":"store_unavailable"'))).toHaveLength(1);
  });

  it('Redis down before a request: acknowledged at once with a clear message, nothing stuck; works again once Redis is back', async () => {
    const redis = await startRedisServer({ persist: true });
    cleanups.push(() => redis.stop());
    const bot = await botOnRedis(redis);
    await redis.kill();

    const ix = bot.discord.slashCommand({ name: 'video', options: videoOptions({ prompt: 'a red kite' }) });
    expect((await bot.discord.waitForCallback(ix)).status).toBe(204);
    const refusal = await bot.discord.waitForMessage(
      (message, record) => record.ephemeral && ix.followupIds.includes(message.id),
    );
    expect(refusal.content).toBe(translatorFor('en-US').text(STORE_DOWN));
    // The public "thinking…" reply is gone, not left spinning.
    await bot.discord.waitForRequest(
      (request) => request.interactionId === ix.id && request.method === 'DELETE',
      { what: 'the deleted thinking reply' },
    );
    expect(bot.service.requests).toHaveLength(0);
    const usage = bot.discord.slashCommand({ name: 'usage' });
    const answer = await bot.discord.waitForCallback(usage);
    expect(JSON.stringify(answer.body)).toContain("can't check your quota right now");

    await redis.restart();
    await waitForLog(bot.logs, (entry) => entry.event === 'store_recovered', { what: 'store_recovered' });
    await videoDelivered(bot.discord, bot.logs);
    expect(await usageOf(bot.discord)).toEqual({ used: 1, running: 0 });
  });

  it('bot killed (SIGKILL) during the upload and started again: delivered and counted once, the member is not blocked', async () => {
    const { discord, service, env } = await processSetup();
    // On the embedded store the next start looks at the message at once: the upload must have
    // landed at Discord by then (it got there whole before the kill; Discord takes 800 ms over it).
    env.VIDEO_UPLOAD_TIMEOUT_MS = '3000';
    const first = await startBotProcess(discord, env);
    const before = await usageOf(discord);
    // The upload takes a while at Discord, long enough to kill the bot while it is in flight.
    discord.failNext({ route: '/messages/@original', method: 'PATCH', withFiles: true, delayMs: 800 });
    service.enqueue(progressStream({ steps: [50] }));
    const ix = discord.slashCommand({ name: 'video', options: videoOptions({ prompt: 'a glass of water' }) });
    const posting = await waitForLog(first.lines, (entry) => entry.event === 'video_posting', {
      what: 'video_posting',
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    first.child.kill('SIGKILL');
    await first.exited;

    const second = await startBotProcess(discord, env);
    await waitForLog(
      second.lines,
      (entry) => entry.event === 'job_recovered_as_delivered' && entry.jobId === posting.jobId,
      {
        what: 'job_recovered_as_delivered',
      },
    );
    const final = discord.originalResponse(ix);
    expect(final && hasVideoFile(final)).toBe(true);
    expect(await usageOf(discord)).toEqual({ used: before.used + 1, running: 0 });
    await videoDelivered(discord, second.lines);
  });

  it('two bot processes on one Redis, one killed mid-job: the survivor takes over only its jobs once its lease ran out', async () => {
    const redis = await startRedisServer();
    cleanups.push(() => redis.stop());
    const { discord, service, env } = await processSetup({ shardCount: 2, redisUrl: redis.url });
    const shardEnv = (shard: number) => ({ ...env, SHARD_COUNT: '2', SHARD_IDS: String(shard) });
    // One job at a time on the doomed process, so the second job is the survivor's to run.
    const doomed = await startBotProcess(discord, { ...shardEnv(0), WORKER_CONCURRENCY: '1' }, { shard: 0 });
    const alice = discord.member({ username: 'alice-0', guild: discord.guild });
    const bob = discord.member({ username: 'bob-1', guild: discord.otherGuild });

    service.enqueue({ ...progressStream({ steps: [10] }), stallAfterFrames: 4 });
    const lost = discord.slashCommand({
      name: 'video',
      member: alice,
      options: videoOptions({ prompt: 'lost' }),
    });
    const lostProgress = await discord.waitForOriginal(lost, showsProgress);
    const survivor = await startBotProcess(discord, shardEnv(1), { shard: 1 });
    service.enqueue(slowStream(500));
    const kept = discord.slashCommand({
      name: 'video',
      member: bob,
      channel: discord.otherGuildChannel,
      options: videoOptions({ prompt: 'kept' }),
    });
    const keptProgress = await discord.waitForOriginal(kept, showsProgress);

    doomed.child.kill('SIGKILL');
    await doomed.exited;
    const taken = await waitForLog(survivor.lines, (entry) => entry.event === 'job_taken_over', {
      what: 'job_taken_over',
    });
    expect(taken.jobId).toBe(jobIdOf(lostProgress));
    const interrupted = await discord.waitForOriginal(lost, isFinal);
    expect(interrupted.content).toContain('**Interrupted**');
    expect(labelsOf(interrupted)).toEqual(['Retry']);

    const delivered = await discord.waitForOriginal(kept, isFinal, { timeoutMs: 20_000 });
    expect(hasVideoFile(delivered)).toBe(true);
    expect((await waitForJobFinished(survivor.lines, jobIdOf(keptProgress))).state).toBe('delivered');
    const takeovers = survivor.lines.filter((line) => line.includes('"event":"job_taken_over"'));
    expect(takeovers).toHaveLength(1);
    expect(await usageOf(discord, bob, discord.otherGuildChannel)).toEqual({ used: 1, running: 0 });
    // Alice's guild is on the dead process's shard: a gateway for shard 0 answers her /usage.
    await startBotProcess(discord, shardEnv(0), { shard: 0 });
    expect(await usageOf(discord, alice)).toEqual({ used: 0, running: 0 });
  });
});

interface ProcessSetup {
  discord: FakeDiscord;
  service: FakeVideoService;
  env: NodeJS.ProcessEnv;
}

/** The fakes and the environment for bots in child processes, with a short lease. */
async function processSetup(options: { shardCount?: number; redisUrl?: string } = {}): Promise<ProcessSetup> {
  const discord = await startFakeDiscord({ shardCount: options.shardCount ?? 1, maxConcurrency: 2 });
  const service = await startFakeVideoService();
  const dataDir = await mkdtemp(path.join(tmpdir(), 'sora-bot-store-faults-'));
  cleanups.push(
    () => discord.close(),
    () => service.close(),
    () => rm(dataDir, { recursive: true, force: true }),
  );
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    DISCORD_TOKEN: discord.botToken,
    DISCORD_API_URL: discord.apiUrl,
    SORA_API_KEY: TEST_API_KEY,
    SORA_API_URL: service.apiUrl,
    DATA_DIR: dataDir,
    ALLOW_PRIVATE_VIDEO_URLS: 'true',
    PROGRESS_EDIT_INTERVAL_MS: '250',
    SHUTDOWN_GRACE_MS: '200',
    DEFAULT_MEMBER_LIMIT: '10',
    PROCESS_LEASE_MS: '1500',
    LOG_LEVEL: 'debug',
    ...(options.redisUrl ? { REDIS_URL: options.redisUrl } : {}),
  };
  return { discord, service, env };
}
