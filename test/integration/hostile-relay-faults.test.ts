import type { APIMessage } from 'discord-api-types/v10';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { visibleText } from '../fakes/fake-discord/fake-discord.ts';
import { contentChunk, progressStream, type StreamStep } from '../fakes/fake-video-service.ts';
import {
  hasVideoFile,
  jobIdOf,
  labelsOf,
  requestTextWithoutAuth,
  usageOf,
  waitForJobFinished,
} from '../harness/fault-kit.ts';
import { startTestBot, TEST_API_KEY, type TestBot, videoOptions } from '../harness/test-bot.ts';

/**
 * A careless or hostile relay, through the real bot: everything it sends is untrusted. It must not
 * get the service key shown to anyone, freeze the bot for other members, or make the bot deliver a
 * preview instead of the video. One row per test in docs/reliability.md.
 */

let bot: TestBot;

beforeAll(async () => {
  bot = await startTestBot({ env: { DEFAULT_MEMBER_LIMIT: '1000' } });
});
afterAll(() => bot?.close());
beforeEach(() => bot.service.reset());

const READY = 'Your video is ready';
const FAILED = 'could not be made';
const isFinal = (message: APIMessage) => [READY, FAILED].some((text) => message.content.includes(text));

interface Outcome {
  final: APIMessage;
  state: unknown;
  charged: number;
}

async function slashJob(prompt: string, member = bot.discord.defaultMember): Promise<Outcome> {
  const before = await usageOf(bot.discord, member);
  const ix = bot.discord.slashCommand({ name: 'video', options: videoOptions({ prompt }), member });
  const final = await bot.discord.waitForOriginal(ix, isFinal);
  const finished = await waitForJobFinished(bot.logs, jobIdOf(final));
  const after = await usageOf(bot.discord, member);
  expect(after.running).toBe(0);
  return { final, state: finished.state, charged: after.used - before.used };
}

/** The key in no request the fake Discord recorded (Authorization headers aside) and no log line. */
function expectKeyNowhere(): void {
  expect(bot.discord.requests.length).toBeGreaterThan(0);
  for (const request of bot.discord.requests)
    expect(requestTextWithoutAuth(request)).not.toContain(TEST_API_KEY);
  expect(bot.logs.length).toBeGreaterThan(0);
  for (const line of bot.logs) expect(line).not.toContain(TEST_API_KEY);
}

/** Text as the member reads it: the bot escapes markdown in what the service wrote (`\[redacted\]`). */
const rendered = (content: string) => content.replace(/\\(.)/g, '$1');

function expectFailedWithRetry(outcome: Outcome, reason: string): void {
  expect(outcome.final.content).toContain(FAILED);
  expect(rendered(outcome.final.content)).toContain(reason);
  expect(labelsOf(outcome.final)).toEqual(['Retry']);
  expect(outcome.state).toBe('failed');
  expect(outcome.charged).toBe(0);
}

/** Some message the bot sent or edited showed `text` to the member. */
const anyMessageShowed = (text: string) =>
  bot.discord.requests.some((request) => {
    const body = request.body as Partial<Pick<APIMessage, 'content' | 'flags' | 'components'>> | undefined;
    // A card's text is in its Text Displays.
    const shown = visibleText({
      content: body?.content ?? '',
      flags: body?.flags,
      components: body?.components,
    });
    return rendered(shown).includes(text);
  });

describe('a relay that echoes the service key', () => {
  it('key echoed in an error event mid-stream: failed with the reason, the key masked everywhere', async () => {
    bot.service.enqueue({
      events: [
        contentChunk('> 🏃 进度：20.0%\n\n'),
        {
          error: { message: `Upstream rejected Authorization: Bearer ${TEST_API_KEY}`, type: 'server_error' },
        },
        '[DONE]',
      ],
    });
    expectFailedWithRetry(
      await slashJob('an echo in the error'),
      'Upstream rejected Authorization: [redacted]',
    );
    expectKeyNowhere();
  });

  it('key echoed in a status line and a failure line: the note and the reason shown masked', async () => {
    bot.service.enqueue({
      events: [
        contentChunk(`> relay debug: forwarded key ${TEST_API_KEY} upstream\n\n`),
        { delayMs: 700 },
        contentChunk('> 🏃 进度：40.0%\n\n'),
        contentChunk(`> ❌ 生成失败: key ${TEST_API_KEY} may not use this model\n\n`),
        '[DONE]',
      ],
    });
    expectFailedWithRetry(await slashJob('an echo in the status'), 'key [redacted] may not use this model');
    expect(anyMessageShowed('relay debug: forwarded key [redacted] upstream')).toBe(true);
    expectKeyNowhere();
  });

  it('key echoed in a 200 JSON error document (stream ignored): failed with the masked reason', async () => {
    bot.service.enqueue({
      status: 200,
      body: { error: { message: `Invalid token Bearer ${TEST_API_KEY}`, type: 'invalid_request_error' } },
    });
    expectFailedWithRetry(await slashJob('an echo in a document'), 'Invalid token [redacted]');
    expectKeyNowhere();
  });
});

