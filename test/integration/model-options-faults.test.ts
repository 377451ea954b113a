import type { APIMessage } from 'discord-api-types/v10';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { helpText } from '../../src/commands/triggers/mention.ts';
import type { Catalogue } from '../../src/services/catalogue/catalogue.ts';
import { catalogueFromSettings } from '../../src/services/catalogue/settings-catalogue.ts';
import type { FakeInteraction } from '../fakes/fake-discord/fake-discord.ts';
import { type FakeVideosApi, startFakeVideosApi } from '../fakes/fake-videos-api.ts';
import {
  customIdOf,
  hasVideoFile,
  jobIdOf,
  parseLogs,
  usageOf,
  waitForJobFinished,
} from '../harness/fault-kit.ts';
import { PNG_BYTES, startTestBot, TEST_API_KEY, type TestBot, videoOptions } from '../harness/test-bot.ts';

/**
 * Options follow the chosen model, whichever way a member asks: the real bot through the fake
 * Discord on the Videos API shape, with a catalogue of two models that differ in lengths, frames
 * and image input. What a model cannot do is snapped and said (a length) or refused with what it
 * can do (a frame, an image) before anything is reserved or sent to the service.
 */

let api: FakeVideosApi;
let bot: TestBot;

/** sora-2 (the default: 4/8/12 s, 16:9 and 9:16, images) and a text-only model that also makes squares. */
function twoModels(apiUrl: string): Catalogue {
  const settings = catalogueFromSettings({
    SORA_API_URL: apiUrl,
    SORA_MODEL: 'sora-2',
    SORA_MODELS: ['text-clip'],
    SORA_API_FORMAT: 'videos',
  });
  return {
    ...settings,
    models: settings.models.map((model) =>
      model.id === 'text-clip'
        ? {
            ...model,
            label: 'Text Clip',
            durations: [4, 12],
            aspectRatios: ['16:9', '9:16', '1:1'],
            imageInput: false,
          }
        : model,
    ),
  };
}

beforeAll(async () => {
  api = await startFakeVideosApi({ apiKey: TEST_API_KEY });
  bot = await startTestBot({
    env: {
      SORA_API_FORMAT: 'videos',
      SORA_API_URL: api.apiUrl,
      SORA_MODELS: 'text-clip',
      SORA_POLL_INTERVAL_MS: '50',
      DEFAULT_MEMBER_LIMIT: '1000',
    },
    catalogue: twoModels(api.apiUrl),
  });
});
afterAll(async () => {
  await bot?.close();
  await api?.close();
});
beforeEach(() => {
  api.reset({ queuedMs: 50, processingMs: 200 });
  bot.discord.clearFaults();
});

const image = () => ({ filename: 'cat.png', contentType: 'image/png', bytes: PNG_BYTES });
const READY = 'Your video is ready';

/** The private answer a refused `/video` gets, after its public "thinking…" reply is removed. */
function refusalOf(ix: FakeInteraction): Promise<APIMessage> {
  return bot.discord.waitForMessage(
    (message, record) => record.ephemeral && ix.followupIds.includes(message.id),
  );
}

/** The bot's reply to a chat message, once it matches. */
function replyTo(original: APIMessage, predicate: (message: APIMessage) => boolean = () => true) {
  return bot.discord.waitForMessage(
    (message) =>
      message.message_reference?.message_id === original.id &&
      message.author.id === bot.discord.botUser.id &&
      predicate(message),
  );
}

/** A `/video` (or button) job's final message with its video, once the job has logged its end. */
async function delivered(ix: FakeInteraction): Promise<APIMessage> {
  const done = await bot.discord.waitForOriginal(ix, hasVideoFile, { timeoutMs: 20_000 });
  expect((await waitForJobFinished(bot.logs, jobIdOf(done))).state).toBe('delivered');
  return done;
}

/** The refusal was logged, and no quota unit was reserved for it (not even one given back later). */
function expectRefusedBeforeReserving(lines: string[]): void {
  const events = parseLogs(lines).map((entry) => entry.event);
  expect(events).toContain('job_request_unfit');
  expect(events).not.toContain('quota_reserved');
}

