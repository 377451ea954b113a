import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { APIMessage } from 'discord-api-types/v10';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ACCENT_COLOURS } from '../../src/services/progress-message/job-card.ts';
import {
  type FakeDiscord,
  type FakeMember,
  MessageFlag,
  startFakeDiscord,
} from '../fakes/fake-discord/fake-discord.ts';
import { type FakeVideoService, progressStream, startFakeVideoService } from '../fakes/fake-video-service.ts';
import { startFakeVideosApi } from '../fakes/fake-videos-api.ts';
import { killBotProcesses, startBotProcess } from '../harness/bot-process.ts';
import {
  customIdOf,
  hasVideoFile,
  jobIdOf,
  labelsOf,
  usageOf,
  waitForJobFinished,
  waitForLog,
} from '../harness/fault-kit.ts';
import { PNG_BYTES, TEST_API_KEY, videoOptions } from '../harness/test-bot.ts';

/**
 * The bot as it really runs, in a child process (test/harness/bot-process.ts), against the fakes
 * running in this process, with its data in a temporary directory that outlives it.
 */

let discord: FakeDiscord;
let service: FakeVideoService;
let dataDir: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  discord = await startFakeDiscord();
  service = await startFakeVideoService();
  dataDir = await mkdtemp(path.join(tmpdir(), 'sora-bot-restart-'));
  env = {
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
    // One job at a time, so a second one waits in the bot's queue when the bot dies.
    MAX_CONCURRENT_JOBS: '1',
    // A killed bot's jobs are taken over once its lease has run out: scaled down like the other timeouts.
    PROCESS_LEASE_MS: '1500',
    LOG_LEVEL: 'debug',
  };
});
afterAll(async () => {
  await discord?.close();
  await service?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});
beforeEach(() => service.reset());

const startBot = () => startBotProcess(discord, env);
afterEach(killBotProcesses);

const usage = (member?: FakeMember) => usageOf(discord, member);

/** Every file of the bot's store, raw, as one text. */
async function storeDump(): Promise<string> {
  const files = await readdir(dataDir);
  const contents = await Promise.all(files.map((name) => readFile(path.join(dataDir, name)).catch(() => '')));
  return contents.map((bytes) => bytes.toString('latin1')).join('\n');
}

const showsProgress = (message: APIMessage) => /\d+%/.test(message.content);
const interrupted = (message: APIMessage) => message.content.includes('**Interrupted**');

