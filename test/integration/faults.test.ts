import { readdirSync, readFileSync } from 'node:fs';
import { type APIMessage, PermissionFlagsBits } from 'discord-api-types/v10';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  DEFAULT_APP_PERMISSIONS,
  type FakeInteraction,
  type FakeMember,
  startFakeDiscord,
} from '../fakes/fake-discord/fake-discord.ts';
import { contentChunk, progressStream, unusedPortUrl } from '../fakes/fake-video-service.ts';
import { readStreamFixture } from '../fakes/fixtures.ts';
import {
  customIdOf,
  hasVideoFile,
  jobIdIn,
  jobIdOf,
  labelsOf,
  logsOfJob,
  usageOf as memberUsage,
  parseLogs,
  requestTextWithoutAuth,
  waitForJobFinished,
  waitForLog,
} from '../harness/fault-kit.ts';
import { PNG_BYTES, startTestBot, TEST_API_KEY, type TestBot, videoOptions } from '../harness/test-bot.ts';

/**
 * One test per row of the fault matrix in docs/reliability.md, each through the real bot
 * (startTestBot: discord.js against the fake Discord and the fake video service). Every row checks
 * what the member ends up seeing, that the job ends (its `job_finished` line), and what happens to
 * its charge: only a `delivered` job keeps it.
 */

/** Recognisable, so the secrets test can look for it everywhere. */
const DISCORD_TOKEN = 'discord-BOT-TOKEN-must-never-leak.0123456789abcdef';

let bot: TestBot;

beforeAll(async () => {
  const discord = await startFakeDiscord({ botToken: DISCORD_TOKEN });
  bot = await startTestBot({
    discord,
    env: { SERVICE_STALL_TIMEOUT_MS: '1000', VIDEO_UPLOAD_TIMEOUT_MS: '1000', DEFAULT_MEMBER_LIMIT: '1000' },
  });
});
afterAll(() => bot?.close());
beforeEach(() => {
  bot.service.reset();
  bot.discord.clearFaults();
});

const READY = 'Your video is ready';
const FAILED = 'could not be made';
const isFinal = (message: APIMessage) =>
  [READY, FAILED, '**Cancelled**', '**Interrupted**'].some((text) => message.content.includes(text));

/** The member's quota as `/usage` tells them. */
const usageOf = (target: TestBot, member?: FakeMember) => memberUsage(target.discord, member);

interface Outcome {
  ix: FakeInteraction;
  final: APIMessage;
  jobId: string;
  state: unknown;
  /** How many videos the job added to the member's usage: 1 if it kept its charge, else 0. */
  charged: number;
}

/**
 * `/video` on `target`, waited for until its reply is final and the job has logged its end; the
 * member's usage is read before and after, and nothing may be left reserved.
 */
async function slashJob(target: TestBot, prompt: string): Promise<Outcome> {
  const before = await usageOf(target);
  const ix = target.discord.slashCommand({ name: 'video', options: videoOptions({ prompt }) });
  const final = await target.discord.waitForOriginal(ix, isFinal);
  const jobId = jobIdOf(final);
  const finished = await waitForJobFinished(target.logs, jobId);
  const after = await usageOf(target);
  expect(after.running).toBe(0);
  return { ix, final, jobId, state: finished.state, charged: after.used - before.used };
}

/** A failed job as the member sees it: the reason, a Retry button, and nothing charged. */
function expectFailedWithRetry(outcome: Outcome, reason: string): void {
  expect(outcome.final.content).toContain(reason);
  expect(labelsOf(outcome.final)).toEqual(['Retry']);
  expect(outcome.state).toBe('failed');
  expect(outcome.charged).toBe(0);
}

/** A mention with an image: the progress lives in the bot's reply (a channel message it owns). */
function mentionJob(target: TestBot, prompt: string): APIMessage {
  return target.discord.sendMessage({
    content: prompt,
    mentionsBot: true,
    attachments: [{ filename: 'cat.png', contentType: 'image/png', bytes: PNG_BYTES }],
  });
}

function botMessagesReplyingTo(target: TestBot, sent: APIMessage): APIMessage[] {
  return target.discord
    .channelMessages()
    .filter(
      (message) =>
        message.author.id === target.discord.botUser.id && message.message_reference?.message_id === sent.id,
    );
}

/** A progress stream paced so a test can act while the job runs. */
const slowStream = (steps: number[], chunkDelayMs: number) => ({
  ...progressStream({ steps }),
  chunkDelayMs,
});

