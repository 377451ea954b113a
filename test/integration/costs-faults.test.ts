import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { APIMessage } from 'discord-api-types/v10';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseCatalogue } from '../../src/services/catalogue/load-catalogue.ts';
import type { FakeInteraction, FakeMember } from '../fakes/fake-discord/fake-discord.ts';
import { type FakeOpenRouter, startFakeOpenRouter } from '../fakes/fake-openrouter.ts';
import { progressStream, startFakeVideoService } from '../fakes/fake-video-service.ts';
import { customIdOf, waitForLog } from '../harness/fault-kit.ts';
import { type RedisServer, startRedisServer } from '../harness/redis-server.ts';
import { startTestBot, type TestBot, videoOptions } from '../harness/test-bot.ts';

/**
 * What a video costs, with the real bot: a catalogue with prices (Veo at $0.40 a second, Wan at
 * $0.05, Veo through OpenRouter, which reports its own cost), allowances in seconds and money
 * set with /quota, the price before (progress reply) and the real cost after (/usage, /quota show).
 */

const RELAY_KEY = 'sk-relay-costs-SECRET-0001';

function catalogueText(relayUrl: string, openRouterUrl: string): string {
  return `
default: veo
currency: USD
providers:
  relay:      { shape: chat-relay, base_url: "${relayUrl}", api_key_env: RELAY_KEY }
  openrouter: { shape: openai-videos, variant: openrouter, base_url: "${openRouterUrl}", api_key_env: OPENROUTER_KEY }
models:
  - { id: veo, label: Veo 3.1, provider: relay, model: veo-3.1, durations: [4, 8], aspect_ratios: ["16:9"], image_input: true, price_per_second: 0.40 }
  - { id: wan, label: Wan, provider: relay, model: wan-2.5, durations: [4, 8], aspect_ratios: ["16:9"], image_input: true, price_per_second: 0.05 }
  - { id: routed, label: Veo Routed, provider: openrouter, model: google/veo-3.1, durations: [4, 8], aspect_ratios: ["16:9"], image_input: false, price_per_second: 0.40 }
`;
}

let bot: TestBot;
let router: FakeOpenRouter;
let admin: FakeMember;
let dir: string;
let redis: RedisServer | undefined;

async function command(
  name: string,
  member: FakeMember,
  extra: Partial<Parameters<TestBot['discord']['slashCommand']>[0]> = {},
): Promise<string> {
  const ix = bot.discord.slashCommand({ name, member, ...extra });
  const callback = await bot.discord.waitForCallback(ix);
  return String((callback.body as { data?: { content?: string } }).data?.content);
}

/** `/quota limit everyone` in a unit. */
function limitEveryone(count: number, unit: string): Promise<string> {
  return command('quota', admin, {
    subcommandGroup: 'limit',
    subcommand: 'everyone',
    options: [
      { name: 'count', type: 10, value: count },
      { name: 'period', type: 3, value: 'day' },
      { name: 'unit', type: 3, value: unit },
    ],
  });
}

function video(member: FakeMember, ask: { model?: string; duration?: number } = {}): FakeInteraction {
  return bot.discord.slashCommand({
    name: 'video',
    member,
    options: videoOptions({ prompt: 'a lighthouse in a storm', ...ask }),
  });
}

/** Delivered, as a file or (an upload the stand-in refused) a link: either way charged. */
const isReady = (message: APIMessage) => message.content.includes('Your video is ready');

async function refusalOf(ix: FakeInteraction): Promise<APIMessage> {
  return bot.discord.waitForMessage(
    (message, record) => record.ephemeral && ix.followupIds.includes(message.id),
  );
}