describe('restart', () => {
  it('killed mid-job (SIGKILL) and started again: stuck replies say Interrupted with Retry, quota whole', async () => {
    const first = await startBot();
    const bob = discord.member({ username: 'bob' });
    const [alice, bobs] = [await usage(), await usage(bob)];
    service.enqueue({ ...progressStream({ steps: [10] }), stallAfterFrames: 4 });
    const ix = discord.slashCommand({
      name: 'video',
      options: videoOptions({ prompt: 'a candle burning down' }),
    });
    const stuck = await discord.waitForOriginal(ix, showsProgress);
    // Bob's mention waits in line behind it; its progress lives in the bot's reply to him.
    const mention = discord.sendMessage({
      content: 'a kite on the beach',
      author: bob,
      mentionsBot: true,
      attachments: [{ filename: 'kite.png', contentType: 'image/png', bytes: PNG_BYTES }],
    });
    const waiting = await discord.waitForMessage(
      (message) =>
        message.message_reference?.message_id === mention.id && message.content.includes('in line'),
    );
    expect(await usage()).toEqual({ used: alice.used + 1, running: 1 });
    expect(await usage(bob)).toEqual({ used: bobs.used + 1, running: 1 });

    first.child.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');

    const second = await startBot();
    const recovered = await discord.waitForOriginal(ix, interrupted);
    expect(recovered.content).toContain('restarted');
    expect(labelsOf(recovered)).toEqual(['Retry']);
    expect(customIdOf(recovered, 'Retry')).toBe(`retry:${jobIdOf(stuck)}`);
    // The waiting job's reply is edited in place, not answered with a new message.
    const recoveredReply = await discord.waitForMessage(
      (message) => message.id === waiting.id && interrupted(message),
    );
    expect(labelsOf(recoveredReply)).toEqual(['Retry']);
    // Both are the jobs' cards, edited in place: the colour of an interrupted job.
    for (const card of [recovered, recoveredReply]) {
      expect((card.flags ?? 0) & MessageFlag.IsComponentsV2).toBe(MessageFlag.IsComponentsV2);
      expect(card.components?.[0]).toMatchObject({ type: 17, accent_color: ACCENT_COLOURS.interrupted });
    }
    const botReplies = discord
      .channelMessages()
      .filter((message) => message.message_reference?.message_id === mention.id);
    expect(botReplies.map((message) => message.id)).toEqual([waiting.id]);
    await waitForLog(second.lines, (entry) => entry.event === 'jobs_recovered' && entry.count === 2);
    expect(await usage()).toEqual({ used: alice.used, running: 0 });
    expect(await usage(bob)).toEqual({ used: bobs.used, running: 0 });

    // Retry from the recovered message starts the same request again, and it is delivered.
    const click = discord.clickButton({ message: recovered, customId: customIdOf(recovered, 'Retry') });
    const again = await discord.waitForOriginal(click, hasVideoFile);
    expect(again.content).toContain('Your video is ready');
    expect((await waitForJobFinished(second.lines, jobIdOf(again))).state).toBe('delivered');
    expect(service.requests.map((request) => request.promptText)).toEqual([
      'a candle burning down',
      'a candle burning down',
    ]);
    expect(await usage()).toEqual({ used: alice.used + 1, running: 0 });

    second.child.kill('SIGTERM');
    expect(await second.exited).toEqual({ code: 0, signal: null });
  });

  it('SIGTERM mid-job: exits with code 0 and the running job is marked Interrupted with Retry', async () => {
    const bot = await startBot();
    const before = await usage();
    const claimed = service.enqueue({ ...progressStream({ steps: [10] }), stallAfterFrames: 4 });
    const ix = discord.slashCommand({ name: 'video', options: videoOptions({ prompt: 'a clock ticking' }) });
    await discord.waitForOriginal(ix, showsProgress);

    bot.child.kill('SIGTERM');
    expect(await bot.exited).toEqual({ code: 0, signal: null });
    const final = discord.originalResponse(ix);
    expect(final && interrupted(final)).toBe(true);
    expect(final && labelsOf(final)).toEqual(['Retry']);
    expect(await (await claimed).ended).toBe('client-disconnected');
    expect(bot.lines.some((line) => line.includes('"event":"bot_stopped"'))).toBe(true);

    // Started again, the bot finds nothing left to recover and the reservation was given back.
    const after = await startBot();
    expect(await usage()).toEqual({ used: before.used, running: 0 });
    expect(after.lines.some((line) => line.includes('job_recovered_as_interrupted'))).toBe(false);
    after.child.kill('SIGTERM');
    expect(await after.exited).toEqual({ code: 0, signal: null });
  });

  it('interaction token at rest: a dump of the store mid-job has no token in clear, and the restarted bot still edits the reply through it', async () => {
    const first = await startBot();
    service.enqueue({ ...progressStream({ steps: [10] }), stallAfterFrames: 4 });
    const ix = discord.slashCommand({ name: 'video', options: videoOptions({ prompt: 'a lamp left on' }) });
    await discord.waitForOriginal(ix, showsProgress);
    // Every file of the store, raw, once the job's record (the only place its prompt is kept) is
    // in it: what a copied data directory or a backup would give away.
    let dump = await storeDump();
    while (!dump.includes('a lamp left on')) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      dump = await storeDump();
    }
    expect(dump).not.toContain(ix.token);

    first.child.kill('SIGKILL');
    await first.exited;
    const before = discord.requests.length;
    const second = await startBot();
    const recovered = await discord.waitForOriginal(ix, interrupted);
    expect(labelsOf(recovered)).toEqual(['Retry']);
    // Edited through the interaction token, as only a bot that could open the sealed one can.
    const edits = discord.requests
      .slice(before)
      .filter(
        (request) => request.method === 'PATCH' && request.path.includes(`/${ix.token}/messages/@original`),
      );
    expect(edits.length).toBeGreaterThan(0);
    await waitForLog(second.lines, (entry) => entry.event === 'jobs_recovered');
    // Final now: the record keeps no token at all, sealed or not.
    second.child.kill('SIGTERM');
    await second.exited;
    expect(await storeDump()).not.toContain(ix.token);
  });

  it('killed (SIGKILL) during the upload, lease and upload timeout far off: the next start settles the job at once and the member may start another', {
    timeout: 60_000,
  }, async () => {
    // Ten minutes each: a start that waited for the lease or the upload timeout would settle nothing within the test.
    const longEnv = { ...env, PROCESS_LEASE_MS: '600000', VIDEO_UPLOAD_TIMEOUT_MS: '600000' };
    const first = await startBotProcess(discord, longEnv);
    const before = await usage();
    // Discord never sees the upload through: it died with the process's socket.
    discord.failNext({ route: '/messages/@original', method: 'PATCH', withFiles: true, delayMs: 45_000 });
    service.enqueue(progressStream({ steps: [50] }));
    const ix = discord.slashCommand({ name: 'video', options: videoOptions({ prompt: 'a glass of water' }) });
    const posting = await waitForLog(first.lines, (entry) => entry.event === 'video_posting', {
      what: 'video_posting',
    });
    first.child.kill('SIGKILL');
    await first.exited;
    // Whether or not the upload's body got through before the kill, no later request is held back.
    discord.clearFaults();

    const second = await startBotProcess(discord, longEnv);
    const settled = await discord.waitForOriginal(ix, interrupted);
    expect(labelsOf(settled)).toEqual(['Retry']);
    expect(customIdOf(settled, 'Retry')).toBe(`retry:${posting.jobId}`);
    expect(await usage()).toEqual({ used: before.used, running: 0 });

    // One running job per member: the dead job no longer holds the member's slot.
    const next = discord.slashCommand({ name: 'video', options: videoOptions({ prompt: 'a second glass' }) });
    const delivered = await discord.waitForOriginal(next, hasVideoFile, { timeoutMs: 20_000 });
    expect((await waitForJobFinished(second.lines, jobIdOf(delivered))).state).toBe('delivered');
    expect(await usage()).toEqual({ used: before.used + 1, running: 0 });
  });
  it('restarted on the embedded store with a long lease, Videos API: the recorded job is polled again at once, not once the lease ran out, and delivered into the same message', {
    timeout: 60_000,
  }, async () => {
    const relay = await startFakeVideosApi({
      apiKey: TEST_API_KEY,
      defaults: { queuedMs: 200, processingMs: 6_000 },
    });
    const ownData = await mkdtemp(path.join(tmpdir(), 'sora-bot-restart-videos-'));
    try {
      const videosEnv = {
        ...env,
        DATA_DIR: ownData,
        SORA_API_FORMAT: 'videos',
        SORA_API_URL: relay.apiUrl,
        SORA_POLL_INTERVAL_MS: '50',
        // Ten minutes: a start that waited for the dead process's lease would not poll within the test.
        PROCESS_LEASE_MS: '600000',
      };
      const first = await startBotProcess(discord, videosEnv);
      const ix = discord.slashCommand({ name: 'video', options: videoOptions({ prompt: 'a slow tide' }) });
      const progress = await discord.waitForOriginal(ix, showsProgress, { timeoutMs: 20_000 });
      const serviceJobId = relay.creates[0]?.jobId as string;
      expect(serviceJobId).toBeDefined();

      first.child.kill('SIGKILL');
      await first.exited;
      const killedAt = Date.now();
      const second = await startBotProcess(discord, videosEnv);
      await relay.waitForCall(
        (call) => call.call === 'poll' && call.jobId === serviceJobId && call.at > killedAt,
      );
      const final = await discord.waitForOriginal(ix, hasVideoFile, { timeoutMs: 30_000 });
      expect(final.id).toBe(progress.id);
      expect((await waitForJobFinished(second.lines, jobIdOf(final))).state).toBe('delivered');
      expect(discord.messageHistory(progress.id).some(interrupted)).toBe(false);
      expect(relay.count('create')).toBe(1);
      expect(await usage()).toEqual({ used: 1, running: 0 });
    } finally {
      await killBotProcesses();
      await relay.close();
      await rm(ownData, { recursive: true, force: true });
    }
  });
});