describe('video service faults', () => {
  it('service refuses connections: retried a bounded number of times, then failed with Retry', async () => {
    const refused = await startTestBot({ env: { SORA_API_URL: await unusedPortUrl() } });
    try {
      const outcome = await slashJob(refused, 'a lighthouse in fog');
      expectFailedWithRetry(outcome, 'could not reach the video service');
      expect(logsOfJob(refused.logs, outcome.jobId, 'service_retry')).toHaveLength(2);
    } finally {
      await refused.close();
    }
  });

  it('service answers 5xx before any event: not sent again (the relay may have billed it), failed with Retry', async () => {
    const { service, logs } = bot;
    service.enqueue({ status: 502, body: { error: { message: 'bad gateway' } } });
    service.enqueue(progressStream());
    const outcome = await slashJob(bot, 'a red kite over hills');
    expectFailedWithRetry(outcome, 'The video service is having trouble right now');
    // One request only: a relay that took the request and then failed may already be making (and
    // charging for) the video, so the bot does not order a second one behind the member's back.
    expect(service.requests).toHaveLength(1);
    expect(logsOfJob(logs, outcome.jobId, 'service_retry')).toHaveLength(0);
  });

  it('service answers 429 before any event: retried and delivered', async () => {
    const { service } = bot;
    service.enqueue({ status: 429, body: { error: { message: 'Too many requests' } } });
    service.enqueue(progressStream());
    const { final, state, charged } = await slashJob(bot, 'a fox in the snow');
    expect(hasVideoFile(final)).toBe(true);
    expect(state).toBe('delivered');
    expect(charged).toBe(1);
    expect(service.requests).toHaveLength(2);
  });

  it('service answers 429 every time: failed after the bounded retries with a clear message', async () => {
    const { service } = bot;
    for (let i = 0; i < 3; i++)
      service.enqueue({ status: 429, body: { error: { message: 'Too many requests' } } });
    expectFailedWithRetry(await slashJob(bot, 'a busy market'), 'The video service is busy right now');
    // SERVICE_RETRIES defaults to 2: three tries in all, and the job ended after the third.
    expect(service.requests).toHaveLength(3);
  });

  it('stream cut after events: failed once, not retried, Retry offered', async () => {
    const { service } = bot;
    const claimed = service.enqueue({ ...progressStream({ steps: [10, 40, 70] }), cutAfterFrames: 4 });
    expectFailedWithRetry(
      await slashJob(bot, 'a waterfall at night'),
      'connection to the video service was lost',
    );
    expect(await (await claimed).ended).toBe('cut');
    expect(service.requests).toHaveLength(1);
  });

  it('stream stalls: failed after SERVICE_STALL_TIMEOUT_MS, not retried', async () => {
    const { service } = bot;
    const claimed = service.enqueue({ ...progressStream({ steps: [10] }), stallAfterFrames: 4 });
    expectFailedWithRetry(await slashJob(bot, 'a frozen lake'), 'stopped responding');
    expect(await (await claimed).ended).toBe('client-disconnected');
    expect(service.requests).toHaveLength(1);
  });

  it('garbage reply body: failed as unreadable, not retried', async () => {
    const { service } = bot;
    service.enqueue({
      status: 200,
      body: '<html><body><h1>502 Bad Gateway</h1></body></html>',
      headers: { 'content-type': 'text/html' },
    });
    expectFailedWithRetry(await slashJob(bot, 'a glass of water'), 'could not read');
    expect(service.requests).toHaveLength(1);
  });

  it('malformed events after progress: failed as unreadable, not retried', async () => {
    const { service } = bot;
    const garbage = Array.from({ length: 12 }, (_, i) => `{"choices": [{"delta": ${i}`);
    service.enqueue({ events: [contentChunk('> 🏃 进度：20.0%\n\n'), ...garbage] });
    expectFailedWithRetry(await slashJob(bot, 'a spinning top'), 'could not read');
    expect(service.requests).toHaveLength(1);
  });

  it('error event mid-stream: failed with the reason the service gave', async () => {
    const { service } = bot;
    service.enqueue({ transcript: readStreamFixture('24-sora2api-midstream-error.sse') });
    expectFailedWithRetry(await slashJob(bot, 'a city timelapse'), 'Upstream API timeout');
    expect(service.requests).toHaveLength(1);
  });
});

