import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { APIMessage } from 'discord-api-types/v10';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeInteraction, startFakeDiscord } from '../fakes/fake-discord/fake-discord.ts';
import { type FakeVideoService, startFakeVideoService, unusedPortUrl } from '../fakes/fake-video-service.ts';
import { type FakeVideosApi, startFakeVideosApi } from '../fakes/fake-videos-api.ts';
import { killBotProcesses, spawnBotProcess, startBotProcess } from '../harness/bot-process.ts';
import {
  customIdOf,
  jobIdOf,
  logsOfJob,
  requestTextWithoutAuth,
  usageOf,
  waitForJobFinished,
} from '../harness/fault-kit.ts';
import { startTestBot, type TestBot, videoOptions } from '../harness/test-bot.ts';

/**
 * The real bot with a models catalogue (MODELS_FILE) of three providers on the stand-ins: two
 * Videos API relays and a chat relay, each with its own key. A member picks a model by id and the
 * create goes to that model's provider, with that provider's key only and the provider's own
 * name for the model; a model that is gone at create time falls back to the next one of its list.
 */

const KEYS = {
  FIRST_KEY: 'sk-first-provider-SECRET-0001',
  SECOND_KEY: 'sk-second-provider-SECRET-0002',
  RELAY_KEY: 'sk-relay-provider-SECRET-0003',
  OFFLINE_KEY: 'sk-offline-provider-SECRET-0004',
};
const READY = 'Your video is ready';
const FAILED = 'could not be made';
const isFinal = (message: APIMessage) =>
  [READY, FAILED, '**Cancelled**', '**Interrupted**'].some((text) => message.content.includes(text));

function catalogueText(urls: { first: string; second: string; relay: string; offline: string }): string {
  return `
default: alpha
providers:
  first:   { shape: openai-videos, base_url: "${urls.first}", api_key_env: FIRST_KEY }
  second:  { shape: openai-videos, base_url: "${urls.second}", api_key_env: SECOND_KEY }
  relay:   { shape: chat-relay, base_url: "${urls.relay}", api_key_env: RELAY_KEY }
  offline: { shape: chat-relay, base_url: "${urls.offline}", api_key_env: OFFLINE_KEY }
models:
  - { id: alpha, label: Alpha, provider: first, model: alpha-v1, durations: [4, 8], aspect_ratios: ["16:9", "9:16"], image_input: true, fallback: [beta] }
  - { id: beta, label: Beta, provider: second, model: beta-v2, durations: [5, 10], aspect_ratios: ["16:9", "9:16"], image_input: true }
  - { id: chatty, label: Chatty, provider: relay, model: relay-v3, durations: [5, 10, 15], aspect_ratios: ["16:9", "9:16"], image_input: true }
  - { id: gone, label: Gone, provider: first, model: gone-v0, durations: [4, 8], aspect_ratios: ["16:9", "9:16"], image_input: true, fallback: [chatty, beta] }
  - { id: offline, label: Offline, provider: offline, model: offline-v1, durations: [4, 8], aspect_ratios: ["16:9"], image_input: true, fallback: [beta] }
`;
}

let first: FakeVideosApi;
let second: FakeVideosApi;
let relay: FakeVideoService;
let bot: TestBot;
let dir: string;

beforeAll(async () => {
  first = await startFakeVideosApi({ apiKey: KEYS.FIRST_KEY });
  second = await startFakeVideosApi({ apiKey: KEYS.SECOND_KEY });
  relay = await startFakeVideoService();
  dir = await mkdtemp(path.join(tmpdir(), 'sora-bot-catalogue-'));
  const file = path.join(dir, 'models.yaml');
  await writeFile(
    file,
    catalogueText({
      first: first.apiUrl,
      second: second.apiUrl,
      relay: relay.apiUrl,
      offline: await unusedPortUrl(),
    }),
  );
  bot = await startTestBot({
    service: relay,
    env: {
      MODELS_FILE: file,
      SORA_API_KEY: '',
      ...KEYS,
      SORA_POLL_INTERVAL_MS: '50',
      DEFAULT_MEMBER_LIMIT: '1000',
    },
  });
});
afterAll(async () => {
  await bot?.close();
  await first?.close();
  await second?.close();
  await rm(dir, { recursive: true, force: true });
});
beforeEach(() => {
  first.reset({ queuedMs: 50, processingMs: 200 });
  second.reset({ queuedMs: 50, processingMs: 200 });
  relay.requests.length = 0;
});

interface Outcome {
  final: APIMessage;
  jobId: string;
  state: unknown;
  charged: number;
}

