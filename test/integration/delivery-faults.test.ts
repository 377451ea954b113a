import { type APIMessage, PermissionFlagsBits } from 'discord-api-types/v10';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { helpText } from '../../src/commands/triggers/mention.ts';
import { DEFAULT_APP_PERMISSIONS, MessageFlag } from '../fakes/fake-discord/fake-discord.ts';
import { progressStream } from '../fakes/fake-video-service.ts';
import { readStreamFixture } from '../fakes/fixtures.ts';
import { hasVideoFile, jobIdOf, labelsOf, usageOf, waitForJobFinished } from '../harness/fault-kit.ts';
import { PNG_BYTES, startTestBot, type TestBot, videoOptions } from '../harness/test-bot.ts';

/**
 * The job's last message and the bot's refusals, when Discord will not take them as sent: each
 * test checks what the member ends up seeing, through the real bot against the fake Discord.
 * One row each in docs/reliability.md, "Final messages and refusals".
 */

let bot: TestBot;

beforeAll(async () => {
  bot = await startTestBot({ env: { DEFAULT_MEMBER_LIMIT: '1000' } });
});
afterAll(() => bot?.close());
beforeEach(() => {
  bot.service.reset();
  bot.discord.clearFaults();
});

const READY = 'Your video is ready';
const FAILED = 'could not be made';
/** The reason the relay gives in `24-sora2api-midstream-error.sse`. */
const RELAY_REASON = 'Upstream API timeout';
const isFinal = (message: APIMessage) => message.content.includes(READY) || message.content.includes(FAILED);

/** A `/video` whose relay stream ends with an error: its final message is a plain text edit. */
function failingSlashJob(prompt: string) {
  bot.service.enqueue({ transcript: readStreamFixture('24-sora2api-midstream-error.sse') });
  return bot.discord.slashCommand({ name: 'video', options: videoOptions({ prompt }) });
}

function mentionJob(prompt: string, channel = bot.discord.channel): APIMessage {
  return bot.discord.sendMessage({
    content: prompt,
    mentionsBot: true,
    channel,
    attachments: [{ filename: 'cat.png', contentType: 'image/png', bytes: PNG_BYTES }],
  });
}

const botReplyTo = (sent: APIMessage) => (message: APIMessage) =>
  message.author.id === bot.discord.botUser.id && message.message_reference?.message_id === sent.id;

/** Runs `test` with the bot missing Send Messages in the other channel, restoring it after. */
async function withoutSendMessages(test: () => Promise<void>): Promise<void> {
  const { discord } = bot;
  discord.setAppPermissions(
    DEFAULT_APP_PERMISSIONS & ~PermissionFlagsBits.SendMessages,
    discord.otherChannel.id,
  );
  try {
    await test();
  } finally {
    discord.setAppPermissions(DEFAULT_APP_PERMISSIONS, discord.otherChannel.id);
  }
}