describe('Discord faults', () => {
  it('429 on progress edits: edits coalesce, no stale backlog, the job finishes', async () => {
    const { discord, service } = bot;
    const steps = Array.from({ length: 19 }, (_, i) => (i + 1) * 5);
    service.enqueue(slowStream(steps, 40));
    discord.failNext({
      method: 'PATCH',
      route: '/messages/@original',
      status: 429,
      retryAfter: 0.5,
      times: 3,
    });
    const { ix, final, state, charged } = await slashJob(bot, 'a hummingbird');
    expect(hasVideoFile(final)).toBe(true);
    expect(state).toBe('delivered');
    expect(charged).toBe(1);
    const edits = discord
      .requestsFor(ix)
      .filter((request) => request.method === 'PATCH' && !request.injected && request.files.length === 0);
    // 19 progress steps; paced and coalesced, only a handful of edits reach Discord.
    expect(edits.length).toBeLessThanOrEqual(6);
    const percents = edits
      .map((request) => /\*\*(\d+)%\*\*/.exec(String((request.body as { content?: string }).content))?.[1])
      .filter((percent) => percent !== undefined)
      .map(Number);
    expect(percents).toEqual([...percents].sort((a, b) => a - b));
  });

  it('5xx on progress edits: the job carries on and is delivered', async () => {
    const { discord, service, logs } = bot;
    service.enqueue(slowStream([20, 50, 80], 150));
    // discord.js retries a 5xx three times; four in a row reach the bot as an error.
    const fault = discord.failNext({
      method: 'PATCH',
      route: '/messages/@original',
      status: 502,
      times: 4,
      withFiles: false,
    });
    const { final, jobId, state, charged } = await slashJob(bot, 'a kettle boiling');
    expect(hasVideoFile(final)).toBe(true);
    expect(state).toBe('delivered');
    expect(charged).toBe(1);
    expect(fault.hits).toBe(4);
    expect(logsOfJob(logs, jobId, 'progress_edit_failed').length).toBeGreaterThan(0);
  });

  it('5xx on the upload: not sent again, the link is posted instead', async () => {
    const { discord, service } = bot;
    service.enqueue(progressStream());
    const fault = discord.failNext({ route: '/messages/@original', status: 500, withFiles: true, times: 5 });
    const { ix, final, state, charged } = await slashJob(bot, 'a paper plane');
    expect(final.content).toContain(READY);
    expect(final.content).toContain(service.defaultVideoUrl);
    expect(state).toBe('delivered');
    expect(charged).toBe(1);
    expect(fault.hits).toBe(1);
    expect(discord.requestsFor(ix).filter((request) => request.files.length > 0)).toHaveLength(1);
  });

  it('progress message deleted (10008): delivered in a new message', async () => {
    const { discord, service, logs } = bot;
    const usage = await usageOf(bot);
    service.enqueue(slowStream([10, 40, 70], 300));
    const sent = mentionJob(bot, 'a sailboat at dawn');
    const first = await discord.waitForMessage(
      (message) =>
        message.message_reference?.message_id === sent.id && message.author.id === discord.botUser.id,
    );
    discord.deleteMessage(first);
    const delivered = await discord.waitForMessage(
      (message) => message.message_reference?.message_id === sent.id && hasVideoFile(message),
    );
    expect(delivered.id).not.toBe(first.id);
    expect(delivered.content).toContain(READY);
    const jobId = jobIdOf(delivered);
    expect((await waitForJobFinished(logs, jobId)).state).toBe('delivered');
    const deleted = parseLogs(logs).filter((entry) => entry.event === 'progress_message_deleted');
    expect(deleted.map((entry) => entry.messageId)).toEqual([first.id]);
    expect(botMessagesReplyingTo(bot, sent)).toEqual([delivered]);
    expect(await usageOf(bot)).toEqual({ used: usage.used + 1, running: 0 });
  });

  it('interaction token rejected early (401 50027): continues in a channel message, delivered with a ping', async () => {
    await expectCarriesOnAfterDeadToken((ix) => bot.discord.expireToken(ix));
  });

  it('interaction webhook unknown early (404 10015): continues in a channel message, delivered with a ping', async () => {
    await expectCarriesOnAfterDeadToken(() =>
      bot.discord.failNext({ method: 'PATCH', route: '/messages/@original', status: 404, code: 10015 }),
    );
  });

  it('interaction token dies at delivery (401 50027 on the upload): delivered in a new channel message with a ping', async () => {
    const { discord, service, logs } = bot;
    const usage = await usageOf(bot);
    service.enqueue(progressStream());
    discord.failNext({ route: '/messages/@original', status: 401, code: 50027, withFiles: true });
    const ix = discord.slashCommand({ name: 'video', options: videoOptions({ prompt: 'a comet' }) });
    const refused = await discord.waitForRequest(
      (request) => request.interactionId === ix.id && request.status === 401,
    );
    const delivered = await discord.waitForMessage(
      (message, record) =>
        record.origin === 'bot' && message.content.includes('a comet') && hasVideoFile(message),
    );
    const jobId = jobIdOf(delivered);
    expect((await waitForJobFinished(logs, jobId)).state).toBe('delivered');
    expect(delivered.mentions.map((user) => user.id)).toEqual([ix.user.id]);
    expect(discord.requestsFor(ix).filter((request) => request.index > refused.index)).toEqual([]);
    const reply = discord.originalResponse(ix);
    expect(reply?.content).toContain('continues in a new message');
    expect(await usageOf(bot)).toEqual({ used: usage.used + 1, running: 0 });
  });

  it('no Send Messages permission in the channel (403 50013): the member is told in a DM, delivered there', async () => {
    const { discord, service, logs } = bot;
    const usage = await usageOf(bot);
    service.enqueue(progressStream());
    discord.setAppPermissions(
      DEFAULT_APP_PERMISSIONS & ~PermissionFlagsBits.SendMessages,
      discord.otherChannel.id,
    );
    try {
      const sent = discord.sendMessage({
        content: 'a lantern festival',
        mentionsBot: true,
        channel: discord.otherChannel,
        attachments: [{ filename: 'cat.png', contentType: 'image/png', bytes: PNG_BYTES }],
      });
      const dm = discord.dmChannel(discord.defaultMember);
      const delivered = await discord.waitForMessage(
        (message) => message.content.includes('a lantern festival') && hasVideoFile(message),
        { channelId: dm.id },
      );
      expect(delivered.content).toContain(READY);
      expect((await waitForJobFinished(logs, jobIdOf(delivered))).state).toBe('delivered');
      expect(discord.channelMessages(discord.otherChannel).map((message) => message.id)).toEqual([sent.id]);
      expect(
        discord.channelMessages(dm).filter((message) => message.author.id === discord.botUser.id),
      ).toHaveLength(1);
      expect(await usageOf(bot)).toEqual({ used: usage.used + 1, running: 0 });
    } finally {
      discord.setAppPermissions(DEFAULT_APP_PERMISSIONS, discord.otherChannel.id);
    }
  });

  it('no Attach Files permission (403 50013) on the upload: the link instead of the file', async () => {
    const { discord, service, logs } = bot;
    const usage = await usageOf(bot);
    service.enqueue(progressStream());
    discord.failNext({ route: /^\/channels\/\d+\/messages/, status: 403, code: 50013, withFiles: true });
    const sent = mentionJob(bot, 'a windmill');
    const final = await discord.waitForMessage(
      (message) => message.message_reference?.message_id === sent.id && message.content.includes(READY),
    );
    expect(final.attachments).toHaveLength(0);
    expect(final.content).toContain(service.defaultVideoUrl);
    expect(final.content).toContain('did not accept the upload');
    expect((await waitForJobFinished(logs, jobIdOf(final))).state).toBe('delivered');
    expect(await usageOf(bot)).toEqual({ used: usage.used + 1, running: 0 });
  });

  it('upload too large (413 40005): the link instead of the file', async () => {
    const { discord, service, logs } = bot;
    const usage = await usageOf(bot);
    service.enqueue(progressStream());
    const limit = discord.settings.guildUploadLimit;
    discord.settings.guildUploadLimit = 1024;
    try {
      const sent = mentionJob(bot, 'a hot air balloon');
      const final = await discord.waitForMessage(
        (message) => message.message_reference?.message_id === sent.id && message.content.includes(READY),
      );
      expect(final.attachments).toHaveLength(0);
      expect(final.content).toContain(service.defaultVideoUrl);
      expect((await waitForJobFinished(logs, jobIdOf(final))).state).toBe('delivered');
      const tooLarge = discord.requests.filter((request) => request.status === 413);
      expect(tooLarge).toHaveLength(1);
      expect(await usageOf(bot)).toEqual({ used: usage.used + 1, running: 0 });
    } finally {
      discord.settings.guildUploadLimit = limit;
    }
  });

  it('slow upload within the upload timeout: posted exactly once, with the file', async () => {
    const { discord, service } = bot;
    service.enqueue(progressStream());
    discord.failNext({ route: '/messages/@original', withFiles: true, delayMs: 400 });
    const { ix, final, state, charged } = await slashJob(bot, 'a slow river');
    expect(hasVideoFile(final)).toBe(true);
    expect(state).toBe('delivered');
    expect(charged).toBe(1);
    expect(discord.requestsFor(ix).filter((request) => request.files.length > 0)).toHaveLength(1);
  });

  it('upload slower than VIDEO_UPLOAD_TIMEOUT_MS: sent once, never repeated, the member still gets the video', async () => {
    const { discord, service, logs } = bot;
    const usage = await usageOf(bot);
    service.enqueue(progressStream());
    discord.failNext({ route: '/messages/@original', withFiles: true, delayMs: 1_500 });
    const ix = discord.slashCommand({
      name: 'video',
      options: videoOptions({ prompt: 'a glacier calving' }),
    });
    const jobId = jobIdOf(await discord.waitForOriginal(ix, (message) => message.content.includes(READY)));
    await waitForJobFinished(logs, jobId);
    await discord.waitForRequest((request) => request.interactionId === ix.id && request.files.length > 0);
    expect(discord.requestsFor(ix).filter((request) => request.files.length > 0)).toHaveLength(1);
    // The upload landed late, after the bot gave up on it and posted the link: the reply shows both.
    const shown = discord.originalResponse(ix);
    expect(shown && hasVideoFile(shown)).toBe(true);
    expect((await waitForJobFinished(logs, jobId)).linkWhy).toBe('upload-failed');
    expect(await usageOf(bot)).toEqual({ used: usage.used + 1, running: 0 });
  });
});

