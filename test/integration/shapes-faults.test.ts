import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { APIMessage } from 'discord-api-types/v10';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type FakeDiscord,
  type FakeInteraction,
  startFakeDiscord,
} from '../fakes/fake-discord/fake-discord.ts';
import { FAL_CONTENT_POLICY, type FakeFal, startFakeFal } from '../fakes/fake-fal.ts';
import { type FakeGemini, startFakeGemini } from '../fakes/fake-gemini.ts';
import type { SeenRequest } from '../fakes/fake-http-kit.ts';
import { type FakeOpenRouter, startFakeOpenRouter } from '../fakes/fake-openrouter.ts';
import { type FakeReplicate, startFakeReplicate } from '../fakes/fake-replicate.ts';
import { type FakeVideosApi, startFakeVideosApi } from '../fakes/fake-videos-api.ts';
import { killBotProcesses, startBotProcess } from '../harness/bot-process.ts';
import {
  customIdOf,
  jobIdOf,
  labelsOf,
  requestTextWithoutAuth,
  usageOf,
  waitForJobFinished,
} from '../harness/fault-kit.ts';
import { PNG_BYTES, startTestBot, type TestBot, videoOptions } from '../harness/test-bot.ts';

/**
 * Each provider shape of the catalogue through the real bot and the fake Discord: one model per
 * shape (fal's queue, Replicate, Gemini's Veo, OpenRouter's Videos variant, OpenAI Videos), each on its own
 * stand-in with its own key. The suite is a table: every shape is one row of parameters (how its
 * stand-in is driven and read, what its fields must carry), and every test runs for every row.
 * The OpenAI Videos shape (a gateway such as new-api) is a row too; the chat relay streams instead
 * of keeping a job to poll, and has its own suites (faults, catalogue-faults).
 */

const READY = 'Your video is ready';
const FAILED = 'could not be made';
const CANCELLED = '**Cancelled**';
const CONTENT_RULES = /content (filter|rules) blocked this video/;
const isFinal = (message: APIMessage) =>
  [READY, FAILED, CANCELLED, '**Interrupted**'].some((text) => message.content.includes(text));
const IMAGE = { filename: 'cat.png', contentType: 'image/png', bytes: PNG_BYTES };
/** Long enough to press Cancel or kill the bot while the service is still making the video. */
const SLOW_MS = 8_000;

/** One create as a shape's stand-in received it, read back into the bot's terms. */
interface SentCreate {
  /** The provider's name of the model the create went to. */
  model: string;
  /** The starting image as the shape carries it (a URL, or base64 bytes); undefined when none. */
  image: unknown;
  duration: unknown;
  aspectRatio: unknown;
}

/** What the suite needs of a stand-in, the same for every shape. */
interface StandIn {
  baseUrl: string;
  key: string;
  seen: readonly SeenRequest[];
  reset(): void;
  creates(): SentCreate[];
  /** The service's id of the latest job made. */
  lastJobId(): string | undefined;
  /** Status/result polls of one job. */
  polls(jobId: string): number;
  /** Calls of the shape's cancel route for one job; undefined for a shape without one. */
  cancels(jobId: string): number | undefined;
  /** The next job takes `SLOW_MS` at the service. */
  slowNext(): void;
  /** The next job fails at the service. */
  failNext(): void;
  /** The next job is refused by the service's content rules, the shape's own way; absent: none. */
  blockNext?(): void;
  /** The next job waits behind `ahead` others for `ms` at the service (a shape that gives places). */
  queueNext?(ahead: number, ms: number): void;
  close(): Promise<void>;
}