describe('a relay that sends adversarial lines', () => {
  it('1 MB lines of whitespace and brackets in one job: a /video from another member is answered, both jobs end', async () => {
    const { discord, service } = bot;
    // Each shape made the old patterns backtrack for minutes (`[](` quadratically, spaces before
    // `request id` cubically), holding the event loop every member's command waits on.
    const shapes = ['  ', '[[', '((', '[](', `${' '.repeat(64)}request id (`];
    const junk: StreamStep[] = shapes.flatMap((unit) => [
      contentChunk(`${unit.repeat(Math.ceil((1024 * 1024) / unit.length))}\n`),
      { delayMs: 100 },
    ]);
    const [first, second] = progressStream({ steps: [10] }).events.reduce<[StreamStep[], StreamStep[]]>(
      ([head, tail], step, index) => (index < 4 ? [[...head, step], tail] : [head, [...tail, step]]),
      [[], []],
    );
    const served = service.enqueue({ events: [...first, { delayMs: 200 }, ...junk, ...second] });
    const hostile = slashJob('a hostile stream');
    await served;
    const bob = discord.member({ username: 'bob' });
    const ix = discord.slashCommand({
      name: 'video',
      options: videoOptions({ prompt: 'a calm lake' }),
      member: bob,
    });
    expect((await discord.waitForCallback(ix)).status).toBeLessThan(300);
    const calm = await discord.waitForOriginal(ix, isFinal);
    expect((await waitForJobFinished(bot.logs, jobIdOf(calm))).state).toBe('delivered');
    const outcome = await hostile;
    expect(hasVideoFile(outcome.final)).toBe(true);
    expect(outcome.state).toBe('delivered');
    expect(outcome.charged).toBe(1);
  });
});

describe('a relay that offers more than one link', () => {
  it('preview clip on a progress line before the real link: the real video is delivered', async () => {
    const { discord, service } = bot;
    const preview = service.addVideo('preview.mp4', 2048);
    const real = service.addVideo('real.mp4', 4096);
    service.enqueue({
      events: [
        contentChunk('> ⌛️ 任务正在队列中，请耐心等待...\n\n'),
        contentChunk(`> 🏃 进度：50.0% preview ${preview}\n\n`),
        contentChunk(`> ✅ 视频生成成功，[点击这里](${real}) 查看视频~~~\n\n`),
        '[DONE]',
      ],
    });
    const outcome = await slashJob('a preview first');
    expect(outcome.state).toBe('delivered');
    expect(service.videoRequests).toEqual(['real.mp4']);
    const file = outcome.final.attachments.find((attachment) => attachment.filename.endsWith('.mp4'));
    expect(file && discord.attachmentBytes(file)?.length).toBe(4096);
  });

  it('first link answers 404, the second works: delivered as a file from the second', async () => {
    const { service } = bot;
    const working = service.addVideo('second.mp4', 3072);
    const missing = `${service.origin}/videos/gone.mp4`;
    service.enqueue({
      events: [
        contentChunk('> 🏃 进度：80.0%\n\n'),
        contentChunk(
          `> ✅ Video generated successfully: [click here](${missing}) [download](${working})\n\n`,
        ),
        '[DONE]',
      ],
    });
    const outcome = await slashJob('a broken first link');
    expect(hasVideoFile(outcome.final)).toBe(true);
    expect(outcome.state).toBe('delivered');
    expect(outcome.charged).toBe(1);
    expect(service.videoRequests).toEqual(['gone.mp4', 'second.mp4']);
  });
});