/** The reply's token stops working mid-job: the job moves to a channel message and ends there. */
async function expectCarriesOnAfterDeadToken(kill: (ix: FakeInteraction) => void): Promise<void> {
  const { discord, service, logs } = bot;
  const usage = await usageOf(bot);
  service.enqueue(slowStream([10, 30, 50, 70, 90], 250));
  const since = discord.mark();
  const ix = discord.slashCommand({
    name: 'video',
    options: videoOptions({ prompt: 'a train in the rain' }),
  });
  const running = await discord.waitForOriginal(ix, (message) => /\d+%/.test(message.content));
  const jobId = jobIdOf(running);
  kill(ix);
  const delivered = await discord.waitForMessage(
    (message, record) => record.origin === 'bot' && jobIdIn(message) === jobId && hasVideoFile(message),
  );
  expect((await waitForJobFinished(logs, jobId)).state).toBe('delivered');
  expect(jobIdOf(delivered)).toBe(jobId);
  expect(delivered.channel_id).toBe(discord.channel.id);
  expect(delivered.content).toContain(`<@${ix.user.id}>`);
  expect(delivered.mentions.map((user) => user.id)).toEqual([ix.user.id]);
  const posted = discord.requests
    .slice(since)
    .find((request) => request.method === 'POST' && request.files.length > 0);
  expect(posted?.body).toMatchObject({ allowed_mentions: { parse: [], users: [ix.user.id] } });

  const tokenRequests = discord.requestsFor(ix);
  const refused = tokenRequests.findIndex((request) => request.status === 401 || request.status === 404);
  expect(refused).toBeGreaterThan(-1);
  expect(tokenRequests.slice(refused + 1)).toEqual([]);
  // The old reply is not left looking busy: edited with the bot's own token, it points below.
  const reply = discord.originalResponse(ix);
  expect(reply?.content).toContain('continues in a new message');
  expect(reply && labelsOf(reply)).toEqual([]);
  expect(await usageOf(bot)).toEqual({ used: usage.used + 1, running: 0 });
}