async function videoJob(ask: { prompt: string; model?: string; duration?: number }): Promise<Outcome> {
  const before = await usageOf(bot.discord);
  const ix: FakeInteraction = bot.discord.slashCommand({ name: 'video', options: videoOptions(ask) });
  const final = await bot.discord.waitForOriginal(ix, isFinal, { timeoutMs: 20_000 });
  const jobId = jobIdOf(final);
  const finished = await waitForJobFinished(bot.logs, jobId);
  const after = await usageOf(bot.discord);
  return { final, jobId, state: finished.state, charged: after.used - before.used };
}

/** Every call a Videos API stand-in had carried its own key (none came with another's, or none). */
function expectOnlyOwnKey(api: FakeVideosApi): void {
  expect(api.requests.every((request) => request.authorized)).toBe(true);
}

describe('a catalogue of several providers', () => {
  it('a member picks each model: the create reaches its provider, under its own model name, with that key only', async () => {
    const alpha = await videoJob({ prompt: 'a lighthouse at dusk', model: 'alpha' });
    expect(alpha.final.content).toContain(READY);
    expect(alpha.charged).toBe(1);
    expect(first.creates.map((create) => create.fields.model)).toEqual(['alpha-v1']);
    expect(second.creates).toHaveLength(0);

    const beta = await videoJob({ prompt: 'a paper boat in the rain', model: 'beta' });
    expect(beta.final.content).toContain(READY);
    expect(second.creates.map((create) => create.fields.model)).toEqual(['beta-v2']);

    const chatty = await videoJob({ prompt: 'a fox in the snow', model: 'chatty' });
    expect(chatty.final.content).toContain(READY);
    expect(relay.requests.map((request) => request.body.model)).toEqual(['relay-v3']);
    expect(relay.requests.map((request) => request.headers.authorization)).toEqual([
      `Bearer ${KEYS.RELAY_KEY}`,
    ]);

    expect(first.creates).toHaveLength(1);
    expectOnlyOwnKey(first);
    expectOnlyOwnKey(second);
    const seen = [bot.logs.join('\n'), bot.discord.requests.map(requestTextWithoutAuth).join('\n')].join(
      '\n',
    );
    for (const key of Object.values(KEYS)) expect(seen).not.toContain(key);
  });

  it('without a pick, the catalogue default makes the video', async () => {
    const outcome = await videoJob({ prompt: 'a quiet harbour' });

    expect(outcome.final.content).toContain(READY);
    expect(first.creates.map((create) => create.fields.model)).toEqual(['alpha-v1']);
  });
});

describe('fallback', () => {
  it('a create refused as "model does not exist" moves to the next model that can do it, delivered, and the reply says which and why; Regenerate asks that model', async () => {
    first.failNext('create', {
      status: 404,
      message: 'The model `gone-v0` does not exist.',
      code: 'model_not_found',
    });
    const outcome = await videoJob({ prompt: 'a hummingbird', model: 'gone', duration: 8 });

    expect(outcome.final.content).toContain(READY);
    expect(outcome.state).toBe('delivered');
    expect(outcome.charged).toBe(1);
    // The first of gone's fallbacks that can make it: chatty, which makes 5/10/15 s, so 8 s snaps to 10.
    expect(relay.requests.map((request) => request.body.model)).toEqual(['relay-v3']);
    expect(second.creates).toHaveLength(0);
    expect(outcome.final.content).toContain('Made with chatty: gone is not available at its video service.');
    expect(outcome.final.content).toContain('chatty makes 10 s videos, not 8 s.');
    const [moved] = logsOfJob(bot.logs, outcome.jobId, 'model_fallback');
    expect(moved).toMatchObject({ from: 'gone', to: 'chatty', why: 'model_unavailable', status: 404 });
    // One create at the gone model's provider, refused; never sent there again.
    expect(first.count('create')).toBe(1);

    // Regenerate asks the model that made it: nothing falls back, so nothing says so.
    const click = bot.discord.clickButton({
      message: outcome.final,
      customId: customIdOf(outcome.final, 'Regenerate'),
    });
    const again = await bot.discord.waitForOriginal(click, isFinal, { timeoutMs: 20_000 });
    expect(again.content).toContain(READY);
    expect(again.content).not.toContain('Made with');
    expect(relay.requests.map((request) => request.body.model)).toEqual(['relay-v3', 'relay-v3']);
    expect(first.count('create')).toBe(1);
  });

  it('a provider that cannot be reached before anything was created: the next model makes it', async () => {
    const outcome = await videoJob({ prompt: 'a windmill', model: 'offline' });

    expect(outcome.final.content).toContain(READY);
    expect(second.creates.map((create) => create.fields.model)).toEqual(['beta-v2']);
    expect(outcome.final.content).toContain(
      'Made with beta: the video service of offline could not be reached.',
    );
    const [moved] = logsOfJob(bot.logs, outcome.jobId, 'model_fallback');
    expect(moved).toMatchObject({ from: 'offline', to: 'beta', why: 'unreachable' });
  });

  it('never after a create was accepted: a job that fails at its provider fails, with no second create', async () => {
    first.scriptNextJob({ outcome: { code: 'internal_error', message: 'The render crashed.' } });
    const outcome = await videoJob({ prompt: 'a falling leaf', model: 'alpha' });

    expect(outcome.final.content).toContain(FAILED);
    expect(outcome.charged).toBe(0);
    expect(first.count('create')).toBe(1);
    expect(second.creates).toHaveLength(0);
    expect(logsOfJob(bot.logs, outcome.jobId, 'model_fallback')).toHaveLength(0);
  });
});