describe('final messages', () => {
  it('final edit fails with 5xx past discord.js retries, then works: the member sees the result in the reply', async () => {
    const { discord, logs } = bot;
    // discord.js tries a 5xx four times in all before the bot sees an error.
    const fault = discord.failNext({
      method: 'PATCH',
      route: '/messages/@original',
      status: 502,
      times: 4,
      contentIncludes: FAILED,
    });
    const ix = failingSlashJob('a lighthouse at dusk');
    const final = await discord.waitForOriginal(ix, isFinal);
    expect(final.content).toContain(RELAY_REASON);
    expect(labelsOf(final)).toEqual(['Retry']);
    expect(fault.hits).toBe(4);
    expect((await waitForJobFinished(logs, jobIdOf(final))).state).toBe('failed');
    expect(discord.followups(ix)).toEqual([]);
  });

  it('final edit keeps failing: the member gets the result in a new message', async () => {
    const { discord, logs } = bot;
    discord.failNext({
      method: 'PATCH',
      route: '/messages/@original',
      status: 503,
      times: 1_000,
      contentIncludes: FAILED,
    });
    const ix = failingSlashJob('a tram in the rain');
    const [followup] = await waitForFollowups(ix, 1);
    expect(followup?.content).toContain(FAILED);
    expect(followup?.content).toContain(RELAY_REASON);
    expect(labelsOf(followup as APIMessage)).toEqual(['Retry']);
    expect(followup?.mentions).toEqual([]);
    expect((await waitForJobFinished(logs, jobIdOf(followup as APIMessage))).state).toBe('failed');
  });

  it('final edit of a chat reply keeps failing: the member gets the video in a new reply', async () => {
    const { discord, service, logs } = bot;
    const usage = await usageOf(discord);
    service.enqueue(progressStream());
    // Every edit of the bot's reply fails from the start; only new messages go through.
    discord.failNext({
      method: 'PATCH',
      route: /^\/channels\/\d+\/messages\/\d+$/,
      status: 500,
      times: 1_000,
    });
    const sent = mentionJob('a paper lantern');
    const delivered = await discord.waitForMessage(
      (message) => botReplyTo(sent)(message) && message.content.includes(READY),
    );
    expect(hasVideoFile(delivered) || delivered.content.includes(service.defaultVideoUrl)).toBe(true);
    const finished = await waitForJobFinished(logs, jobIdOf(delivered));
    expect(finished.state).toBe('delivered');
    expect(await usageOf(discord)).toEqual({ used: usage.used + 1, running: 0 });
  });

  it('Discord refuses the link button (400 50035): the link in the text, no button', async () => {
    const { discord, service, logs } = bot;
    service.enqueue(progressStream());
    discord.refuseLinkButtons();
    try {
      const ix = discord.slashCommand({ name: 'video', options: videoOptions({ prompt: 'a kite' }) });
      const final = await discord.waitForOriginal(ix, isFinal);
      expect(hasVideoFile(final)).toBe(true);
      expect(final.content).toContain(`🔗 ${service.defaultVideoUrl}`);
      expect(labelsOf(final)).toEqual(['Regenerate']);
      expect((await waitForJobFinished(logs, jobIdOf(final))).state).toBe('delivered');
      const uploads = discord.requestsFor(ix).filter((request) => request.files.length > 0);
      expect(uploads.map((request) => request.status)).toEqual([400, 200]);
    } finally {
      discord.refuseLinkButtons(null);
    }
  });

  it('Discord refuses the link of a card to a video too large to upload (400 50035): the link in its text, no button or external video', async () => {
    const { discord, service, logs } = bot;
    const bigVideo = service.addVideo('big.mp4', 3 * 1024 * 1024);
    service.enqueue(progressStream({ videoUrl: bigVideo }));
    discord.refuseLinkButtons();
    try {
      const ix = discord.slashCommand({
        name: 'video',
        options: videoOptions({ prompt: 'a glider' }),
        attachmentSizeLimit: 1024 * 1024,
      });
      const final = await discord.waitForOriginal(ix, isFinal);
      expect(final.content).toContain(bigVideo);
      expect(labelsOf(final)).toEqual(['Regenerate']);
      const stored = discord.messageRecord(final.id)?.message;
      expect(stored?.flags).toBe(MessageFlag.IsComponentsV2);
      expect(JSON.stringify(stored?.components)).not.toContain('"type":12');
      expect((await waitForJobFinished(logs, jobIdOf(final))).state).toBe('delivered');
      const refused = discord.requestsFor(ix).filter((request) => request.status === 400);
      expect(refused.length).toBeGreaterThan(0);
    } finally {
      discord.refuseLinkButtons(null);
    }
  });
});

describe('refusals where the bot may not post', () => {
  it('mention without an image where the bot lacks Send Messages (403 50013): the help comes in a DM', async () => {
    await withoutSendMessages(async () => {
      const { discord } = bot;
      discord.sendMessage({ content: 'hello?', mentionsBot: true, channel: discord.otherChannel });
      const dm = discord.dmChannel(discord.defaultMember);
      const help = await discord.waitForMessage(
        (message) => message.content.startsWith(helpText(bot.catalogue)),
        {
          channelId: dm.id,
        },
      );
      expect(help.content).toContain(`<#${discord.otherChannel.id}>`);
      expect(help.mentions).toEqual([]);
      expect(bot.service.requests).toHaveLength(0);
    });
  });

  it('mention refused by the channel rule where the bot lacks Send Messages (403 50013): the refusal comes in a DM', async () => {
    const { discord } = bot;
    const admin = discord.member({
      username: 'delivery-admin',
      permissions: PermissionFlagsBits.ManageGuild,
    });
    await channelsCommand(admin, 'add', discord.channel.id);
    try {
      await withoutSendMessages(async () => {
        const member = discord.member({ username: 'dora' });
        discord.sendMessage({
          author: member,
          content: 'a heron',
          mentionsBot: true,
          channel: discord.otherChannel,
          attachments: [{ filename: 'heron.png', contentType: 'image/png', bytes: PNG_BYTES }],
        });
        const refusal = await discord.waitForMessage(
          (message) =>
            message.author.id === discord.botUser.id && message.content.includes(`<#${discord.channel.id}>`),
          { channelId: discord.dmChannel(member).id },
        );
        expect(refusal.content).toContain(`<#${discord.otherChannel.id}>`);
        expect(bot.service.requests).toHaveLength(0);
      });
    } finally {
      await channelsCommand(admin, 'clear');
    }
  });
});

async function waitForFollowups(
  ix: ReturnType<typeof failingSlashJob>,
  count: number,
): Promise<APIMessage[]> {
  await bot.discord.waitForMessage(() => bot.discord.followups(ix).length >= count, { timeoutMs: 20_000 });
  return bot.discord.followups(ix);
}

async function channelsCommand(
  admin: ReturnType<TestBot['discord']['member']>,
  subcommand: 'add' | 'clear',
  channelId?: string,
): Promise<void> {
  const ix = bot.discord.slashCommand({
    name: 'video-settings',
    member: admin,
    subcommandGroup: 'channels',
    subcommand,
    options: channelId ? [{ name: 'channel', type: 7, value: channelId }] : [],
  });
  await bot.discord.waitForCallback(ix);
}