describe('interaction token lifetime (scaled down)', () => {
  const LIFETIME_MS = 10_000;
  let shortLived: TestBot;

  beforeAll(async () => {
    const discord = await startFakeDiscord({ tokenLifetimeMs: LIFETIME_MS });
    shortLived = await startTestBot({ discord, env: { INTERACTION_TOKEN_LIFETIME_MS: String(LIFETIME_MS) } });
  });
  afterAll(() => shortLived?.close());

  it('job outlives the token: handed over before expiry, delivered in the channel, token never used after it', async () => {
    const { discord, service, logs } = shortLived;
    const usage = await usageOf(shortLived);
    service.enqueue(slowStream([5, 15, 25, 35, 45, 55, 65, 75, 85, 95], 300));
    // Created 7.5 s ago: the bot hands over 9 s after creation, Discord kills the token at 10 s.
    const createdAt = Date.now() - 7_500;
    const ix = discord.slashCommand({
      name: 'video',
      options: videoOptions({ prompt: 'a long night' }),
      createdAt,
    });
    const running = await discord.waitForOriginal(ix, (message) => /\d+%/.test(message.content));
    const jobId = jobIdOf(running);
    const delivered = await discord.waitForMessage(
      (message, record) => record.origin === 'bot' && jobIdIn(message) === jobId && hasVideoFile(message),
    );
    expect((await waitForJobFinished(logs, jobId)).state).toBe('delivered');
    expect(jobIdOf(delivered)).toBe(jobId);
    expect(delivered.content).toContain(`<@${ix.user.id}>`);
    expect(delivered.mentions.map((user) => user.id)).toEqual([ix.user.id]);

    const tokenRequests = discord.requestsFor(ix);
    expect(tokenRequests.every((request) => request.status < 400)).toBe(true);
    expect(tokenRequests.every((request) => request.at < createdAt + LIFETIME_MS)).toBe(true);
    // The reply was told where the job went through the token itself, while it still worked.
    const note = tokenRequests.find((request) =>
      JSON.stringify(request.body).includes('continues in a new message'),
    );
    expect(note?.status).toBe(200);
    const reply = discord.originalResponse(ix);
    expect(reply?.content).toContain('continues in a new message');
    expect(reply && labelsOf(reply)).toEqual([]);
    expect(await usageOf(shortLived)).toEqual({ used: usage.used + 1, running: 0 });
  });
});