interface ShapeRow {
  shape: string;
  /** The catalogue model of this shape. */
  id: string;
  keyEnv: string;
  start(): Promise<StandIn>;
  provider(baseUrl: string): string;
  model: string;
  /** The name the create goes to with an image, when the model has a separate image model. */
  imageModel?: string;
  /** A choice the model offers (not its default) and how the shape's fields must carry it. */
  ask: { duration: number; aspectRatio: string };
  sent: { duration: unknown; aspectRatio: unknown };
  /** How the image travels: its URL, or its bytes in base64. */
  imageAs: 'url' | 'bytes';
  /**
   * The service marks a content refusal its own way (fal, Replicate, Gemini), so the bot words it;
   * the Videos API shapes pass on the service's own words (videos-api and OpenRouter suites).
   */
  blocks: boolean;
}

function falStandIn(fal: FakeFal): StandIn {
  return {
    baseUrl: fal.baseUrl,
    key: fal.apiKey,
    seen: fal.seen,
    reset: () => fal.reset({ queuedMs: 100, queueAhead: 2, processingMs: 150 }),
    creates: () =>
      fal.creates.map((create) => ({
        model: create.modelPath,
        image: create.body.start_image_url,
        duration: create.body.duration,
        aspectRatio: create.body.aspect_ratio,
      })),
    lastJobId: () => fal.creates.at(-1)?.requestId,
    polls: (id) => fal.count('status', id) + fal.count('result', id),
    cancels: (id) => fal.count('cancel', id),
    slowNext: () => fal.scriptNextRequest({ queuedMs: 100, processingMs: SLOW_MS }),
    failNext: () =>
      fal.scriptNextRequest({
        outcome: {
          status: 500,
          detail: [{ loc: [], msg: 'The render crashed.', type: 'internal_server_error' }],
        },
      }),
    blockNext: () => fal.scriptNextRequest({ outcome: FAL_CONTENT_POLICY }),
    queueNext: (ahead, ms) => fal.scriptNextRequest({ queueAhead: ahead, queuedMs: ms, processingMs: 150 }),
    close: () => fal.close(),
  };
}

function replicateStandIn(replicate: FakeReplicate): StandIn {
  const inputOf = (body: Record<string, unknown>) => (body.input ?? {}) as Record<string, unknown>;
  return {
    baseUrl: replicate.baseUrl,
    key: replicate.apiKey,
    seen: replicate.seen,
    reset: () => replicate.reset({ startingMs: 100, processingMs: 150 }),
    creates: () =>
      replicate.creates.map((create) => ({
        model: create.model,
        image: inputOf(create.body).image,
        duration: inputOf(create.body).duration,
        aspectRatio: inputOf(create.body).aspect_ratio,
      })),
    lastJobId: () => replicate.creates.at(-1)?.predictionId,
    polls: (id) => replicate.count('poll', id),
    cancels: (id) => replicate.count('cancel', id),
    slowNext: () => replicate.scriptNextPrediction({ startingMs: 100, processingMs: SLOW_MS }),
    failNext: () => replicate.scriptNextPrediction({ outcome: { error: 'The render crashed.' } }),
    blockNext: () => replicate.scriptNextPrediction({ outcome: { error: 'NSFW content detected.' } }),
    close: () => replicate.close(),
  };
}

function geminiStandIn(google: FakeGemini): StandIn {
  return {
    baseUrl: google.baseUrl,
    key: google.apiKey,
    seen: google.seen,
    reset: () => google.reset({ processingMs: 250 }),
    creates: () =>
      google.creates.map((create) => ({
        model: create.model,
        image: (create.body.instances?.[0]?.image as { bytesBase64Encoded?: string } | undefined)
          ?.bytesBase64Encoded,
        duration: create.body.parameters?.durationSeconds,
        aspectRatio: create.body.parameters?.aspectRatio,
      })),
    lastJobId: () => google.creates.at(-1)?.operation,
    polls: (name) =>
      google.requests.filter((request) => request.call === 'poll' && request.operation === name).length,
    cancels: () => undefined,
    slowNext: () => google.scriptNextOperation({ processingMs: SLOW_MS }),
    failNext: () =>
      google.scriptNextOperation({ outcome: { error: { code: 13, message: 'The render crashed.' } } }),
    blockNext: () =>
      google.scriptNextOperation({
        outcome: { filtered: ['The video was blocked by our safety filters.'] },
      }),
    close: () => google.close(),
  };
}

