import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeDiscord, startFakeDiscord } from '../fakes/fake-discord/fake-discord.ts';
import type { HttpInteractionsClient } from '../fakes/fake-discord/http-interactions.ts';
import { type FakeVideoService, progressStream, startFakeVideoService } from '../fakes/fake-video-service.ts';
import { type BotProcess, killBotProcesses, startBotProcess } from '../harness/bot-process.ts';
import { customIdOf, hasVideoFile, parseLogs } from '../harness/fault-kit.ts';
import { freePort } from '../harness/free-port.ts';
import { type RedisServer, startRedisServer } from '../harness/redis-server.ts';
import { PNG_BYTES, TEST_API_KEY, videoOptions } from '../harness/test-bot.ts';

/**
 * The gateway-less scale-out: two HTTP front doors (BOT_ROLE=interactions, each on its own
 * INTERACTIONS_PORT, as behind a load balancer) and one worker, all real child processes on one
 * real redis-server. No process connects to the gateway; every interaction is POSTed, signed, to
 * one front door or the other.
 */

describe('two HTTP front doors and a worker on one Redis, no gateway', () => {
  let redis: RedisServer;
  let discord: FakeDiscord;
  let service: FakeVideoService;
  let http: HttpInteractionsClient;
  let dataDir: string;
  const endpoints: string[] = [];
  const frontDoors: BotProcess[] = [];

  beforeAll(async () => {
    redis = await startRedisServer();
    discord = await startFakeDiscord();
    service = await startFakeVideoService();
    http = discord.httpInteractions();
    dataDir = await mkdtemp(path.join(tmpdir(), 'sora-bot-http-cluster-'));
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DISCORD_TOKEN: discord.botToken,
      DISCORD_API_URL: discord.apiUrl,
      DISCORD_PUBLIC_KEY: http.publicKeyHex,
      SORA_API_KEY: TEST_API_KEY,
      SORA_API_URL: service.apiUrl,
      DATA_DIR: dataDir,
      REDIS_URL: redis.url,
      ALLOW_PRIVATE_VIDEO_URLS: 'true',
      PROGRESS_EDIT_INTERVAL_MS: '250',
      SHUTDOWN_GRACE_MS: '200',
      LOG_LEVEL: 'info',
    };
    const worker = startBotProcess(discord, { ...env, BOT_ROLE: 'worker' }, { gateway: false });
    const doors = [0, 1].map(async () => {
      const port = await freePort();
      endpoints.push(`http://127.0.0.1:${port}/interactions`);
      const bot = await startBotProcess(
        discord,
        { ...env, BOT_ROLE: 'interactions', INTERACTIONS_PORT: String(port) },
        { gateway: false },
      );
      frontDoors.push(bot);
    });
    await Promise.all([worker, ...doors]);
  }, 60_000);
  afterAll(async () => {
    await killBotProcesses();
    await discord?.close();
    await service?.close();
    await redis?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('each front door takes /video over HTTP and the worker delivers; a Cancel at the other door stops a job', async () => {
    // Neither front door holds a gateway connection.
    for (const door of frontDoors) {
      const ready = parseLogs(door.lines).find((entry) => entry.event === 'bot_ready');
      expect(ready).toMatchObject({ role: 'interactions', shards: [] });
      expect(typeof ready?.interactionsPort).toBe('number');
    }
    const [first, second] = endpoints as [string, string];
    const alice = discord.member({ username: 'alice-http' });
    const bob = discord.member({ username: 'bob-http' });

    service.enqueue(progressStream({ steps: [40, 80] }));
    const viaFirst = discord.slashCommand({
      name: 'video',
      member: alice,
      options: videoOptions({ prompt: 'through the first door' }),
      dispatch: false,
    });
    expect((await http.deliver(first, viaFirst)).body).toMatchObject({ type: 5 });
    const delivered = await discord.waitForOriginal(viaFirst, hasVideoFile, { timeoutMs: 20_000 });
    expect(delivered.content).toContain('Your video is ready');

    // A slow job started at the second door, cancelled through the first: nothing lives in one process.
    service.enqueue({
      ...progressStream({ steps: [10, 20, 30, 40, 50, 60, 70, 80, 90] }),
      chunkDelayMs: 500,
    });
    const viaSecond = discord.slashCommand({
      name: 'video',
      member: bob,
      options: videoOptions({ prompt: 'through the second door' }),
      dispatch: false,
    });
    expect((await http.deliver(second, viaSecond)).body).toMatchObject({ type: 5 });
    const running = await discord.waitForOriginal(viaSecond, (message) => /\d+%/.test(message.content), {
      timeoutMs: 20_000,
    });
    const cancel = discord.clickButton({
      message: running,
      customId: customIdOf(running, 'Cancel'),
      member: bob,
      dispatch: false,
    });
    const pressed = await http.deliver(first, cancel);
    expect(pressed.status).toBe(200);
    const cancelled = await discord.waitForOriginal(
      viaSecond,
      (message) => message.content.includes('Cancelled'),
      {
        timeoutMs: 20_000,
      },
    );
    expect(cancelled.content).toContain('through the second door');
    expect(cancelled.content).toContain(`Cancelled** by <@${bob.user.id}>`);

    // /usage answered by either door from the shared store: one delivered video for alice.
    const usage = discord.slashCommand({ name: 'usage', member: alice, dispatch: false });
    const answer = await http.deliver(second, usage);
    expect(JSON.stringify(answer.body)).toMatch(/Your videos[^:]*:\*\* 1/);
  }, 60_000);
  it('Make video: the form shown by one front door, submitted at the other, makes the video from the image', async () => {
    const [first, second] = endpoints as [string, string];
    const carol = discord.member({ username: 'carol-http' });
    service.enqueue(progressStream({ steps: [50] }));
    const target = discord.sendMessage({
      content: 'a heron in the reeds',
      attachments: [{ filename: 'heron.png', contentType: 'image/png', bytes: PNG_BYTES }],
    });
    const menu = discord.messageContextMenu({
      name: 'Make video',
      targetMessage: target,
      member: carol,
      dispatch: false,
    });
    expect((await http.deliver(first, menu)).body).toMatchObject({ type: 9 });
    const submit = discord.submitModal({
      customId: menu.modal?.custom_id ?? '',
      fields: { prompt: 'a heron takes off', duration: '5' },
      dispatch: false,
    });
    expect((await http.deliver(second, submit)).body).toMatchObject({ type: 5 });
    await discord.waitForOriginal(submit, hasVideoFile, { timeoutMs: 20_000 });
    const asked = service.requests.find((request) => request.promptText?.includes('a heron takes off'));
    expect(asked?.imageUrl).toMatch(/heron\.png/);
  }, 60_000);
});