describe('queue', () => {
  let queued: TestBot;

  beforeAll(async () => {
    queued = await startTestBot({ env: { MAX_CONCURRENT_JOBS: '1' } });
  });
  afterAll(() => queued?.close());

  it('MAX_CONCURRENT_JOBS: waiting jobs show their place, Cancel works in the queue, first in first out', async () => {
    const { discord, service, logs } = queued;
    // Three members, so the per-member cap on running videos is not what holds the jobs back.
    const [bob, carol] = [discord.member({ username: 'bob' }), discord.member({ username: 'carol' })];
    const firstServed = service.enqueue(slowStream([10, 40, 70], 300));
    const first = discord.slashCommand({ name: 'video', options: videoOptions({ prompt: 'first' }) });
    await firstServed;
    const second = discord.slashCommand({
      name: 'video',
      options: videoOptions({ prompt: 'second' }),
      member: bob,
    });
    const secondWaiting = await discord.waitForOriginal(second, (message) =>
      message.content.includes('#1** in line'),
    );
    const third = discord.slashCommand({
      name: 'video',
      options: videoOptions({ prompt: 'third' }),
      member: carol,
    });
    await discord.waitForOriginal(third, (message) => message.content.includes('#2** in line'));
    // A waiting job holds its reservation (it counts as used until it ends).
    expect(await usageOf(queued, bob)).toEqual({ used: 1, running: 1 });

    discord.clickButton({
      message: secondWaiting,
      customId: customIdOf(secondWaiting, 'Cancel'),
      member: bob,
    });
    const cancelled = await discord.waitForOriginal(second, (message) =>
      message.content.includes('**Cancelled**'),
    );
    expect(labelsOf(cancelled)).toEqual([]);
    expect((await waitForJobFinished(logs, jobIdOf(secondWaiting))).state).toBe('cancelled');
    await discord.waitForOriginal(third, (message) => message.content.includes('#1** in line'));

    expect(hasVideoFile(await discord.waitForOriginal(first, hasVideoFile))).toBe(true);
    const thirdDone = await discord.waitForOriginal(third, hasVideoFile);
    expect((await waitForJobFinished(logs, jobIdOf(thirdDone))).state).toBe('delivered');
    // The cancelled job never reached the service and cost nothing; the others ran in order.
    expect(service.requests.map((request) => request.promptText)).toEqual(['first', 'third']);
    expect(await usageOf(queued, bob)).toEqual({ used: 0, running: 0 });
    expect(await usageOf(queued, carol)).toEqual({ used: 1, running: 0 });
  });
});