function openRouterStandIn(router: FakeOpenRouter): StandIn {
  return {
    baseUrl: router.baseUrl,
    key: router.apiKey,
    seen: router.seen,
    reset: () => router.reset({ queuedMs: 100, processingMs: 150 }),
    creates: () =>
      router.creates.map((create) => {
        const frames = create.body.frame_images as Array<{ image_url?: { url?: string } }> | undefined;
        return {
          model: String(create.body.model),
          image: frames?.[0]?.image_url?.url,
          duration: create.body.duration,
          aspectRatio: create.body.aspect_ratio,
        };
      }),
    lastJobId: () => router.creates.at(-1)?.jobId,
    polls: (id) =>
      router.requests.filter((request) => request.call === 'poll' && request.jobId === id).length,
    cancels: () => undefined,
    slowNext: () => router.scriptNextJob({ queuedMs: 100, processingMs: SLOW_MS }),
    failNext: () => router.scriptNextJob({ end: { failed: 'The render crashed.' } }),
    close: () => router.close(),
  };
}

function videosApiStandIn(api: FakeVideosApi): StandIn {
  return {
    baseUrl: api.apiUrl,
    key: api.apiKey,
    seen: api.seen,
    reset: () => api.reset({ queuedMs: 100, processingMs: 150 }),
    creates: () =>
      api.creates.map((create) => ({
        model: String(create.fields.model),
        image: create.image ? create.image.bytes.toString('base64') : create.imageUrl,
        duration: create.fields.seconds,
        aspectRatio: create.fields.size,
      })),
    lastJobId: () => api.creates.at(-1)?.jobId,
    polls: (id) => api.count('poll', id),
    cancels: () => undefined,
    slowNext: () => api.scriptNextJob({ queuedMs: 100, processingMs: SLOW_MS }),
    failNext: () =>
      api.scriptNextJob({ outcome: { code: 'internal_error', message: 'The render crashed.' } }),
    blockNext: () =>
      api.scriptNextJob({ outcome: { code: 'moderation_blocked', message: 'Blocked by moderation.' } }),
    close: () => api.close(),
  };
}

