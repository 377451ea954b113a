import { PermissionFlagsBits } from 'discord.js';
import type { APIMessage, APITextChannel } from 'discord-api-types/v10';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { catalogueFromSettings } from '../../src/services/catalogue/settings-catalogue.ts';
import {
  type FakeDiscord,
  type FakeInteraction,
  type FakeMember,
  startFakeDiscord,
} from '../fakes/fake-discord/fake-discord.ts';
import { DEFAULT_APP_PERMISSIONS } from '../fakes/fake-discord/fake-discord-payloads.ts';
import { progressStream, startFakeVideoService } from '../fakes/fake-video-service.ts';
import { customIdOf, hasVideoFile } from '../harness/fault-kit.ts';
import { startTestBot, type TestBot, videoOptions } from '../harness/test-bot.ts';

/**
 * Issue 22: a server's safety policy with the real bot through the fake Discord. Every refusal
 * happens before anything is paid: no request reaches the video service and no quota unit is
 * reserved (the `quota_reserved` log line), whichever way the request came in.
 */

let bot: TestBot;
let discord: FakeDiscord;
let admin: FakeMember;
/** Age-restricted (`nsfw: true`), with a thread under it. */
let adults: APITextChannel;
let modLog: APITextChannel;
/** A channel where the bot lacks Send Messages. */
let closedLog: APITextChannel;

const EVERYTHING_BUT_SEND = DEFAULT_APP_PERMISSIONS & ~PermissionFlagsBits.SendMessages;

type CommandOptions = Partial<Parameters<FakeDiscord['slashCommand']>[0]>;

/** Runs /video-settings as the admin and returns the text of its private answer. */
async function settings(subcommand: string, extra: CommandOptions = {}): Promise<string> {
  const ix = discord.slashCommand({ name: 'video-settings', member: admin, subcommand, ...extra });
  const callback = await discord.waitForCallback(ix);
  return JSON.stringify(callback.body);
}

const on = [{ name: 'mode', type: 3, value: 'on' }];
const off = [{ name: 'mode', type: 3, value: 'off' }];
const words = (action: 'add' | 'remove', word: string) =>
  settings(action, { subcommandGroup: 'blocked-words', options: [{ name: 'word', type: 3, value: word }] });

function video(member: FakeMember, prompt: string, channel?: CommandOptions['channel']): FakeInteraction {
  return discord.slashCommand({ name: 'video', member, channel, options: videoOptions({ prompt }) });
}

/** The private answer a refused job gets, after its public "thinking…" reply is removed. */
function refusalOf(ix: FakeInteraction): Promise<APIMessage> {
  return discord.waitForMessage((_message, record) => record.ephemeral && ix.followupIds.includes(record.id));
}

/** What the policy must never let through: a request to the video service or a reserved unit. */
function paidFor(): { serviceRequests: number; reservations: number } {
  return {
    serviceRequests: bot.service.requests.length,
    reservations: bot.logs.filter((line) => line.includes('"quota_reserved"')).length,
  };
}

function logEntries(channelId = modLog.id): APIMessage[] {
  return discord.requests
    .filter((request) => request.method === 'POST' && request.path === `/channels/${channelId}/messages`)
    .map((request) => request.body as APIMessage & { allowed_mentions?: unknown });
}

beforeAll(async () => {
  discord = await startFakeDiscord();
  adults = discord.addChannel({ name: 'adults-only', nsfw: true });
  modLog = discord.addChannel({ name: 'mod-log' });
  closedLog = discord.addChannel({ name: 'closed-log' });
  discord.setAppPermissions(EVERYTHING_BUT_SEND, closedLog.id);
  const env = { DEFAULT_MAX_RUNNING_PER_MEMBER: '0' };
  // A price, so the log can say what a video costs.
  const service = await startFakeVideoService();
  const catalogue = catalogueFromSettings(
    loadConfig({ DISCORD_TOKEN: 'x', SORA_API_KEY: 'k', SORA_API_URL: service.apiUrl, ...env }),
  );
  const priced = {
    ...catalogue,
    models: catalogue.models.map((model) => ({ ...model, pricePerSecond: 0.1 })),
  };
  bot = await startTestBot({ discord, service, env, catalogue: priced });
  admin = discord.member({ username: 'admin', permissions: 1n << 5n });
});
afterAll(() => bot.close());
beforeEach(() => bot.service.reset());