describe('graceful shutdown', () => {
  it('during shutdown: a new request is told the bot is restarting, a running job gets the grace and is delivered', async () => {
    const stopping = await startTestBot();
    try {
      const { discord, service, app, logs } = stopping;
      service.enqueue(slowStream([20, 60], 300));
      const running = discord.slashCommand({
        name: 'video',
        options: videoOptions({ prompt: 'almost done' }),
      });
      const shown = await discord.waitForOriginal(running, (message) => /\d+%/.test(message.content));
      const shutdown = app.finishJobs(10_000);
      const late = discord.slashCommand({ name: 'video', options: videoOptions({ prompt: 'too late' }) });
      const told = await discord.waitForMessage(
        (message, record) => record.interactionId === late.id && message.content.includes('restarting'),
      );
      expect(told.flags ?? 0).toBe(64);
      await shutdown;
      expect(hasVideoFile(await discord.waitForOriginal(running, hasVideoFile))).toBe(true);
      expect((await waitForJobFinished(logs, jobIdOf(shown))).state).toBe('delivered');
      expect(service.requests).toHaveLength(1);
      await stopping.stopBot();
      await stopping.restartBot();
      expect(await usageOf(stopping)).toEqual({ used: 1, running: 0 });
    } finally {
      await stopping.close();
    }
  });

  it('stop mid-job past SHUTDOWN_GRACE_MS: the reply says Interrupted with Retry', async () => {
    const stopping = await startTestBot();
    try {
      const { discord, service, logs } = stopping;
      const claimed = service.enqueue({ ...progressStream({ steps: [10] }), stallAfterFrames: 4 });
      const ix = discord.slashCommand({ name: 'video', options: videoOptions({ prompt: 'never finishes' }) });
      const running = await discord.waitForOriginal(ix, (message) => /\d+%/.test(message.content));
      await stopping.stopBot();
      const final = await discord.waitForOriginal(ix, (message) =>
        message.content.includes('**Interrupted**'),
      );
      expect(labelsOf(final)).toEqual(['Retry']);
      expect((await waitForJobFinished(logs, jobIdOf(running))).state).toBe('interrupted');
      expect(await (await claimed).ended).toBe('client-disconnected');
      await waitForLog(logs, (entry) => entry.event === 'bot_stopped');
      await stopping.restartBot();
      expect(await usageOf(stopping)).toEqual({ used: 0, running: 0 });
    } finally {
      await stopping.close();
    }
  });
});

describe('buttons and downloads', () => {
  it('Retry after a failure: a new job with the same request, delivered', async () => {
    const { discord, service, logs } = bot;
    service.enqueue({ status: 400, body: { error: { message: 'content policy' } } });
    service.enqueue(progressStream());
    const failed = await slashJob(bot, 'a dancing robot');
    expect(failed.state).toBe('failed');
    expect(failed.charged).toBe(0);
    const failedUsage = await usageOf(bot);
    const click = discord.clickButton({ message: failed.final, customId: customIdOf(failed.final, 'Retry') });
    const again = await discord.waitForOriginal(click, hasVideoFile);
    expect(again.content).toContain(READY);
    const newJob = jobIdOf(again);
    expect(newJob).not.toBe(failed.jobId);
    expect((await waitForJobFinished(logs, newJob)).state).toBe('delivered');
    expect(await usageOf(bot)).toEqual({ used: failedUsage.used + 1, running: 0 });
    expect(service.requests.map((request) => request.promptText)).toEqual([
      'a dancing robot',
      'a dancing robot',
    ]);
  });

  it('Retry pressed by another member: refused privately, no new job', async () => {
    const { discord, service } = bot;
    service.enqueue({ status: 400, body: { error: { message: 'content policy' } } });
    const failed = await slashJob(bot, 'my own idea');
    const stranger = discord.member({ username: 'mallory' });
    const click = discord.clickButton({
      message: failed.final,
      customId: customIdOf(failed.final, 'Retry'),
      member: stranger,
    });
    const answer = await discord.waitForCallback(click);
    expect(answer.body).toMatchObject({ type: 4, data: { flags: 64 } });
    expect(JSON.stringify(answer.body)).toContain('Only the member who asked');
    expect(service.requests).toHaveLength(1);
    expect(await usageOf(bot, stranger)).toEqual({ used: 0, running: 0 });
  });

  it('download refused (private address, ALLOW_PRIVATE_VIDEO_URLS=false): the member gets the link', async () => {
    const strict = await startTestBot({ env: { ALLOW_PRIVATE_VIDEO_URLS: 'false' } });
    try {
      const { service, logs } = strict;
      service.enqueue(progressStream());
      const { final, jobId, state, charged } = await slashJob(strict, 'a quiet harbour');
      expect(final.content).toContain(READY);
      expect(final.attachments).toHaveLength(0);
      expect(final.content).toContain(service.defaultVideoUrl);
      expect(final.content).toContain('may not fetch');
      expect(state).toBe('delivered');
      expect(charged).toBe(1);
      expect(service.videoDownloads).toEqual([]);
      expect(logsOfJob(logs, jobId, 'video_sent_as_link')[0]).toMatchObject({ why: 'download-refused' });
    } finally {
      await strict.close();
    }
  });
});