const ROWS: ShapeRow[] = [
  {
    shape: 'fal-queue',
    id: 'kling',
    keyEnv: 'FAL_KEY',
    start: async () => falStandIn(await startFakeFal({ apiKey: 'fal-key-SECRET-0001' })),
    provider: (base) => `{ shape: fal-queue, base_url: "${base}", api_key_env: FAL_KEY }`,
    model: 'fal-ai/kling-video/v3/standard/text-to-video',
    imageModel: 'fal-ai/kling-video/v3/standard/image-to-video',
    ask: { duration: 10, aspectRatio: '9:16' },
    sent: { duration: '10', aspectRatio: '9:16' },
    imageAs: 'url',
    blocks: true,
  },
  {
    shape: 'replicate',
    id: 'wan',
    keyEnv: 'REPLICATE_API_TOKEN',
    start: async () => replicateStandIn(await startFakeReplicate({ apiKey: 'r8_SECRET-0002' })),
    provider: (base) => `{ shape: replicate, base_url: "${base}", api_key_env: REPLICATE_API_TOKEN }`,
    model: 'wan-video/wan-2.5-t2v',
    imageModel: 'wan-video/wan-2.5-i2v',
    ask: { duration: 10, aspectRatio: '1:1' },
    sent: { duration: 10, aspectRatio: '1:1' },
    imageAs: 'url',
    blocks: true,
  },
  {
    shape: 'gemini',
    id: 'veo',
    keyEnv: 'GEMINI_API_KEY',
    start: async () => geminiStandIn(await startFakeGemini({ apiKey: 'AIza-SECRET-0003' })),
    provider: (base) => `{ shape: gemini, base_url: "${base}", api_key_env: GEMINI_API_KEY }`,
    model: 'veo-3.1-fast-generate-preview',
    ask: { duration: 6, aspectRatio: '9:16' },
    sent: { duration: 6, aspectRatio: '9:16' },
    imageAs: 'bytes',
    blocks: true,
  },
  {
    shape: 'openai-videos (openrouter)',
    id: 'seedance',
    keyEnv: 'OPENROUTER_KEY',
    start: async () => openRouterStandIn(await startFakeOpenRouter({ apiKey: 'sk-or-SECRET-0004' })),
    provider: (base) =>
      `{ shape: openai-videos, variant: openrouter, base_url: "${base}", api_key_env: OPENROUTER_KEY }`,
    model: 'bytedance/seedance-2.0',
    ask: { duration: 10, aspectRatio: '1:1' },
    sent: { duration: 10, aspectRatio: '1:1' },
    imageAs: 'url',
    blocks: false,
  },
  {
    shape: 'openai-videos',
    id: 'hailuo',
    keyEnv: 'GATEWAY_KEY',
    start: async () => videosApiStandIn(await startFakeVideosApi({ apiKey: 'sk-gateway-SECRET-0005' })),
    provider: (base) => `{ shape: openai-videos, base_url: "${base}", api_key_env: GATEWAY_KEY }`,
    model: 'MiniMax-Hailuo-2.3',
    ask: { duration: 8, aspectRatio: '9:16' },
    sent: { duration: '8', aspectRatio: '720x1280' },
    imageAs: 'bytes',
    blocks: false,
  },
];

const DURATIONS: Record<string, string> = {
  kling: '[5, 10]',
  wan: '[5, 10]',
  veo: '[4, 6, 8]',
  seedance: '[5, 10]',
  hailuo: '[4, 8, 12]',
};
const ASPECT_RATIOS: Record<string, string> = {
  kling: '["16:9", "9:16", "1:1"]',
  wan: '["16:9", "9:16", "1:1"]',
  veo: '["16:9", "9:16"]',
  seedance: '["16:9", "9:16", "1:1"]',
  hailuo: '["16:9", "9:16"]',
};

const standIns = new Map<string, StandIn>();
const standInOf = (row: ShapeRow): StandIn => standIns.get(row.id) as StandIn;

function catalogueText(): string {
  const providers = ROWS.map((row) => `  ${row.id}: ${row.provider(standInOf(row).baseUrl)}`);
  const models = ROWS.map((row) => {
    const image = row.imageModel ? `, image_model: ${row.imageModel}` : '';
    const rename = row.shape === 'fal-queue' ? ', input: { image: start_image_url }' : '';
    return `  - { id: ${row.id}, label: ${row.id}, provider: ${row.id}, model: ${row.model}${image}${rename}, durations: ${DURATIONS[row.id]}, aspect_ratios: ${ASPECT_RATIOS[row.id]}, image_input: true }`;
  });
  // A model Google no longer has (the Gemini stand-in answers 404 NOT_FOUND), falling back to fal's.
  models.push(
    '  - { id: veo-retired, label: Veo retired, provider: veo, model: veo-2.0-generate-001, durations: [5, 8], aspect_ratios: ["16:9"], image_input: true, fallback: [kling] }',
  );
  return `default: ${ROWS[0]?.id}\nproviders:\n${providers.join('\n')}\nmodels:\n${models.join('\n')}\n`;
}

function keysEnv(): Record<string, string> {
  return Object.fromEntries(ROWS.map((row) => [row.keyEnv, standInOf(row).key]));
}

let bot: TestBot;
let dir: string;
let modelsFile: string;

