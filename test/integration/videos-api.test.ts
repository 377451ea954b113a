import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { APIMessage } from 'discord-api-types/v10';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeInteraction, startFakeDiscord } from '../fakes/fake-discord/fake-discord.ts';
import { type FakeVideosApi, startFakeVideosApi } from '../fakes/fake-videos-api.ts';
import { killBotProcesses, startBotProcess } from '../harness/bot-process.ts';
import {
  buttonsOf,
  customIdOf,
  hasVideoFile,
  jobIdOf,
  labelsOf,
  requestTextWithoutAuth,
  usageOf,
  waitForJobFinished,
} from '../harness/fault-kit.ts';
import { PNG_BYTES, startTestBot, TEST_API_KEY, type TestBot, videoOptions } from '../harness/test-bot.ts';

/**
 * The real bot on the job-based Videos API shape (`SORA_API_FORMAT=videos`) against the fake
 * relay of test/fakes/fake-videos-api.ts: create, polls, `/content`, remix, a kill and a restart
 * in the middle of a job. Each test checks what the member sees, what the relay was sent, and
 * the charge: only a delivered video counts.
 */

const READY = 'Your video is ready';
const FAILED = 'could not be made';
const isFinal = (message: APIMessage) =>
  [READY, FAILED, '**Cancelled**', '**Interrupted**'].some((text) => message.content.includes(text));
const showsProgress = (message: APIMessage) => /\d+%/.test(message.content);
const videosEnv = (api: FakeVideosApi) => ({
  SORA_API_FORMAT: 'videos',
  SORA_API_URL: api.apiUrl,
  SORA_POLL_INTERVAL_MS: '50',
  DEFAULT_MEMBER_LIMIT: '1000',
});

let api: FakeVideosApi;
let bot: TestBot;

beforeAll(async () => {
  api = await startFakeVideosApi({ apiKey: TEST_API_KEY });
  bot = await startTestBot({ env: videosEnv(api) });
});
afterAll(async () => {
  await bot?.close();
  await api?.close();
});
beforeEach(() => {
  api.reset({ queuedMs: 100, processingMs: 600 });
  bot.discord.clearFaults();
});

interface VideoAsk {
  prompt: string;
  duration?: number;
  aspectRatio?: string;
  image?: boolean;
  attachmentSizeLimit?: number;
}

function askForVideo(ask: VideoAsk): FakeInteraction {
  return bot.discord.slashCommand({
    name: 'video',
    options: videoOptions({ prompt: ask.prompt, duration: ask.duration, aspectRatio: ask.aspectRatio }),
    attachments: ask.image
      ? [{ filename: 'cat.png', contentType: 'image/png', bytes: PNG_BYTES }]
      : undefined,
    attachmentSizeLimit: ask.attachmentSizeLimit,
  });
}

interface Outcome {
  ix: FakeInteraction;
  final: APIMessage;
  jobId: string;
  state: unknown;
  /** Videos the job added to the member's usage. */
  charged: number;
}

/** `/video`, waited for until its reply is final and its job logged its end; nothing left reserved. */
async function videoJob(ask: VideoAsk): Promise<Outcome> {
  const before = await usageOf(bot.discord);
  const ix = askForVideo(ask);
  const final = await bot.discord.waitForOriginal(ix, isFinal, { timeoutMs: 20_000 });
  const jobId = jobIdOf(final);
  const finished = await waitForJobFinished(bot.logs, jobId);
  const after = await usageOf(bot.discord);
  expect(after.running).toBe(0);
  return { ix, final, jobId, state: finished.state, charged: after.used - before.used };
}

function expectDelivered(outcome: Outcome): void {
  expect(outcome.final.content).toContain(READY);
  expect(outcome.state).toBe('delivered');
  expect(outcome.charged).toBe(1);
}

/** Everything the bot sent Discord and everything Discord answered, authorization headers aside. */
function discordText(): string {
  return bot.discord.requests.map(requestTextWithoutAuth).join('\n');
}

