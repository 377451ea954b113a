import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeDiscord, startFakeDiscord } from '../fakes/fake-discord/fake-discord.ts';
import { progressStream } from '../fakes/fake-video-service.ts';
import { hasVideoFile, jobIdOf, labelsOf, usageOf, waitForJobFinished } from '../harness/fault-kit.ts';
import { startTestBot, type TestBot, videoOptions } from '../harness/test-bot.ts';

/**
 * A member who installed the app to their own account uses /video in a server that never added
 * the bot: the job lives in the interaction reply alone, counts against the member's own
 * allowance (DEFAULT_USER_LIMIT), and past the token goes to the member's DMs.
 */

/** Every request the bot made with its own token to the server it is not in (there must be none). */
function botRequestsTo(discord: FakeDiscord, place: { id: string; channel: { id: string } }) {
  return discord.requests.filter(
    (request) =>
      request.auth === 'bot' && (request.path.includes(place.id) || request.path.includes(place.channel.id)),
  );
}

describe('user install in a server without the bot', () => {
  let bot: TestBot;

  beforeAll(async () => {
    bot = await startTestBot({
      env: { DEFAULT_USER_LIMIT: '1', DEFAULT_MEMBER_LIMIT: '0', ALLOW_DMS: 'true' },
    });
  });
  afterAll(() => bot?.close());

  it('delivers in the reply, posts nothing in the channel, and counts against the member, not the server', async () => {
    const { discord, service, logs } = bot;
    const elsewhere = discord.guildWithoutBot();
    const member = discord.defaultMember;
    service.enqueue(progressStream({ steps: [30, 70] }));
    const ix = discord.slashCommand({
      name: 'video',
      channel: elsewhere.channel,
      options: videoOptions({ prompt: 'a lighthouse in fog' }),
    });
    expect(ix.payload.authorizing_integration_owners).toEqual({ 1: member.user.id });
    const delivered = await discord.waitForOriginal(ix, hasVideoFile);
    expect(delivered.content).toContain('Your video is ready');
    expect((await waitForJobFinished(logs, jobIdOf(delivered))).state).toBe('delivered');

    // Only the interaction reply: no channel message, no guild lookups with the bot's token.
    const botPosts = discord
      .channelMessages(elsewhere.channel)
      .filter((message) => message.author.id === discord.botUser.id && message.id !== delivered.id);
    expect(botPosts).toEqual([]);
    expect(botRequestsTo(discord, elsewhere)).toEqual([]);

    // The member's own allowance: used there (1 of DEFAULT_USER_LIMIT=1), not in the server they share with the bot.
    expect(await usageOf(discord, member, elsewhere.channel)).toEqual({ used: 1, running: 0 });
    expect(await usageOf(discord, member)).toEqual({ used: 0, running: 0 });
    const again = discord.slashCommand({
      name: 'video',
      channel: elsewhere.channel,
      options: videoOptions({ prompt: 'one more' }),
    });
    const refusal = await discord.waitForRequest(
      (request) =>
        request.interactionId === again.id &&
        request.method === 'POST' &&
        request.route.includes('/webhooks/'),
    );
    expect(JSON.stringify(refusal.body)).toMatch(/limit|used/i);
    expect(service.requests).toHaveLength(1);
  });
});

describe('user install in a DM between members', () => {
  let bot: TestBot;

  beforeAll(async () => {
    bot = await startTestBot({ env: { ALLOW_DMS: 'true' } });
  });
  afterAll(() => bot?.close());

  it('in a DM between members (ALLOW_DMS=true): delivered in the reply, nothing sent to that DM with the bot token', async () => {
    const { discord, service } = bot;
    const member = discord.member({ username: 'dm-user' });
    const channel = discord.privateChannel(member);
    service.enqueue(progressStream({ steps: [50] }));
    const ix = discord.slashCommand({
      name: 'video',
      guild: false,
      channel,
      member,
      options: videoOptions({ prompt: 'two friends at a campfire' }),
    });
    expect(ix.payload.context).toBe(2);
    const delivered = await discord.waitForOriginal(ix, hasVideoFile);
    expect(delivered.content).toContain('Your video is ready');
    const touched = discord.requests.filter(
      (request) => request.auth === 'bot' && request.path.includes(channel.id),
    );
    expect(touched).toEqual([]);
  });

  it('in a DM between members with ALLOW_DMS off: refused privately, nothing starts', async () => {
    const discord = await startFakeDiscord();
    const strict = await startTestBot({ discord });
    try {
      const member = discord.member({ username: 'dm-strict' });
      const ix = discord.slashCommand({
        name: 'video',
        guild: false,
        channel: discord.privateChannel(member),
        member,
        options: videoOptions({ prompt: 'not here' }),
      });
      const answer = await discord.waitForCallback(ix);
      expect(answer.body).toMatchObject({ type: 4, data: { flags: 64 } });
      expect(JSON.stringify(answer.body)).toMatch(/direct message/i);
      expect(strict.service.requests).toEqual([]);
    } finally {
      await strict.close();
    }
  });
});

describe('user install: the token runs out (scaled down)', () => {
  const LIFETIME_MS = 10_000;
  let shortLived: TestBot;

  beforeAll(async () => {
    const discord = await startFakeDiscord({ tokenLifetimeMs: LIFETIME_MS });
    shortLived = await startTestBot({ discord, env: { INTERACTION_TOKEN_LIFETIME_MS: String(LIFETIME_MS) } });
  });
  afterAll(() => shortLived?.close());

  it('says so in the reply before the token ends, then delivers the video by DM, never in the channel', async () => {
    const { discord, service, logs } = shortLived;
    const elsewhere = discord.guildWithoutBot();
    const member = discord.defaultMember;
    service.enqueue({
      ...progressStream({ steps: [5, 15, 25, 35, 45, 55, 65, 75, 85, 95] }),
      chunkDelayMs: 300,
    });
    // Created 7.5 s ago: the bot hands over 9 s after creation, Discord kills the token at 10 s.
    const createdAt = Date.now() - 7_500;
    const ix = discord.slashCommand({
      name: 'video',
      channel: elsewhere.channel,
      options: videoOptions({ prompt: 'a long night' }),
      createdAt,
    });
    const running = await discord.waitForOriginal(ix, (message) => /\d+%/.test(message.content));
    const jobId = jobIdOf(running);
    const dm = discord.dmChannel(member);
    const delivered = await discord.waitForMessage(
      (message, record) => record.channelId === dm.id && hasVideoFile(message),
    );
    expect(jobIdOf(delivered)).toBe(jobId);
    expect((await waitForJobFinished(logs, jobId)).state).toBe('delivered');
    expect(
      discord.requests.some((request) => request.method === 'POST' && request.path === '/users/@me/channels'),
    ).toBe(true);

    // The reply said where the video would go, through the token while it still worked.
    const tokenRequests = discord.requestsFor(ix);
    expect(tokenRequests.every((request) => request.status < 400)).toBe(true);
    expect(tokenRequests.every((request) => request.at < createdAt + LIFETIME_MS)).toBe(true);
    const reply = discord.originalResponse(ix);
    expect(reply?.content).toContain('direct message');
    expect(reply && labelsOf(reply)).toEqual([]);
    expect(botRequestsTo(discord, elsewhere)).toEqual([]);
  });
});