describe('age-restricted channels only', () => {
  beforeAll(() => settings('age-restricted-only', { options: on }));
  afterAll(() => settings('age-restricted-only', { options: off }));

  it('age-restricted only: refused privately in a plain channel, in its thread and by mention, before anything is paid', async () => {
    const before = paidFor();
    const member = discord.member({ username: 'nina' });
    const refused = await refusalOf(video(member, 'a lighthouse'));
    expect(refused.content).toContain('age-restricted');
    // A thread follows its channel: one under a channel that is not age-restricted is refused too.
    const inThread = await refusalOf(video(member, 'a lighthouse', discord.addThread(discord.channel)));
    expect(inThread.content).toContain('age-restricted');
    // A mention in chat is refused the same way.
    const sent = discord.sendMessage({
      author: member,
      content: 'a lighthouse at dusk',
      mentionsBot: true,
      attachments: [{ filename: 'a.png', contentType: 'image/png', bytes: Buffer.from('png') }],
    });
    const reply = await discord.waitForMessage(
      (message) => message.message_reference?.message_id === sent.id,
    );
    expect(reply.content).toContain('age-restricted');
    expect(paidFor()).toEqual(before);
  });

  it('age-restricted only: videos are made in an age-restricted channel and in its threads', async () => {
    const member = discord.member({ username: 'omar' });
    await discord.waitForOriginal(video(member, 'a lighthouse', adults), hasVideoFile);
    await discord.waitForOriginal(video(member, 'a lighthouse', discord.addThread(adults)), hasVideoFile);
    expect(bot.service.requests).toHaveLength(2);
  });
});

describe('refused words', () => {
  beforeAll(async () => {
    expect(await words('add', 'foo')).toContain('foo');
    await words('add', 'Red Balloon');
  });
  afterAll(async () => {
    await words('remove', 'FOO');
    await words('remove', 'red balloon');
  });

  it('refused words: full-width, accented, mixed-case and punctuated forms are refused through /video, naming no word, paying nothing', async () => {
    const forms = ['a ＦＯＯ in the park', 'the fóo walks home', 'FoO!', 'a red, balloon'];
    for (const prompt of forms) {
      const before = paidFor();
      const refused = await refusalOf(video(discord.member({ username: 'pia' }), prompt));
      expect(refused.content).toContain('does not allow');
      expect(refused.content.toLowerCase()).not.toContain('foo');
      expect(paidFor()).toEqual(before);
    }
  });

  it('refused words: a mention in chat and a Regenerate of an earlier video are refused', async () => {
    const member = discord.member({ username: 'quin' });
    bot.service.enqueue(progressStream());
    // Made before the word applied to it: "balloon" alone is not the phrase.
    const delivered = await discord.waitForOriginal(video(member, 'a balloon, red'), hasVideoFile);
    await words('add', 'balloon');
    const before = paidFor();
    const again = discord.clickButton({
      message: delivered,
      customId: customIdOf(delivered, 'Regenerate'),
      member,
    });
    expect((await refusalOf(again)).content).toContain('does not allow');

    const sent = discord.sendMessage({
      author: member,
      content: 'a Fóo on a hill',
      mentionsBot: true,
      attachments: [{ filename: 'a.png', contentType: 'image/png', bytes: Buffer.from('png') }],
    });
    const reply = await discord.waitForMessage(
      (message) => message.message_reference?.message_id === sent.id,
    );
    expect(reply.content).toContain('does not allow');
    expect(paidFor()).toEqual(before);
    await words('remove', 'balloon');
  });

  it('refused words: a prompt from the Make video form is refused', async () => {
    const before = paidFor();
    const target = discord.sendMessage({
      content: 'sunset',
      attachments: [{ filename: 'a.png', contentType: 'image/png', bytes: Buffer.from('png') }],
    });
    const menu = discord.messageContextMenu({ name: 'Make video', targetMessage: target });
    await discord.waitForCallback(menu);
    const submit = discord.submitModal({
      customId: menu.modal?.custom_id ?? '',
      fields: { prompt: 'sunset with a FOO', duration: '' },
    });
    expect((await refusalOf(submit)).content).toContain('does not allow');
    expect(paidFor()).toEqual(before);
  });

  it('refused words: a prompt that only contains the word inside another word still makes its video', async () => {
    bot.service.enqueue(progressStream());
    await discord.waitForOriginal(
      video(discord.member({ username: 'rae' }), 'food for the balloons'),
      hasVideoFile,
    );
    expect(bot.service.requests).toHaveLength(1);
  });

  it('refused words: the admin lists them as typed', async () => {
    const list = await settings('list', { subcommandGroup: 'blocked-words' });
    expect(list).toContain('foo');
    expect(list).toContain('Red Balloon');
  });
});