/** Starts the bot on a catalogue file, as an operator would, and reads the problems it stops with. */
async function startWithCatalogue(
  file: string,
): Promise<{ code: number | null; output: string; problems: string[]; lines: string[] }> {
  const bot = spawnBotProcess({
    PATH: process.env.PATH,
    DISCORD_TOKEN: 'discord-token-SECRET-value',
    DISCORD_API_URL: 'http://127.0.0.1:9/api',
    MODELS_FILE: file,
    FIRST_KEY: KEYS.FIRST_KEY,
  });
  const { code } = await bot.exited;
  const output = bot.stderr.join('');
  const problems = output
    .split('\n')
    .filter((line) => line.startsWith('  - '))
    .map((line) => line.slice(4));
  return { code, output, problems, lines: bot.lines };
}

describe('a catalogue with mistakes', () => {
  afterEach(killBotProcesses);

  it('a wrong field stops the bot at start with its line, naming the model and the field, and no key', async () => {
    const file = path.join(dir, 'bad.yaml');
    await writeFile(
      file,
      `
default: missing
providers:
  first: { shape: openai-videos, variant: openrouter, base_url: https://gateway.example/v1, api_key_env: FIRST_KEY }
  fal: { shape: fal-queue, variant: openrouter, base_url: https://queue.fal.run, api_key_env: UNSET_KEY }
models:
  - { id: alpha, provider: first, model: a, durations: [4], aspect_ratios: ["16:9"], fallback: [nowhere] }
  - { id: beta, provider: nobody, model: b, durations: [4], aspect_ratios: ["4:3"] }
`,
    );
    const { code, output, problems } = await startWithCatalogue(file);

    expect(code).toBe(1);
    expect(problems.sort()).toEqual(
      ['MODELS_FILE model "beta" aspect_ratios[0]: must each be one of 16:9, 9:16, 1:1'].sort(),
    );
    expect(output).not.toContain('SECRET');
  });

  it('names every cross-check problem at once when each entry is well formed', async () => {
    const file = path.join(dir, 'crossed.yaml');
    await writeFile(
      file,
      `
default: missing
providers:
  first: { shape: openai-videos, base_url: https://gateway.example/v1, api_key_env: FIRST_KEY }
  fal: { shape: fal-queue, variant: openrouter, base_url: https://queue.fal.run, api_key_env: UNSET_KEY }
models:
  - { id: alpha, provider: first, model: a, durations: [4], aspect_ratios: ["16:9"], fallback: [nowhere] }
  - { id: beta, provider: nobody, model: b, durations: [4], aspect_ratios: ["16:9"] }
`,
    );
    const { code, output, problems, lines } = await startWithCatalogue(file);

    expect(code).toBe(1);
    expect(problems.sort()).toEqual(
      [
        'MODELS_FILE provider "fal" variant: only an openai-videos provider has a variant',
        'MODELS_FILE provider "fal" api_key_env: the environment variable UNSET_KEY is not set',
        'MODELS_FILE model "alpha" fallback: "nowhere" is not a model id of this catalogue',
        'MODELS_FILE model "beta" provider: "nobody" is not under providers',
        'MODELS_FILE default: "missing" is not a model id of this catalogue',
      ].sort(),
    );
    expect(output).not.toContain('SECRET');
    expect(lines.some((line) => line.includes('bot_ready'))).toBe(false);
  });
});