beforeAll(async () => {
  for (const row of ROWS) standIns.set(row.id, await row.start());
  dir = await mkdtemp(path.join(tmpdir(), 'sora-bot-shapes-'));
  modelsFile = path.join(dir, 'models.yaml');
  await writeFile(modelsFile, catalogueText());
  bot = await startTestBot({
    env: {
      MODELS_FILE: modelsFile,
      SORA_API_KEY: '',
      ...keysEnv(),
      SORA_POLL_INTERVAL_MS: '50',
      DEFAULT_MEMBER_LIMIT: '1000',
    },
  });
});
afterAll(async () => {
  await bot?.close();
  for (const standIn of standIns.values()) await standIn.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});
beforeEach(() => {
  for (const standIn of standIns.values()) standIn.reset();
});

interface VideoAsk {
  prompt: string;
  model: string;
  duration?: number;
  aspectRatio?: string;
  image?: boolean;
}

function askForVideo(discord: FakeDiscord, ask: VideoAsk): FakeInteraction {
  return discord.slashCommand({
    name: 'video',
    options: videoOptions(ask),
    attachments: ask.image ? [IMAGE] : undefined,
  });
}

interface Outcome {
  final: APIMessage;
  jobId: string;
  state: unknown;
  charged: number;
}

/**
 * `/video` to its final reply and its `job_finished` line, with what it added to /usage. `known`:
 * the job's id, for a final reply without a button that carries it (Cancelled).
 */
async function settle(ix: FakeInteraction, before: number, known?: string): Promise<Outcome> {
  const final = await bot.discord.waitForOriginal(ix, isFinal, { timeoutMs: 25_000 });
  const jobId = known ?? jobIdOf(final);
  const finished = await waitForJobFinished(bot.logs, jobId);
  const after = await usageOf(bot.discord);
  expect(after.running).toBe(0);
  return { final, jobId, state: finished.state, charged: after.used - before };
}

async function videoJob(ask: VideoAsk): Promise<Outcome> {
  const before = (await usageOf(bot.discord)).used;
  return settle(askForVideo(bot.discord, ask), before);
}

function expectDelivered(outcome: Outcome): void {
  expect(outcome.final.content).toContain(READY);
  expect(outcome.final.attachments.map((file) => file.filename)).toEqual([`sora-${outcome.jobId}.mp4`]);
  expect(outcome.state).toBe('delivered');
  expect(outcome.charged).toBe(1);
}

/** Resolves once the service has the job and was polled for it: its id is recorded by then. */
async function waitUntilFollowed(
  standIn: StandIn,
  discord: FakeDiscord,
  ix: FakeInteraction,
): Promise<string> {
  // Each edit of the reply is a moment to look again; the job's first edits come with its polls.
  let jobId: string | undefined;
  await discord.waitForOriginal(
    ix,
    () => {
      jobId = standIn.lastJobId();
      return jobId !== undefined && standIn.polls(jobId) >= 2;
    },
    { timeoutMs: 20_000 },
  );
  return jobId as string;
}