describe('secrets', () => {
  it('no fault lets the service key or the Discord token into a request or a log line', async () => {
    const { discord, service, logs } = bot;
    // A batch of faults of its own, so this test stands alone; it also checks everything the
    // earlier rows left in the request log and the log lines.
    const jobs: Outcome[] = [];
    service.enqueue({ status: 401, body: { error: { message: `invalid key ${TEST_API_KEY}` } } });
    jobs.push(await slashJob(bot, 'secret one'));
    service.enqueue({ ...progressStream({ steps: [10] }), cutAfterFrames: 4 });
    jobs.push(await slashJob(bot, 'secret two'));
    service.enqueue({ status: 500, body: `upstream said Bearer ${TEST_API_KEY}` });
    jobs.push(await slashJob(bot, 'secret three'));
    service.enqueue(progressStream());
    discord.failNext({ route: '/messages/@original', status: 413, code: 40005, withFiles: true });
    jobs.push(await slashJob(bot, 'secret four'));
    service.enqueue(progressStream());
    discord.failNext({ route: '/messages/@original', status: 401, code: 50027 });
    const five = discord.slashCommand({ name: 'video', options: videoOptions({ prompt: 'secret five' }) });
    const fiveDone = await discord.waitForMessage(
      (message, record) =>
        record.origin === 'bot' && message.content.includes('secret five') && hasVideoFile(message),
    );
    await waitForJobFinished(logs, jobIdOf(fiveDone));
    const tokens = [...jobs.map(({ ix }) => ix.token), five.token];

    expect(discord.requests.length).toBeGreaterThan(0);
    for (const request of discord.requests) {
      const text = requestTextWithoutAuth(request);
      expect(text).not.toContain(TEST_API_KEY);
      expect(text).not.toContain(DISCORD_TOKEN);
      if (request.auth === 'bot') expect(request.headers.authorization).toBe(`Bot ${DISCORD_TOKEN}`);
    }
    expect(logs.length).toBeGreaterThan(0);
    for (const line of logs) {
      expect(line).not.toContain(TEST_API_KEY);
      expect(line).not.toContain(DISCORD_TOKEN);
      // Interaction tokens can edit the bot's replies for 15 minutes: not for logs either.
      for (const token of tokens) expect(line).not.toContain(token);
    }
    for (const request of service.requests) expect(JSON.stringify(request.body)).not.toContain(DISCORD_TOKEN);
    expect(parseLogs(logs).some((entry) => entry.event === 'service_failed')).toBe(true);
  });
});

describe('docs/reliability.md', () => {
  it('every row of the fault matrix names a test that exists, and every fault test has a row', () => {
    const doc = readFileSync(new URL('../../docs/reliability.md', import.meta.url), 'utf8');
    // The fault suites: this one, the restart one, and every `*-faults.test.ts` beside them.
    const suiteNames = [
      'faults.test.ts',
      'restart.test.ts',
      ...readdirSync(new URL('./', import.meta.url)).filter((name) => name.endsWith('-faults.test.ts')),
    ];
    const sources = suiteNames.map((name) => readFileSync(new URL(`./${name}`, import.meta.url), 'utf8'));
    const titles = sources.flatMap((source) =>
      [...source.matchAll(/\bit\(\s*'([^']+)'/g)].map((match) => match[1] as string),
    );
    // Every test is found by that pattern (a title in other quotes would slip past the check).
    expect(titles).toHaveLength(sources.join('\n').match(/\bit\(/g)?.length ?? 0);
    const rows = [...doc.matchAll(/^\|(.+)\|\s*$/gm)]
      .map((match) => (match[1] as string).split('|').map((cell) => cell.trim()))
      .filter((cells) => cells.length === 4 && !/^-+$/.test(cells[0] ?? '') && cells[0] !== 'Fault');
    const named = rows.map((cells) => /`([^`]+)`/.exec(cells[3] ?? '')?.[1]);
    expect(rows.length).toBeGreaterThan(20);
    expect(named.filter((name) => name === undefined)).toEqual([]);
    expect(named.filter((name) => !titles.includes(name as string))).toEqual([]);
    const self = 'every row of the fault matrix names a test that exists, and every fault test has a row';
    expect(titles.filter((title) => title !== self && !named.includes(title))).toEqual([]);
  });
});