describe('a restart mid-job with a catalogue', () => {
  afterEach(killBotProcesses);

  /** A job of `alpha` killed mid-way, then the bot started again with `after` as its catalogue. */
  async function killedMidJob(after: (api: FakeVideosApi) => string) {
    const discord = await startFakeDiscord();
    const api = await startFakeVideosApi({
      apiKey: KEYS.FIRST_KEY,
      defaults: { queuedMs: 200, processingMs: 6_000 },
    });
    const dataDir = await mkdtemp(path.join(tmpdir(), 'sora-bot-catalogue-restart-'));
    const models = path.join(dataDir, 'models.yaml');
    const provider = `providers:\n  first: { shape: openai-videos, base_url: "${api.apiUrl}", api_key_env: FIRST_KEY }\n`;
    const model = (id: string) =>
      `  - { id: ${id}, provider: first, model: ${id}-v1, durations: [4, 8], aspect_ratios: ["16:9", "9:16"] }\n`;
    await writeFile(models, `${provider}models:\n${model('alpha')}${model('beta')}`);
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DISCORD_TOKEN: discord.botToken,
      DISCORD_API_URL: discord.apiUrl,
      MODELS_FILE: models,
      FIRST_KEY: KEYS.FIRST_KEY,
      DATA_DIR: dataDir,
      ALLOW_PRIVATE_VIDEO_URLS: 'true',
      PROGRESS_EDIT_INTERVAL_MS: '250',
      SORA_POLL_INTERVAL_MS: '50',
      SHUTDOWN_GRACE_MS: '200',
      PROCESS_LEASE_MS: '1500',
      DEFAULT_MEMBER_LIMIT: '1000',
      LOG_LEVEL: 'debug',
    };
    const cleanUp = async () => {
      await killBotProcesses();
      await discord.close();
      await api.close();
      await rm(dataDir, { recursive: true, force: true });
    };
    try {
      const firstRun = await startBotProcess(discord, env);
      const before = await usageOf(discord);
      const ix = discord.slashCommand({
        name: 'video',
        options: videoOptions({ prompt: 'a kite', model: 'alpha' }),
      });
      const progress = await discord.waitForOriginal(ix, (message) => /\d+%/.test(message.content), {
        timeoutMs: 20_000,
      });
      expect(api.creates.map((create) => create.fields.model)).toEqual(['alpha-v1']);
      firstRun.child.kill('SIGKILL');
      await firstRun.exited;

      await writeFile(models, after(api));
      const secondRun = await startBotProcess(discord, env);
      const final = await discord.waitForOriginal(ix, isFinal, { timeoutMs: 40_000 });
      expect(jobIdOf(final)).toBe(jobIdOf(progress));
      const finished = await waitForJobFinished(secondRun.lines, jobIdOf(final));
      return { api, final, finished, charged: (await usageOf(discord)).used - before.used, cleanUp };
    } catch (error) {
      await cleanUp();
      throw error;
    }
  }

  it('the recorded model id brings the job back to its provider: resumed, one create, delivered, charged once', {
    timeout: 90_000,
  }, async () => {
    const outcome = await killedMidJob(
      (api) =>
        `providers:\n  first: { shape: openai-videos, base_url: "${api.apiUrl}", api_key_env: FIRST_KEY }\nmodels:\n  - { id: alpha, provider: first, model: alpha-v1, durations: [4, 8], aspect_ratios: ["16:9"] }\n`,
    );
    try {
      expect(outcome.final.content).toContain(READY);
      expect(outcome.finished.state).toBe('delivered');
      expect(outcome.api.count('create')).toBe(1);
      expect(outcome.charged).toBe(1);
    } finally {
      await outcome.cleanUp();
    }
  });

  it('a recorded job whose model left the catalogue is settled as interrupted, said why, not charged, never re-created', {
    timeout: 90_000,
  }, async () => {
    const outcome = await killedMidJob(
      (api) =>
        `providers:\n  first: { shape: openai-videos, base_url: "${api.apiUrl}", api_key_env: FIRST_KEY }\nmodels:\n  - { id: beta, provider: first, model: beta-v1, durations: [4, 8], aspect_ratios: ["16:9"] }\n`,
    );
    try {
      expect(outcome.final.content).toContain('**Interrupted**');
      expect(outcome.final.content).toContain('The model alpha is no longer offered by this bot');
      expect(outcome.finished.state).toBe('interrupted');
      expect(outcome.api.count('create')).toBe(1);
      expect(outcome.charged).toBe(0);
    } finally {
      await outcome.cleanUp();
    }
  });
});