describe.each(ROWS)('$shape', (row) => {
  it('image and prompt: the image reaches the create in the field of the shape, the video is delivered and charged once', async () => {
    const standIn = standInOf(row);
    const outcome = await videoJob({ prompt: 'a cat on a windowsill', model: row.id, image: true });

    expectDelivered(outcome);
    const [create, ...more] = standIn.creates();
    expect(more).toEqual([]);
    expect(create?.model).toBe(row.imageModel ?? row.model);
    if (row.imageAs === 'bytes') {
      expect(Buffer.from(String(create?.image), 'base64').equals(PNG_BYTES)).toBe(true);
    } else {
      expect(String(create?.image)).toMatch(/^https?:\/\/.*cat\.png/);
    }
  });

  it('text only: the create goes to the text model without an image field', async () => {
    const standIn = standInOf(row);
    const outcome = await videoJob({ prompt: 'a lighthouse at dusk', model: row.id });

    expectDelivered(outcome);
    const creates = standIn.creates();
    expect(creates.map((create) => create.model)).toEqual([row.model]);
    expect(creates[0]?.image).toBeUndefined();
  });

  it('the length and frame the member picks from the model reach the fields of the shape', async () => {
    const standIn = standInOf(row);
    const outcome = await videoJob({ prompt: 'a tall tower', model: row.id, ...row.ask });

    expectDelivered(outcome);
    const [create] = standIn.creates();
    expect({ duration: create?.duration, aspectRatio: create?.aspectRatio }).toEqual(row.sent);
  });

  it('a job that fails at the service is shown as failed and not charged', async () => {
    const standIn = standInOf(row);
    standIn.failNext();
    const outcome = await videoJob({ prompt: 'a falling leaf', model: row.id });

    expect(outcome.final.content).toContain(FAILED);
    expect(outcome.state).toBe('failed');
    expect(outcome.charged).toBe(0);
    expect(standIn.creates()).toHaveLength(1);
    expect(labelsOf(outcome.final)).toContain('Retry');
  });

  it('Cancel stops the job at the service: its cancel route where it has one, and no poll after', async () => {
    const standIn = standInOf(row);
    standIn.slowNext();
    const before = (await usageOf(bot.discord)).used;
    const ix = askForVideo(bot.discord, { prompt: 'a long train', model: row.id });
    const serviceJobId = await waitUntilFollowed(standIn, bot.discord, ix);
    const running = await bot.discord.waitForOriginal(ix, (message) => labelsOf(message).includes('Cancel'));
    bot.discord.clickButton({ message: running, customId: customIdOf(running, 'Cancel') });
    const outcome = await settle(ix, before, jobIdOf(running));

    expect(outcome.final.content).toContain(CANCELLED);
    expect(outcome.state).toBe('cancelled');
    expect(outcome.charged).toBe(0);
    const cancels = standIn.cancels(serviceJobId);
    if (cancels !== undefined) expect(cancels).toBe(1);
    const pollsAtEnd = standIn.polls(serviceJobId);
    // Another whole job on the same service: time for any poll the cancelled one still had in it.
    expectDelivered(await videoJob({ prompt: 'a short clip', model: row.id }));
    expect(standIn.polls(serviceJobId)).toBe(pollsAtEnd);
    expect(standIn.creates()).toHaveLength(2);
  });

  it('the provider key reaches only its own stand-in, and no stand-in, log or Discord message ever sees another', async () => {
    const standIn = standInOf(row);
    expectDelivered(await videoJob({ prompt: 'a fox in the snow', model: row.id, image: true }));

    // Every call to the service's own API came with its own key (files come from storage, without).
    const own = JSON.stringify(standIn.seen);
    expect(own).toContain(standIn.key);
    const keys = [...standIns.values()].map((each) => each.key);
    for (const other of standIns.values()) {
      const seen = JSON.stringify(other.seen);
      for (const key of keys) if (key !== other.key) expect(seen).not.toContain(key);
    }
    const shown = [bot.logs.join('\n'), bot.discord.requests.map(requestTextWithoutAuth).join('\n')].join(
      '\n',
    );
    for (const key of keys) expect(shown).not.toContain(key);
  });
});

describe.each(ROWS.filter((row) => row.blocks))('$shape content rules', (row) => {
  it('a video the service refuses under its content rules says so clearly and is not charged', async () => {
    const standIn = standInOf(row);
    standIn.blockNext?.();
    const outcome = await videoJob({ prompt: 'something it will not make', model: row.id });

    expect(outcome.final.content).toContain(FAILED);
    expect(outcome.final.content).toMatch(CONTENT_RULES);
    expect(outcome.state).toBe('failed');
    expect(outcome.charged).toBe(0);
  });
});

