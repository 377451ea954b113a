import type { APIMessage } from 'discord-api-types/v10';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MANAGE_SERVER_REQUIRED } from '../../src/commands/preconditions.ts';
import type { FakeInteraction, FakeMember } from '../fakes/fake-discord/fake-discord.ts';
import { progressStream } from '../fakes/fake-video-service.ts';
import { buttonsOf, customIdOf, hasVideoFile } from '../harness/fault-kit.ts';
import { type RedisServer, startRedisServer } from '../harness/redis-server.ts';
import { startTestBot, type TestBot, videoOptions } from '../harness/test-bot.ts';

let bot: TestBot;
let admin: FakeMember;
let redis: RedisServer | undefined;

/** Runs a command and returns the text of its (ephemeral) answer. */
async function runCommand(
  name: string,
  member: FakeMember,
  extra: Partial<Parameters<TestBot['discord']['slashCommand']>[0]> = {},
): Promise<string> {
  const ix = bot.discord.slashCommand({ name, member, ...extra });
  const callback = await bot.discord.waitForCallback(ix);
  return JSON.stringify(callback.body);
}

function video(member: FakeMember, prompt = 'a lighthouse in a storm'): FakeInteraction {
  return bot.discord.slashCommand({ name: 'video', member, options: videoOptions({ prompt }) });
}

/** The private answer a refused job gets, after its public "thinking…" reply is removed. */
async function refusalOf(ix: FakeInteraction): Promise<APIMessage> {
  return bot.discord.waitForMessage(
    (message, record) => record.ephemeral && ix.followupIds.includes(message.id),
  );
}

describe.each(['sqlite', 'redis'] as const)('quotas on %s', (backend) => {
  beforeAll(async () => {
    redis = backend === 'redis' ? await startRedisServer() : undefined;
    const env: Record<string, string> = { DEFAULT_MAX_RUNNING_PER_MEMBER: '0' };
    if (redis) env.REDIS_URL = redis.url;
    bot = await startTestBot({ env });
    admin = bot.discord.member({ username: 'admin', permissions: 1n << 5n });
    const set = await runCommand('quota', admin, {
      subcommandGroup: 'limit',
      subcommand: 'everyone',
      options: [
        { name: 'count', type: 4, value: 1 },
        { name: 'period', type: 3, value: 'day' },
      ],
    });
    expect(set).toContain('1 video a day');
  });
  afterAll(async () => {
    await bot.close();
    await redis?.stop();
  });
  beforeEach(() => bot.service.reset());

  describe('quotas through every front door', () => {
    it('delivers the first video of the day and refuses the second with the reset time', async () => {
      const member = bot.discord.member({ username: 'dana' });
      bot.service.enqueue(progressStream());
      await bot.discord.waitForOriginal(video(member), hasVideoFile);

      const second = video(member, 'another one');
      const refusal = await refusalOf(second);
      expect(refusal.content).toMatch(/1 of 1/);
      expect(refusal.content).toMatch(/<t:\d+:R>/);
      expect(bot.discord.originalResponse(second)).toBeUndefined();
      expect(bot.service.requests).toHaveLength(1);

      const usage = await runCommand('usage', member);
      expect(usage).toContain('1 of 1 used');
    });

    it('Regenerate pressed in a DM is admitted under the quota of the server the video belongs to', async () => {
      const member = bot.discord.member({ username: 'gus' });
      bot.service.enqueue(progressStream());
      const delivered = await bot.discord.waitForOriginal(video(member), hasVideoFile);
      // The member's one video of the day is used; from the bot's DMs the server's rule still counts.
      const again = bot.discord.clickButton({
        message: delivered,
        customId: customIdOf(delivered, 'Regenerate'),
        member,
        guild: false,
      });
      const refusal = await refusalOf(again);
      expect(refusal.content).toMatch(/1 of 1/);
      expect(bot.service.requests).toHaveLength(1);
    });

    it('does not count a failed or cancelled video', async () => {
      const member = bot.discord.member({ username: 'eli' });
      bot.service.enqueue({
        status: 400,
        body: { error: { message: 'Your request was blocked by our moderation system.' } },
      });
      const failed = video(member);
      await bot.discord.waitForOriginal(failed, (message) => message.content.includes('could not be made'));
      expect(await runCommand('usage', member)).toContain('0 of 1 used');

      bot.service.enqueue({ ...progressStream({ steps: [5] }), stallAfterFrames: 4 });
      const running = video(member);
      // Cancelled while generating (the service has the request), not while still waiting in line.
      const shown = await bot.discord.waitForOriginal(
        running,
        (message) => buttonsOf(message).length > 0 && /\d+%/.test(message.content),
      );
      bot.discord.clickButton({ message: shown, customId: customIdOf(shown, 'Cancel'), member });
      await bot.discord.waitForOriginal(running, (message) => message.content.includes('Cancelled'));
      expect(await runCommand('usage', member)).toContain('0 of 1 used');

      bot.service.enqueue(progressStream());
      await bot.discord.waitForOriginal(video(member), hasVideoFile);
      expect(await runCommand('usage', member)).toContain('1 of 1 used');
    });

    it('starts exactly one job when twenty requests race for the last unit', async () => {
      const member = bot.discord.member({ username: 'fay' });
      bot.service.defaultScenario = progressStream();
      const racing = Array.from({ length: 20 }, (_, index) => video(member, `race ${index}`));
      const outcomes = await Promise.all(
        racing.map((ix) =>
          Promise.race([
            bot.discord.waitForOriginal(ix, hasVideoFile).then(() => 'delivered'),
            refusalOf(ix).then(() => 'refused'),
          ]),
        ),
      );
      expect(outcomes.filter((outcome) => outcome === 'delivered')).toHaveLength(1);
      expect(outcomes.filter((outcome) => outcome === 'refused')).toHaveLength(19);
      expect(bot.service.requests).toHaveLength(1);
    });

    it('applies to mentions in chat too', async () => {
      const member = bot.discord.member({ username: 'gus' });
      bot.service.enqueue(progressStream());
      await bot.discord.waitForOriginal(video(member), hasVideoFile);
      const sent = bot.discord.sendMessage({
        author: member,
        content: 'one more please',
        mentionsBot: true,
        attachments: [{ filename: 'a.png', contentType: 'image/png', bytes: Buffer.from('png') }],
      });
      const reply = await bot.discord.waitForMessage(
        (message) => message.message_reference?.message_id === sent.id,
      );
      expect(reply.content).toMatch(/1 of 1/);
    });

    it("refuses a non-admin's /quota in the bot even though Discord let it through", async () => {
      const answer = await runCommand('quota', bot.discord.member({ username: 'hal' }), {
        subcommand: 'show',
      });
      expect(answer).toContain(MANAGE_SERVER_REQUIRED.replace(/\*/g, '\\\\*').slice(0, 10));
    });

    it('keeps the bot to the channels an admin chose', async () => {
      const { discord } = bot;
      await runCommand('video-settings', admin, {
        subcommandGroup: 'channels',
        subcommand: 'add',
        options: [{ name: 'channel', type: 7, value: discord.channel.id }],
      });
      const elsewhere = discord.slashCommand({
        name: 'video',
        member: discord.member({ username: 'ivy' }),
        channel: discord.otherChannel,
        options: videoOptions({ prompt: 'a cat' }),
      });
      const refusal = await refusalOf(elsewhere);
      expect(refusal.content).toContain(`<#${discord.channel.id}>`);
      await runCommand('video-settings', admin, { subcommandGroup: 'channels', subcommand: 'clear' });
    });
  });
});
