import type { APIMessage } from 'discord-api-types/v10';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ACCENT_COLOURS } from '../../src/services/progress-message/job-card.ts';
import { type FakeInteraction, MessageFlag, startFakeDiscord } from '../fakes/fake-discord/fake-discord.ts';
import { progressStream } from '../fakes/fake-video-service.ts';
import {
  customIdOf,
  hasVideoFile,
  jobIdIn,
  jobIdOf,
  labelsOf,
  waitForJobFinished,
} from '../harness/fault-kit.ts';
import { startTestBot, type TestBot, videoOptions } from '../harness/test-bot.ts';

/**
 * The job as a Components V2 card (MESSAGE_STYLE=cards, the default), through the real bot and the
 * fake Discord, which refuses any V2 message outside Discord's limits. Messages are read raw here
 * (`messageRecord`): what Discord stores, not the text view other suites read.
 */

const slowStream = (steps: number[], chunkDelayMs: number) => ({
  ...progressStream({ steps }),
  chunkDelayMs,
});

/** The raw state of a message as Discord holds it (a card's `content` is empty). */
function raw(bot: TestBot, message: APIMessage): APIMessage {
  const record = bot.discord.messageRecord(message.id);
  if (!record) throw new Error(`no message ${message.id}`);
  return record.message;
}

interface CardView {
  isCard: boolean;
  content: string;
  accent?: number;
  texts: string[];
  media: string[];
  buttons: { label?: string; url?: string; custom_id?: string }[];
}

function card(message: APIMessage): CardView {
  const all = nested(message.components ?? []);
  return {
    isCard: ((message.flags ?? 0) & MessageFlag.IsComponentsV2) !== 0,
    content: message.content,
    accent: (message.components?.[0] as { accent_color?: number } | undefined)?.accent_color,
    texts: all.filter((component) => component.type === 10).map((text) => String(text.content)),
    media: all
      .filter((component) => component.type === 12)
      .flatMap((gallery) => (gallery.items as { media: { url: string } }[]).map((item) => item.media.url)),
    buttons: all.filter((component) => component.type === 2) as CardView['buttons'],
  };
}

function nested(components: readonly unknown[]): Record<string, unknown>[] {
  return (components as Record<string, unknown>[]).flatMap((component) => [
    component,
    ...nested(Array.isArray(component.components) ? component.components : []),
  ]);
}

/** Every state the message went through, as cards: its accent colour and button labels per state. */
function historyOf(bot: TestBot, message: APIMessage): CardView[] {
  return (bot.discord.messageRecord(message.id)?.history ?? [])
    .filter((state) => state.components?.length)
    .map(card);
}

describe('the job card', () => {
  let bot: TestBot;

  beforeAll(async () => {
    bot = await startTestBot({ env: { MAX_CONCURRENT_JOBS: '1' } });
  });
  afterAll(() => bot?.close());
  beforeEach(() => {
    bot.service.reset();
    bot.discord.clearFaults();
  });

  it('goes through waiting, generating, fetching and delivered, and plays the uploaded mp4', async () => {
    const { discord, service, logs } = bot;
    service.enqueue(slowStream([10, 40, 70], 300));
    service.enqueue(slowStream([50], 50));
    const first = discord.slashCommand({
      name: 'video',
      options: videoOptions({ prompt: 'a heron *fishing* @everyone', duration: 10, aspectRatio: '9:16' }),
    });
    await discord.waitForOriginal(first, (message) => /\d+%/.test(message.content));
    const bob = discord.member({ username: 'bob' });
    const second = discord.slashCommand({
      name: 'video',
      options: videoOptions({ prompt: 'a crane' }),
      member: bob,
    });
    const waiting = card(
      raw(bot, await discord.waitForOriginal(second, (message) => message.content.includes('in line'))),
    );
    expect(waiting).toMatchObject({ isCard: true, content: '', accent: ACCENT_COLOURS.waiting });
    expect(waiting.buttons.map((button) => button.label)).toEqual(['Cancel']);

    const done = raw(bot, await discord.waitForOriginal(first, hasVideoFile));
    const delivered = card(done);
    expect(delivered.isCard).toBe(true);
    expect(delivered.content).toBe('');
    expect(delivered.accent).toBe(ACCENT_COLOURS.delivered);
    const fileName = done.attachments[0]?.filename;
    expect(fileName).toMatch(/\.mp4$/);
    expect(delivered.media).toEqual([`attachment://${fileName}`]);
    expect(delivered.texts.join('\n')).toContain('Your video is ready');
    expect(delivered.texts.join('\n')).toContain('sora-2 · 10 s · 9:16 · text only');
    // The prompt shows as typed: markdown escaped, the mention unable to ping.
    expect(delivered.texts.join('\n')).toContain('a heron \\*fishing\\* @\u200beveryone');
    expect(done.mention_everyone).toBe(false);
    expect(delivered.buttons.map((button) => button.label)).toEqual(['Open video', 'Regenerate']);

    const states = historyOf(bot, done);
    const accents = [...new Set(states.map((state) => state.accent))];
    const order = (['queued', 'generating', 'fetching', 'delivered'] as const).map(
      (state) => ACCENT_COLOURS[state],
    );
    expect(accents).toEqual(order.filter((accent) => accents.includes(accent)));
    expect(accents.slice(-3)).toEqual(order.slice(-3));
    const generating = states.find((state) => state.accent === ACCENT_COLOURS.generating);
    expect(generating?.texts.join('\n')).toMatch(/\d+%/);
    expect(generating?.buttons.map((button) => button.label)).toEqual(['Cancel']);
    expect(states.every((state) => state.isCard && state.content === '')).toBe(true);

    // The one that waited runs next and is delivered into its own card.
    const next = raw(bot, await discord.waitForOriginal(second, hasVideoFile));
    expect(card(next).accent).toBe(ACCENT_COLOURS.delivered);
    expect(historyOf(bot, next).map((state) => state.accent)).toContain(ACCENT_COLOURS.waiting);
    expect((await waitForJobFinished(logs, jobIdOf(next))).state).toBe('delivered');
  });

  it('plays the link, with the link in its text and an Open video button, when the file is too large', async () => {
    const { discord, service } = bot;
    const bigVideo = service.addVideo('big.mp4', 3 * 1024 * 1024);
    service.enqueue(progressStream({ videoUrl: bigVideo }));
    const ix = discord.slashCommand({
      name: 'video',
      options: videoOptions({ prompt: 'a long flight' }),
      attachmentSizeLimit: 1024 * 1024,
    });
    const done = raw(
      bot,
      await discord.waitForOriginal(ix, (message) => message.content.includes('Your video is ready')),
    );
    const shown = card(done);
    expect(done.attachments).toEqual([]);
    expect(shown.accent).toBe(ACCENT_COLOURS.delivered);
    expect(shown.media).toEqual([bigVideo]);
    expect(shown.texts.join('\n')).toContain(bigVideo);
    expect(shown.texts.join('\n')).toContain('upload limit');
    expect(shown.buttons.find((button) => button.label === 'Open video')?.url).toBe(bigVideo);
  });

  it('turns red with Retry when the video cannot be made', async () => {
    const { discord, service } = bot;
    service.enqueue({ status: 400, body: { error: { message: 'the prompt was refused' } } });
    const ix = discord.slashCommand({ name: 'video', options: videoOptions({ prompt: 'a storm' }) });
    const done = raw(
      bot,
      await discord.waitForOriginal(ix, (message) => message.content.includes('could not be made')),
    );
    expect(card(done)).toMatchObject({ isCard: true, accent: ACCENT_COLOURS.failed });
    expect(labelsOf(done)).toEqual(['Retry']);
  });

  it('turns grey without buttons when cancelled', async () => {
    const { discord, service } = bot;
    service.enqueue({ ...progressStream({ steps: [5] }), stallAfterFrames: 4 });
    const ix = discord.slashCommand({ name: 'video', options: videoOptions({ prompt: 'a slow tide' }) });
    const running = await discord.waitForOriginal(ix, (message) => labelsOf(message).includes('Cancel'));
    discord.clickButton({ message: running, customId: customIdOf(running, 'Cancel') });
    const done = raw(
      bot,
      await discord.waitForOriginal(ix, (message) => message.content.includes('Cancelled')),
    );
    expect(card(done)).toMatchObject({ isCard: true, accent: ACCENT_COLOURS.cancelled, buttons: [] });
  });
});