describe('Videos API shape', () => {
  it('image and prompt: the image bytes reach the create, progress shows a percent, the mp4 is attached', async () => {
    api.scriptNextJob({ queuedMs: 200, processingMs: 2_000 });
    const before = await usageOf(bot.discord);
    const ix = askForVideo({ prompt: 'a cat chasing light', image: true });
    await bot.discord.waitForOriginal(ix, showsProgress);
    const final = await bot.discord.waitForOriginal(ix, isFinal, { timeoutMs: 20_000 });
    expect(final.content).toContain(READY);
    expect(hasVideoFile(final)).toBe(true);
    expect(labelsOf(final)).toContain('Regenerate');
    expect((await waitForJobFinished(bot.logs, jobIdOf(final))).state).toBe('delivered');
    expect(await usageOf(bot.discord)).toEqual({ used: before.used + 1, running: 0 });

    expect(api.creates).toHaveLength(1);
    const [create] = api.creates;
    expect(create?.fields.prompt).toBe('a cat chasing light');
    expect(create?.encoding).toBe('multipart');
    expect(create?.image?.bytes.equals(PNG_BYTES)).toBe(true);
    expect(create?.image?.contentType).toBe('image/png');
    expect(create?.imageUrl).toBeUndefined();
    expect(api.requests.every((request) => request.authorized)).toBe(true);
    expect(api.count('content', create?.jobId)).toBeGreaterThan(0);
  });

  it('text only: the create carries no input_reference', async () => {
    const outcome = await videoJob({ prompt: 'waves at dusk' });
    expectDelivered(outcome);
    expect(hasVideoFile(outcome.final)).toBe(true);
    const [create] = api.creates;
    expect(api.creates).toHaveLength(1);
    expect(create?.fields.prompt).toBe('waves at dusk');
    expect(create?.image).toBeUndefined();
    expect(create?.imageUrl).toBeUndefined();
    expect(create?.fields.input_reference).toBeUndefined();
  });

  it('duration and aspect ratio reach `seconds` and `size`', async () => {
    expectDelivered(await videoJob({ prompt: 'a tall waterfall', duration: 8, aspectRatio: '9:16' }));
    expectDelivered(await videoJob({ prompt: 'a wide valley', duration: 12, aspectRatio: '16:9' }));
    const [portrait, landscape] = api.creates;
    expect(portrait?.fields).toMatchObject({ prompt: 'a tall waterfall', seconds: '8', size: '720x1280' });
    expect(landscape?.fields).toMatchObject({ prompt: 'a wide valley', seconds: '12', size: '1280x720' });
  });

  it("a failed job (moderation) shows the service's reason and Retry, and is not charged", async () => {
    const reason = 'Your request was blocked by our moderation system.';
    api.scriptNextJob({ outcome: { code: 'moderation_blocked', message: reason } });
    const outcome = await videoJob({ prompt: 'something not allowed' });
    expect(outcome.final.content).toContain(FAILED);
    expect(outcome.final.content).toContain(reason);
    expect(labelsOf(outcome.final)).toEqual(['Retry']);
    expect(outcome.state).toBe('failed');
    expect(outcome.charged).toBe(0);
    expect(api.count('content')).toBe(0);
  });

  it("401 at create: the member is told the service rejected the bot's credentials, nothing charged, no key shown", async () => {
    api.failNext('create', { status: 401 });
    const outcome = await videoJob({ prompt: 'a red balloon' });
    expect(outcome.final.content).toContain(FAILED);
    expect(outcome.final.content).toContain("rejected the bot's credentials");
    expect(outcome.state).toBe('failed');
    expect(outcome.charged).toBe(0);
    expect(api.count('create')).toBe(1);
    expect(api.count('poll')).toBe(0);
    expect([discordText(), ...bot.logs].join('\n')).not.toContain(TEST_API_KEY);
  });

  it('429 on two polls: the bot backs off and the job still completes', async () => {
    api.failNext('poll', { status: 429, retryAfter: '1' }, { times: 2 });
    const outcome = await videoJob({ prompt: 'a busy harbour' });
    expectDelivered(outcome);
    expect(hasVideoFile(outcome.final)).toBe(true);
    const polls = api.requests.filter((request) => request.call === 'poll');
    expect(polls.filter((poll) => poll.status === 429)).toHaveLength(2);
    expect(polls.at(-1)?.status).toBe(200);
    expect(api.count('create')).toBe(1);
  });

  it('Cancel while polling: the reply says Cancelled, and the relay sees no poll after it', async () => {
    api.scriptNextJob({ queuedMs: 100, processingMs: 60_000 });
    const before = await usageOf(bot.discord);
    const ix = askForVideo({ prompt: 'a slow sunrise' });
    const running = await bot.discord.waitForOriginal(
      ix,
      (message) => showsProgress(message) && labelsOf(message).includes('Cancel'),
    );
    await api.waitForCall((call) => call.call === 'poll');
    bot.discord.clickButton({ message: running, customId: customIdOf(running, 'Cancel') });
    const done = await bot.discord.waitForOriginal(ix, (message) => message.content.includes('Cancelled'));
    expect(buttonsOf(done)).toHaveLength(0);
    expect((await waitForJobFinished(bot.logs, jobIdOf(running))).state).toBe('cancelled');
    const cancelledWrite = bot.discord.requests.find(
      (request) =>
        request.interactionId === ix.id &&
        request.method === 'PATCH' &&
        JSON.stringify(request.body).includes('Cancelled'),
    );
    expect(cancelledWrite).toBeDefined();
    // Time for a poller that was not stopped to show itself: many poll intervals.
    await sleep(1_000);
    const pollsAfter = api.requests.filter(
      (request) => request.call === 'poll' && request.at > (cancelledWrite?.at ?? 0),
    );
    expect(pollsAfter).toEqual([]);
    expect(await usageOf(bot.discord)).toEqual({ used: before.used, running: 0 });
  });

  it("too large for the server's upload limit, with a public link on the job: the message carries that link", async () => {
    api.scriptNextJob({ publicLink: 'url', contentBytes: 3 * 1024 * 1024 });
    const outcome = await videoJob({
      prompt: 'a long flight over mountains',
      attachmentSizeLimit: 1024 * 1024,
    });
    expectDelivered(outcome);
    expect(outcome.final.attachments).toHaveLength(0);
    const jobId = api.creates[0]?.jobId;
    expect(outcome.final.content).toContain('upload limit');
    const publicLink = `${api.origin}/public/${jobId}.mp4`;
    const carried = JSON.stringify({ content: outcome.final.content, components: outcome.final.components });
    expect(carried).toContain(publicLink);
    expect(discordText()).not.toContain(`/videos/${jobId}/content`);
  });

  it('too large and no public link: the message says so, and the /content URL appears nowhere Discord saw', async () => {
    api.scriptNextJob({ contentBytes: 3 * 1024 * 1024 });
    const outcome = await videoJob({ prompt: 'a very long train', attachmentSizeLimit: 1024 * 1024 });
    expect(outcome.final.attachments).toHaveLength(0);
    expect(outcome.final.content).toMatch(/(too large for|larger than) this server's upload limit/);
    // Nowhere to open it: the member got no video, so it does not count.
    expect(outcome.charged).toBe(0);
    const jobId = api.creates[0]?.jobId;
    expect(jobId).toBeDefined();
    const everything = discordText();
    expect(everything).not.toContain(`${api.apiUrl}/videos/${jobId}/content`);
    expect(everything).not.toContain(`/videos/${jobId}/content`);
    expect(everything).not.toContain(TEST_API_KEY);
  });

  it('Remix: the form starts a new job through quotas, posted as a new reply, made by POST /videos/{id}/remix', async () => {
    const before = await usageOf(bot.discord);
    const first = await videoJob({ prompt: 'a quiet street' });
    expectDelivered(first);
    const sourceId = api.creates[0]?.jobId;
    const remixId = customIdOf(first.final, 'Remix');
    expect(remixId).toBe(`remix:${first.jobId}`);

    const click = bot.discord.clickButton({ message: first.final, customId: remixId });
    const shown = await bot.discord.waitForCallback(click);
    expect(shown.body).toMatchObject({ type: 9, data: { custom_id: `remix-form:${first.jobId}` } });
    const submit = bot.discord.submitModal({
      customId: `remix-form:${first.jobId}`,
      fields: { prompt: 'the same street, snowing' },
    });
    const remixed = await bot.discord.waitForMessage(
      (message) =>
        message.id !== first.final.id &&
        message.content.includes('the same street, snowing') &&
        isFinal(message),
      { timeoutMs: 20_000 },
    );
    expect(hasVideoFile(remixed)).toBe(true);
    expect(remixed.content).toContain(READY);
    expect((await waitForJobFinished(bot.logs, jobIdOf(remixed))).state).toBe('delivered');
    expect([submit.originalMessageId, ...submit.followupIds]).toContain(remixed.id);

    expect(api.count('remix', sourceId)).toBe(1);
    expect(api.count('create')).toBe(1);
    const remixJob = [...api.jobs.values()].find((job) => job.remixedFrom === sourceId);
    expect(remixJob?.prompt).toBe('the same street, snowing');
    // The first message keeps its video.
    expect(hasVideoFile(bot.discord.messageState(first.final.id) as APIMessage)).toBe(true);
    expect(await usageOf(bot.discord)).toEqual({ used: before.used + 2, running: 0 });
  });

  it('relay drift (ms timestamps, pending/succeeded, progress as text, soraVideoUrl): still delivered', async () => {
    api.scriptNextJob({ drift: true });
    const outcome = await videoJob({ prompt: 'a drifting cloud' });
    expectDelivered(outcome);
    expect(hasVideoFile(outcome.final)).toBe(true);
    expect(api.count('create')).toBe(1);
  });
});

describe('Videos API shape, across a restart', () => {
  afterEach(killBotProcesses);

  it('bot killed (SIGKILL) mid-job and started again: one create, polling resumed, delivered into the same message, charged once', {
    timeout: 90_000,
  }, async () => {
    const discord = await startFakeDiscord();
    const relay = await startFakeVideosApi({
      apiKey: TEST_API_KEY,
      defaults: { queuedMs: 200, processingMs: 8_000 },
    });
    const dataDir = await mkdtemp(path.join(tmpdir(), 'sora-bot-videos-api-'));
    try {
      const env: NodeJS.ProcessEnv = {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        DISCORD_TOKEN: discord.botToken,
        DISCORD_API_URL: discord.apiUrl,
        SORA_API_KEY: TEST_API_KEY,
        DATA_DIR: dataDir,
        ALLOW_PRIVATE_VIDEO_URLS: 'true',
        PROGRESS_EDIT_INTERVAL_MS: '250',
        SHUTDOWN_GRACE_MS: '200',
        PROCESS_LEASE_MS: '1500',
        LOG_LEVEL: 'debug',
        ...videosEnv(relay),
      };
      const first = await startBotProcess(discord, env);
      const before = await usageOf(discord);
      const ix = discord.slashCommand({
        name: 'video',
        options: videoOptions({ prompt: 'a candle burning down' }),
        attachments: [{ filename: 'cat.png', contentType: 'image/png', bytes: PNG_BYTES }],
      });
      const progress = await discord.waitForOriginal(ix, showsProgress, { timeoutMs: 20_000 });
      const serviceJobId = relay.creates[0]?.jobId;
      expect(serviceJobId).toBeDefined();
      expect(relay.stateOf(serviceJobId as string).state).not.toBe('completed');

      first.child.kill('SIGKILL');
      expect((await first.exited).signal).toBe('SIGKILL');
      const killedAt = Date.now();

      const second = await startBotProcess(discord, env);
      const final = await discord.waitForOriginal(ix, isFinal, { timeoutMs: 40_000 });
      expect(final.content).toContain(READY);
      expect(hasVideoFile(final)).toBe(true);
      expect(jobIdOf(final)).toBe(jobIdOf(progress));
      expect((await waitForJobFinished(second.lines, jobIdOf(final))).state).toBe('delivered');

      expect(relay.count('create')).toBe(1);
      const resumedPolls = relay.requests.filter(
        (request) => request.call === 'poll' && request.jobId === serviceJobId && request.at > killedAt,
      );
      expect(resumedPolls.length).toBeGreaterThan(0);
      const history = discord.messageHistory(progress.id).map((message) => message.content);
      expect(history.some((content) => content.includes('Interrupted'))).toBe(false);
      expect(await usageOf(discord)).toEqual({ used: before.used + 1, running: 0 });
    } finally {
      await killBotProcesses();
      await discord.close();
      await relay.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