describe('blocking a member', () => {
  it('a blocked member is refused privately until unblocked; a job already running carries on until an admin cancels it', async () => {
    const member = discord.member({ username: 'sam' });
    const who = [{ name: 'member', type: 6, value: member.user.id }];
    bot.service.enqueue({ ...progressStream({ steps: [5] }), stallAfterFrames: 4 });
    const running = video(member, 'a long street');
    const shown = await discord.waitForOriginal(
      running,
      (message) => (message.components?.length ?? 0) > 0 && /\d+%/.test(message.content),
    );
    await settings('block', { options: who });
    const before = paidFor();
    expect((await refusalOf(video(member, 'a quiet street'))).content).toContain('cannot make videos');
    expect(paidFor()).toEqual(before);
    // Blocking stopped nothing already running: its message still offers Cancel, which an admin may press.
    expect(discord.originalResponse(running)?.content).toMatch(/\d+%/);
    discord.clickButton({ message: shown, customId: customIdOf(shown, 'Cancel'), member: admin });
    await discord.waitForOriginal(running, (message) => message.content.includes('Cancelled'));

    await settings('unblock', { options: who });
    bot.service.enqueue(progressStream());
    await discord.waitForOriginal(video(member, 'a quiet street'), hasVideoFile);
  });
});

describe('the moderation log', () => {
  beforeAll(() => settings('log-channel', { options: [{ name: 'channel', type: 7, value: modLog.id }] }));
  afterAll(() => settings('log-channel'));

  it('moderation log: a start and a delivery line name the member without a ping, with the prompt, model, length and cost', async () => {
    const member = discord.member({ username: 'tess' });
    const seconds = bot.catalogue.models[0]?.durations[0] ?? 0;
    bot.service.enqueue(progressStream());
    const ix = discord.slashCommand({
      name: 'video',
      member,
      options: videoOptions({ prompt: 'a **bold** @everyone fox', duration: seconds }),
    });
    const delivered = await discord.waitForOriginal(ix, hasVideoFile);
    // Waited for as the request Discord answered, so the list of log requests below is complete.
    const logged = await discord.waitForRequest(
      (request) =>
        request.path === `/channels/${modLog.id}/messages` &&
        JSON.stringify(request.body).includes('Delivered') &&
        JSON.stringify(request.body).includes(`<@${member.user.id}>`),
    );
    const done = logged.body as APIMessage;
    const entries = logEntries().filter((entry) => entry.content.includes(`<@${member.user.id}>`));
    expect(entries.map((entry) => entry.content.split('\n')[0])).toEqual([
      expect.stringContaining('Started'),
      expect.stringContaining('Delivered'),
    ]);
    for (const entry of entries) expect(entry).toMatchObject({ allowed_mentions: { parse: [] } });
    expect(done.content).toContain(`Length: ${seconds} s`);
    expect(done.content).toContain(`Cost: $${(seconds * 0.1).toFixed(2)}`);
    expect(done.content).toContain(`Model: ${bot.catalogue.models[0]?.label}`);
    expect(done.content).toContain(
      `https://discord.com/channels/${discord.guild.id}/${discord.channel.id}/${delivered.id}`,
    );
    // Quoted and escaped: the markdown shows as typed and the mention cannot ping.
    expect(done.content).toContain('> a \\*\\*bold\\*\\*');
    expect(done.content).not.toContain('@everyone fox');
  });

  it('moderation log: refusals by the policy and by the content filter of the provider are logged, and neither is charged', async () => {
    const member = discord.member({ username: 'uma' });
    await words('add', 'zebra');
    await refusalOf(video(member, 'a zebra'));
    const refused = await discord.waitForMessage((message) => message.content.includes('policy'), {
      channelId: modLog.id,
    });
    expect(refused.content).toContain('a refused word');
    expect(refused.content).toContain(`<@${member.user.id}>`);
    await words('remove', 'zebra');

    bot.service.enqueue({
      events: [
        { choices: [{ index: 0, delta: { role: 'assistant' }, finish_reason: null }] },
        { choices: [{ index: 0, delta: {}, finish_reason: 'content_filter' }] },
        '[DONE]',
      ],
    });
    const filtered = video(member, 'something the service refuses');
    const failed = await discord.waitForOriginal(filtered, (message) =>
      message.content.includes('content filter'),
    );
    expect(failed.content).toContain("The video service's content filter blocked this video.");
    const logged = await discord.waitForMessage((message) => message.content.includes('content filter'), {
      channelId: modLog.id,
    });
    expect(logged.content).toContain('not charged');
    // The unit the job reserved was given back, never committed.
    const jobId = /Job: `([^`]+)`/.exec(logged.content)?.[1];
    const settled = bot.logs.filter(
      (line) => jobId && line.includes(jobId) && /"quota_(committed|released)"/.test(line),
    );
    expect(settled.map((line) => /"quota_(committed|released)"/.exec(line)?.[1])).toEqual(['released']);
  });

  it('moderation log: a failed and a cancelled job each get their line, marked not charged', async () => {
    const member = discord.member({ username: 'xan' });
    const lineOf = (title: string) =>
      discord.waitForRequest(
        (request) =>
          request.path === `/channels/${modLog.id}/messages` &&
          JSON.stringify(request.body).includes(title) &&
          JSON.stringify(request.body).includes(`<@${member.user.id}>`),
      );
    bot.service.enqueue({ status: 500, body: { error: { message: 'upstream exploded' } } });
    await discord.waitForOriginal(video(member, 'a failing one'), (message) =>
      message.content.includes('could not be made'),
    );
    expect(((await lineOf('Failed')).body as APIMessage).content).toContain('not charged');

    bot.service.enqueue({ ...progressStream({ steps: [5] }), stallAfterFrames: 4 });
    const running = video(member, 'a cancelled one');
    const shown = await discord.waitForOriginal(
      running,
      (message) => (message.components?.length ?? 0) > 0 && /\d+%/.test(message.content),
    );
    discord.clickButton({ message: shown, customId: customIdOf(shown, 'Cancel'), member });
    const cancelled = (await lineOf('Cancelled')).body as APIMessage;
    expect(cancelled.content).toContain('not charged');
    expect(cancelled.content).toContain('> a cancelled one');
  });

  it('moderation log: lines are in the language of the server', async () => {
    await settings('language', { options: [{ name: 'language', type: 3, value: 'de' }] });
    const member = discord.member({ username: 'zoe' });
    await settings('block', { options: [{ name: 'member', type: 6, value: member.user.id }] });
    await refusalOf(video(member, 'ein Boot'));
    const line = await discord.waitForMessage((message) => message.content.includes(`<@${member.user.id}>`), {
      channelId: modLog.id,
    });
    expect(line.content).toContain('Von den Regeln dieses Servers abgelehnt');
    expect(line.content).toContain('gesperrtes Mitglied');
    await settings('language');
    await settings('unblock', { options: [{ name: 'member', type: 6, value: member.user.id }] });
  });

  it('moderation log: a channel the bot cannot post in is reported to the admin once, and jobs carry on', async () => {
    await settings('log-channel', { options: [{ name: 'channel', type: 7, value: closedLog.id }] });
    const member = discord.member({ username: 'vic' });
    for (const prompt of ['first', 'second']) {
      bot.service.enqueue(progressStream());
      await discord.waitForOriginal(video(member, prompt), hasVideoFile);
    }
    const dm = discord.dmChannel(admin);
    await discord.waitForMessage((message) => message.content.includes('cannot post'), { channelId: dm.id });
    // Four log events (two starts, two deliveries) were refused; the admin heard of it once.
    let refusedPosts = 0;
    await discord.waitForRequest(
      (request) =>
        request.path === `/channels/${closedLog.id}/messages` &&
        request.status === 403 &&
        ++refusedPosts === 4,
    );
    expect(logEntries(dm.id).filter((entry) => entry.content.includes('cannot post'))).toHaveLength(1);
    await settings('log-channel', { options: [{ name: 'channel', type: 7, value: modLog.id }] });
  });
});

describe('spoilers and /video-settings show', () => {
  it('spoiler on: delivered files are named SPOILER_ so Discord blurs them', async () => {
    await settings('spoiler', { options: on });
    bot.service.enqueue(progressStream());
    const delivered = await discord.waitForOriginal(
      video(discord.member({ username: 'wes' }), 'a twist'),
      hasVideoFile,
    );
    expect(delivered.attachments[0]?.filename).toMatch(/^SPOILER_.*\.mp4$/);
    // The card's player is blurred too: its gallery item is marked as a spoiler.
    const raw = JSON.stringify(discord.messageRecord(delivered.id)?.message.components ?? []);
    expect(raw).toMatch(/"media":\{"url":"attachment:\/\/SPOILER_[^"]*\.mp4"[^}]*\}[^}]*"spoiler":true/);
    await settings('spoiler', { options: off });
  });

  it('/video-settings show lists the safety policy', async () => {
    await settings('age-restricted-only', { options: on });
    const shown = await settings('show');
    expect(shown).toContain('Age-restricted channels only: on');
    expect(shown).toContain('Moderation log: off');
    expect(shown).toContain('Videos as spoilers: off');
    await settings('age-restricted-only', { options: off });
  });
});
