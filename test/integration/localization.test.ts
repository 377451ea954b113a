import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { APIApplicationCommand, APIMessage } from 'discord-api-types/v10';
import { Locale } from 'discord-api-types/v10';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LANGUAGE_NAMES, LOCALES } from '../../src/services/i18n/locales.ts';
import { translatorFor } from '../../src/services/i18n/translator.ts';
import type { FakeGuild, FakeMember } from '../fakes/fake-discord/fake-discord.ts';
import { progressStream } from '../fakes/fake-video-service.ts';
import { customIdOf, hasVideoFile } from '../harness/fault-kit.ts';
import { PNG_BYTES, startTestBot, type TestBot, videoOptions } from '../harness/test-bot.ts';

/**
 * The bot speaks each member's language: answers to an interaction in its `locale`, messages in a
 * server's channels in the server's language. Texts are checked against the locale files, so the
 * suite holds whatever the translators wrote.
 */

let bot: TestBot;
let germanGuild: FakeGuild;
let admin: FakeMember;
const MANAGE_GUILD = 1n << 5n;
const image = () => ({ filename: 'cat.png', contentType: 'image/png', bytes: PNG_BYTES });

beforeAll(async () => {
  bot = await startTestBot();
  germanGuild = bot.discord.guildOnShard(0, { name: 'Deutscher Server', preferredLocale: Locale.German });
  admin = bot.discord.member({ username: 'admin', guild: germanGuild, permissions: MANAGE_GUILD });
});
afterAll(() => bot.close());
beforeEach(() => {
  bot.service.reset();
  bot.discord.clearFaults();
});

async function ephemeralAnswer(ix: ReturnType<TestBot['discord']['slashCommand']>): Promise<string> {
  const callback = await bot.discord.waitForCallback(ix);
  return (callback.body as { data?: { content?: string } }).data?.content ?? '';
}

/** A mention with an image in the German server, and the bot's reply once it matches. */
async function mentionJob(
  content: string,
  predicate: (message: APIMessage) => boolean,
): Promise<{ reply: APIMessage; who: string }> {
  const channel = germanGuild.channels[0];
  const author = bot.discord.member({ username: 'mia', guild: germanGuild });
  const sent = bot.discord.sendMessage({
    content,
    author,
    channel,
    mentionsBot: true,
    attachments: [image()],
  });
  const reply = await bot.discord.waitForMessage(
    (message) =>
      message.message_reference?.message_id === sent.id &&
      message.author.id === bot.discord.botUser.id &&
      predicate(message),
  );
  return { reply, who: `<@${author.user.id}>` };
}

describe('a member who uses Discord in Japanese', () => {
  it("gets /video's progress and result in Japanese", async () => {
    const ja = translatorFor('ja');
    bot.service.enqueue({ ...progressStream({ steps: [30, 80] }), chunkDelayMs: 300 });
    const member = bot.discord.member({ username: 'haru' });
    const ix = bot.discord.slashCommand({
      name: 'video',
      member,
      locale: Locale.Japanese,
      options: videoOptions({ prompt: 'a cat chasing light' }),
      attachments: [image()],
    });
    const who = `<@${member.user.id}>`;
    const progress = await bot.discord.waitForOriginal(ix, (message) => /\d+%/.test(message.content));
    expect(progress.content).toContain(ja('job.headline.working', { who }));
    expect(JSON.stringify(progress.components)).toContain(ja('job.button.cancel'));
    const done = await bot.discord.waitForOriginal(ix, hasVideoFile);
    expect(done.content).toContain(ja('job.headline.delivered', { who }));
    expect(customIdOf(done, ja('job.button.regenerate'))).toMatch(/^retry:/);
  });
});

describe('/usage in Chinese (simplified)', () => {
  it('answers in the asking member’s language', async () => {
    const zh = translatorFor('zh-CN');
    const member = bot.discord.member({ username: 'li' });
    const answer = await ephemeralAnswer(
      bot.discord.slashCommand({ name: 'usage', member, locale: Locale.ChineseCN }),
    );
    const period = { key: 'quota.current.day' };
    expect(answer).toContain(zh('usage.unlimited', { period, used: 0, source: zh('quota.source.default') }));
    expect(answer).toContain(
      zh('usage.runningCapped', { videos: zh('common.videos', { count: 0 }), max: 1 }),
    );
  });
});

describe('a server whose language in Discord is German', () => {
  it('answers a mention there in German', async () => {
    const de = translatorFor('de');
    bot.service.enqueue(progressStream());
    const { reply, who } = await mentionJob('a cat surfing a wave', hasVideoFile);
    expect(reply.content).toContain(de('job.headline.delivered', { who }));
    expect(reply.content).toContain(de('job.options.fromImage'));
  });

  it('speaks the language an admin pins with /video-settings language, and Discord’s again after', async () => {
    const ja = translatorFor('ja');
    const de = translatorFor('de');
    const pinned = await ephemeralAnswer(
      bot.discord.slashCommand({
        name: 'video-settings',
        member: admin,
        channel: germanGuild.channels[0],
        subcommand: 'language',
        options: [{ name: 'language', type: 3, value: 'ja' }],
      }),
    );
    expect(pinned).toContain(ja('settings.languageSet', { language: LANGUAGE_NAMES.ja }));
    bot.service.enqueue(progressStream());
    const inJapanese = await mentionJob('a dog on a skateboard', hasVideoFile);
    expect(inJapanese.reply.content).toContain(ja('job.headline.delivered', { who: inJapanese.who }));

    const unpinned = await ephemeralAnswer(
      bot.discord.slashCommand({
        name: 'video-settings',
        member: admin,
        channel: germanGuild.channels[0],
        subcommand: 'language',
      }),
    );
    expect(unpinned).toContain(de('settings.languageRemoved', { language: LANGUAGE_NAMES.de }));
    bot.service.enqueue(progressStream());
    const inGerman = await mentionJob('a fox in the snow', hasVideoFile);
    expect(inGerman.reply.content).toContain(de('job.headline.delivered', { who: inGerman.who }));
  });
});

/** Discord's rule for slash command, subcommand and option names. */
const SLASH_NAME = /^[-_\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$/u;

interface Localized {
  name: string;
  type?: number;
  description?: string;
  name_localizations?: Record<string, string> | null;
  description_localizations?: Record<string, string> | null;
  options?: Localized[];
}

describe('npm run register', () => {
  it('sends every command and option with names and descriptions in every language, valid for Discord', async () => {
    const run = promisify(execFile);
    await run('node', ['--import', 'tsx', 'src/register.ts'], {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        DISCORD_TOKEN: bot.discord.botToken,
        DISCORD_API_URL: bot.discord.apiUrl,
      },
      cwd: process.cwd(),
    });
    const commands = bot.discord.registeredCommands.global as (APIApplicationCommand & Localized)[];
    expect(commands.length).toBeGreaterThan(0);
    const problems: string[] = [];
    const check = (item: Localized, where: string, contextMenu: boolean) => {
      for (const locale of LOCALES) {
        const name = item.name_localizations?.[locale];
        if (!name) problems.push(`${where}: no name in ${locale}`);
        else if (!contextMenu && !(SLASH_NAME.test(name) && name === name.toLocaleLowerCase()))
          problems.push(`${where}: invalid name "${name}" in ${locale}`);
        if (!contextMenu && !item.description_localizations?.[locale])
          problems.push(`${where}: no description in ${locale}`);
      }
      for (const option of item.options ?? []) check(option, `${where} ${option.name}`, false);
    };
    for (const command of commands) check(command, command.name, command.type !== 1);
    expect(problems).toEqual([]);
  });
});