describe('options follow the chosen model', () => {
  it('a length the default model cannot do is snapped to the nearest it can, and the member is told', async () => {
    const ix = bot.discord.slashCommand({
      name: 'video',
      options: videoOptions({ prompt: 'a paper boat', duration: 10 }),
    });
    const done = await delivered(ix);
    expect(done.content).toContain(READY);
    expect(done.content).toContain('so yours will be 8 s instead of 10 s');
    expect(api.creates).toHaveLength(1);
    expect(api.creates[0]?.fields).toMatchObject({ model: 'sora-2', seconds: '8' });
  });

  it('aspect_ratio 9:16 reaches the service as size 720x1280; 1:1 on a model that makes squares as 1024x1024', async () => {
    const portrait = bot.discord.slashCommand({
      name: 'video',
      options: videoOptions({ prompt: 'a tall tower', duration: 8, aspectRatio: '9:16' }),
    });
    await delivered(portrait);
    const square = bot.discord.slashCommand({
      name: 'video',
      options: videoOptions({
        prompt: 'a round table',
        duration: 12,
        aspectRatio: '1:1',
        model: 'text-clip',
      }),
    });
    const done = await delivered(square);
    expect(done.content).toContain('1:1');
    expect(api.creates.map((create) => create.fields)).toMatchObject([
      { prompt: 'a tall tower', model: 'sora-2', seconds: '8', size: '720x1280' },
      { prompt: 'a round table', model: 'text-clip', seconds: '12', size: '1024x1024' },
    ]);
  });

  it('a registration from before aspect ratios sends orientation: portrait is read as 9:16', async () => {
    const ix = bot.discord.slashCommand({
      name: 'video',
      options: videoOptions({ prompt: 'a lighthouse', orientation: 'portrait' }),
    });
    await delivered(ix);
    expect(api.creates[0]?.fields.size).toBe('720x1280');
  });

  it('a mention with --square on a model without 1:1 is refused with the frames it can make; nothing sent or reserved', async () => {
    const before = await usageOf(bot.discord);
    const logsBefore = bot.logs.length;
    const sent = bot.discord.sendMessage({
      content: 'a spinning top --square',
      mentionsBot: true,
      attachments: [image()],
    });
    const reply = await replyTo(sent);
    expect(reply.content).toBe('**sora-2** cannot make 1:1 videos; it makes 16:9, 9:16.');
    expect(api.creates).toHaveLength(0);
    expect(await usageOf(bot.discord)).toEqual(before);
    expectRefusedBeforeReserving(bot.logs.slice(logsBefore));
  });

  it('an image for a model without image input is refused clearly: no service call, nothing reserved', async () => {
    const before = await usageOf(bot.discord);
    const logsBefore = bot.logs.length;
    const ix = bot.discord.slashCommand({
      name: 'video',
      options: videoOptions({ prompt: 'animate my cat', model: 'text-clip' }),
      attachments: [image()],
    });
    const refusal = await refusalOf(ix);
    expect(refusal.content).toMatch(
      /^\*\*Text Clip\*\* makes videos from text only, so it cannot use your image/,
    );
    expect(api.requests).toHaveLength(0);
    expect(await usageOf(bot.discord)).toEqual(before);
    expectRefusedBeforeReserving(bot.logs.slice(logsBefore));
  });

  it('the same model and options come back on Regenerate, fitted again', async () => {
    const ix = bot.discord.slashCommand({
      name: 'video',
      options: videoOptions({ prompt: 'a kite', duration: 12, aspectRatio: '1:1', model: 'text-clip' }),
    });
    const done = await delivered(ix);
    const again = bot.discord.clickButton({ message: done, customId: customIdOf(done, 'Regenerate') });
    await delivered(again);
    expect(api.creates.map((create) => create.fields)).toMatchObject([
      { model: 'text-clip', seconds: '12', size: '1024x1024' },
      { model: 'text-clip', seconds: '12', size: '1024x1024' },
    ]);
  });

  it('a mention without an image gets help that lists each model with what it can do', async () => {
    const sent = bot.discord.sendMessage({ content: 'what can you do?', mentionsBot: true });
    const reply = await replyTo(sent);
    expect(reply.content).toBe(helpText(bot.catalogue));
    expect(reply.content).toContain('**sora-2 (default)** `sora-2`: 4, 8, 12 s · 16:9, 9:16 · image or text');
    expect(reply.content).toContain('**Text Clip** `text-clip`: 4, 12 s · 16:9, 9:16, 1:1 · text only');
  });
});