describe('the job card past the interaction token (scaled down)', () => {
  const LIFETIME_MS = 10_000;
  let bot: TestBot;

  beforeAll(async () => {
    const discord = await startFakeDiscord({ tokenLifetimeMs: LIFETIME_MS });
    bot = await startTestBot({ discord, env: { INTERACTION_TOKEN_LIFETIME_MS: String(LIFETIME_MS) } });
  });
  afterAll(() => bot?.close());

  it('hands over to a card in the channel that pings the member with the video; the reply card points there', async () => {
    const { discord, service } = bot;
    service.enqueue(slowStream([5, 15, 25, 35, 45, 55, 65, 75, 85, 95], 300));
    const ix: FakeInteraction = discord.slashCommand({
      name: 'video',
      options: videoOptions({ prompt: 'a long night' }),
      createdAt: Date.now() - 7_500,
    });
    const running = await discord.waitForOriginal(ix, (message) => /\d+%/.test(message.content));
    const jobId = jobIdOf(running);
    const delivered = await discord.waitForMessage(
      (message, record) => record.origin === 'bot' && jobIdIn(message) === jobId && hasVideoFile(message),
    );
    const final = raw(bot, delivered);
    expect(card(final)).toMatchObject({ isCard: true, content: '', accent: ACCENT_COLOURS.delivered });
    expect(card(final).media).toEqual([`attachment://${final.attachments[0]?.filename}`]);
    expect(final.mentions.map((user) => user.id)).toEqual([ix.user.id]);

    const reply = discord.originalResponse(ix);
    if (!reply) throw new Error('the reply is gone');
    const note = card(raw(bot, reply));
    expect(note.isCard).toBe(true);
    expect(note.texts.join('\n')).toContain('continues in a new message');
    expect(note.buttons).toEqual([]);
  });
});

describe('MESSAGE_STYLE=text', () => {
  let bot: TestBot;

  beforeAll(async () => {
    bot = await startTestBot({ env: { MESSAGE_STYLE: 'text' } });
  });
  afterAll(() => bot?.close());

  it("keeps today's text message with the file under it", async () => {
    const { discord, service } = bot;
    service.enqueue(progressStream());
    const ix = discord.slashCommand({ name: 'video', options: videoOptions({ prompt: 'a quiet pond' }) });
    const done = raw(bot, await discord.waitForOriginal(ix, hasVideoFile));
    expect((done.flags ?? 0) & MessageFlag.IsComponentsV2).toBe(0);
    expect(done.content).toContain('Your video is ready');
    expect(done.content).toContain('> a quiet pond');
    expect(done.components?.map((row) => row.type)).toEqual([1]);
    expect(labelsOf(done)).toEqual(['Open video', 'Regenerate']);
  });
});