describe('the queue of the video service', () => {
  it('the place fal gives in its own queue shows in the reply and follows it, apart from the line of the bot', async () => {
    const fal = ROWS.find((row) => row.shape === 'fal-queue') as ShapeRow;
    // Three ahead at submission, one fewer every 1.5 s: the member is third, then second, in line there.
    standInOf(fal).queueNext?.(3, 4_500);
    const before = (await usageOf(bot.discord)).used;
    const ix = askForVideo(bot.discord, { prompt: 'a busy day', model: fal.id });

    const third = await bot.discord.waitForOriginal(ix, (message) =>
      message.content.includes('**#3** in line at the video service'),
    );
    expect(third.content).not.toContain('Waiting for a free slot');
    await bot.discord.waitForOriginal(ix, (message) =>
      message.content.includes('**#2** in line at the video service'),
    );
    expectDelivered(await settle(ix, before));
  });
});

describe('a model gone at its service', () => {
  it('a Gemini model answered 404 NOT_FOUND falls back to the fal model of its list, which makes it, and the reply says so', async () => {
    const gemini = standInOf(ROWS.find((row) => row.shape === 'gemini') as ShapeRow);
    const fal = standInOf(ROWS.find((row) => row.shape === 'fal-queue') as ShapeRow);
    const outcome = await videoJob({ prompt: 'an old film', model: 'veo-retired', duration: 8 });

    expectDelivered(outcome);
    expect(gemini.creates().map((create) => create.model)).toEqual(['veo-2.0-generate-001']);
    // fal's model makes 5 or 10 s: the 8 s asked becomes 10, and the member is told.
    expect(fal.creates().map((create) => create.duration)).toEqual(['10']);
    expect(outcome.final.content).toContain(
      'Made with kling: veo-retired is not available at its video service.',
    );
    expect(outcome.final.content).toContain('kling makes 10 s videos, not 8 s.');
  });
});

describe.each(ROWS)('$shape after a restart', (row) => {
  afterEach(killBotProcesses);

  it('killed (SIGKILL) mid-job and started again: resumed from the recorded id, one create, delivered, charged once', {
    timeout: 90_000,
  }, async () => {
    const standIn = standInOf(row);
    const discord = await startFakeDiscord();
    const dataDir = await mkdtemp(path.join(tmpdir(), 'sora-bot-shapes-restart-'));
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DISCORD_TOKEN: discord.botToken,
      DISCORD_API_URL: discord.apiUrl,
      MODELS_FILE: modelsFile,
      ...keysEnv(),
      DATA_DIR: dataDir,
      ALLOW_PRIVATE_VIDEO_URLS: 'true',
      PROGRESS_EDIT_INTERVAL_MS: '250',
      SORA_POLL_INTERVAL_MS: '50',
      SHUTDOWN_GRACE_MS: '200',
      PROCESS_LEASE_MS: '1500',
      DEFAULT_MEMBER_LIMIT: '1000',
      LOG_LEVEL: 'debug',
    };
    try {
      standIn.slowNext();
      const firstRun = await startBotProcess(discord, env);
      const before = (await usageOf(discord)).used;
      const ix = askForVideo(discord, { prompt: 'a kite', model: row.id });
      const serviceJobId = await waitUntilFollowed(standIn, discord, ix);
      const progress = await discord.waitForOriginal(ix, (message) => labelsOf(message).includes('Cancel'));
      firstRun.child.kill('SIGKILL');
      await firstRun.exited;

      const secondRun = await startBotProcess(discord, env);
      const final = await discord.waitForOriginal(ix, isFinal, { timeoutMs: 40_000 });
      expect(jobIdOf(final)).toBe(jobIdOf(progress));
      const finished = await waitForJobFinished(secondRun.lines, jobIdOf(final));

      expect(final.content).toContain(READY);
      expect(finished.state).toBe('delivered');
      expect(standIn.creates()).toHaveLength(1);
      expect(standIn.polls(serviceJobId)).toBeGreaterThan(2);
      expect((await usageOf(discord)).used - before).toBe(1);
    } finally {
      await killBotProcesses();
      await discord.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