describe.each(['sqlite', 'redis'] as const)('costs on %s', (backend) => {
  beforeAll(async () => {
    redis = backend === 'redis' ? await startRedisServer() : undefined;
    router = await startFakeOpenRouter();
    dir = await mkdtemp(path.join(tmpdir(), 'sora-bot-costs-'));
    const file = path.join(dir, 'models.yaml');
    const service = await startFakeVideoService();
    const text = catalogueText(service.apiUrl, router.baseUrl);
    await writeFile(file, text);
    const keys = { RELAY_KEY, OPENROUTER_KEY: router.apiKey };
    bot = await startTestBot({
      env: {
        MODELS_FILE: file,
        SORA_API_KEY: '',
        ...keys,
        SORA_POLL_INTERVAL_MS: '50',
        DEFAULT_MAX_RUNNING_PER_MEMBER: '0',
        ...(redis ? { REDIS_URL: redis.url } : {}),
      },
      service,
      catalogue: parseCatalogue(text, keys),
    });
    admin = bot.discord.member({ username: 'admin', permissions: 1n << 5n });
  });
  afterAll(async () => {
    await bot?.close();
    await router?.close();
    await redis?.stop();
    await rm(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    bot.service.reset();
    router.reset({ queuedMs: 20, processingMs: 50 });
  });

  it('a spend limit lets the 4 s video in, shows its price, and refuses the 8 s one with the figures and what would fit', async () => {
    expect(await limitEveryone(3, 'spend')).toContain('$3.00 a day');
    const member = bot.discord.member({ username: 'dana' });
    bot.service.enqueue(progressStream());
    const first = video(member, { duration: 4 });
    const delivered = await bot.discord.waitForOriginal(first, isReady);
    // Uploaded as a file: the REST layer has an agent of its own undici, whatever this file imported first.
    expect(delivered.attachments).toHaveLength(1);
    expect(delivered.content).toContain('Veo 3.1, 4 s: about $1.60');

    const second = video(member, { duration: 8 });
    const refusal = await refusalOf(second);
    expect(refusal.content).toContain('This 8-second Veo 3.1 video needs $3.20; you have $1.40 left today.');
    expect(refusal.content).toContain('Wan would fit at 8 s.');
    expect(bot.service.requests).toHaveLength(1);

    const usage = await command('usage', member);
    expect(usage).toContain('$1.60 of $3.00 used, $1.40 left');
  });

  it('a seconds limit counts lengths; a failed and a cancelled video cost nothing', async () => {
    expect(await limitEveryone(12, 'seconds')).toContain('12 seconds a day');
    const member = bot.discord.member({ username: 'eli' });
    bot.service.enqueue({
      status: 400,
      body: { error: { message: 'Your request was blocked by our moderation system.' } },
    });
    await bot.discord.waitForOriginal(video(member, { duration: 8 }), (message) =>
      message.content.includes('could not be made'),
    );
    bot.service.enqueue({ ...progressStream({ steps: [5] }), stallAfterFrames: 4 });
    const running = video(member, { duration: 8 });
    const shown = await bot.discord.waitForOriginal(
      running,
      (message) => (message.components?.length ?? 0) > 0 && /\d+%/.test(message.content),
    );
    bot.discord.clickButton({ message: shown, customId: customIdOf(shown, 'Cancel'), member });
    await bot.discord.waitForOriginal(running, (message) => message.content.includes('Cancelled'));
    expect(await command('usage', member)).toContain('0 seconds of 12 seconds used');

    bot.service.enqueue(progressStream());
    await bot.discord.waitForOriginal(video(member, { duration: 8 }), isReady);
    const refusal = await refusalOf(video(member, { duration: 8 }));
    expect(refusal.content).toContain('needs 8 seconds; you have 4 seconds left today.');
    expect(refusal.content).toContain('A 4-second video would fit.');
  });

  it('the real cost the provider reports replaces the estimate, and /quota show lists spend per member', async () => {
    expect(await limitEveryone(10, 'spend')).toContain('$10.00 a day');
    const member = bot.discord.member({ username: 'fay' });
    router.reset({ queuedMs: 20, processingMs: 50, cost: 2.75 });
    const final = await bot.discord.waitForOriginal(video(member, { model: 'routed', duration: 8 }), isReady);
    // The progress reply priced it at the estimate; the final message says what it really cost.
    expect(final.content).toContain('Veo Routed, 8 s: about $3.20.');
    expect(final.content).toContain('Cost: $2.75.');
    // The charge is settled just after the final message.
    await waitForLog(
      bot.logs,
      (entry) => entry.event === 'quota_committed' && entry.userId === member.user.id,
    );
    // The estimate was $3.20; OpenRouter said $2.75.
    expect(await command('usage', member)).toContain('$2.75 of $10.00 used, $7.25 left');
    const show = await command('quota', admin, { subcommand: 'show' });
    expect(show).toMatch(/Spend today: \$\d+\.\d\d/);
    expect(show).toContain(`<@${member.user.id}>: $2.75`);
    expect(show).toContain('Model `routed`: $2.75');
  });
});
