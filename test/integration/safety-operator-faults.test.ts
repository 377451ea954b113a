import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { APIMessage } from 'discord-api-types/v10';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type FakeDiscord,
  type FakeInteraction,
  startFakeDiscord,
} from '../fakes/fake-discord/fake-discord.ts';
import { progressStream } from '../fakes/fake-video-service.ts';
import { hasVideoFile } from '../harness/fault-kit.ts';
import { startTestBot, type TestBot, videoOptions } from '../harness/test-bot.ts';

/** The operator's safety settings, through the real bot: AGE_RESTRICTED_ONLY and BLOCKED_WORDS_FILE. */

let bot: TestBot;
let discord: FakeDiscord;
let wordsDir: string;

function refusalOf(ix: FakeInteraction): Promise<APIMessage> {
  return discord.waitForMessage((_message, record) => record.ephemeral && ix.followupIds.includes(record.id));
}

beforeAll(async () => {
  wordsDir = mkdtempSync(path.join(tmpdir(), 'sora-bot-words-'));
  const file = path.join(wordsDir, 'blocked-words.txt');
  writeFileSync(file, '# refused on every server\nkraken\n');
  discord = await startFakeDiscord();
  bot = await startTestBot({ discord, env: { AGE_RESTRICTED_ONLY: 'true', BLOCKED_WORDS_FILE: file } });
});
afterAll(async () => {
  await bot?.close();
  rmSync(wordsDir, { recursive: true, force: true });
});

describe("the operator's safety settings", () => {
  it('AGE_RESTRICTED_ONLY and BLOCKED_WORDS_FILE: every server refuses plain channels and the file words, whatever its admins set', async () => {
    const adults = discord.addChannel({ name: 'adults', nsfw: true });
    const admin = discord.member({ username: 'admin', permissions: 1n << 5n });
    // An admin turning it off changes nothing while the operator forces it.
    const off = discord.slashCommand({
      name: 'video-settings',
      member: admin,
      subcommand: 'age-restricted-only',
      options: [{ name: 'mode', type: 3, value: 'off' }],
    });
    expect(JSON.stringify((await discord.waitForCallback(off)).body)).toContain("bot's operator");

    const plain = discord.slashCommand({ name: 'video', options: videoOptions({ prompt: 'a harbour' }) });
    expect((await refusalOf(plain)).content).toContain('age-restricted');
    const word = discord.slashCommand({
      name: 'video',
      channel: adults,
      options: videoOptions({ prompt: 'a KRAKEN rising' }),
    });
    expect((await refusalOf(word)).content).toContain('does not allow');
    expect(bot.service.requests).toHaveLength(0);

    bot.service.enqueue(progressStream());
    const allowed = discord.slashCommand({
      name: 'video',
      channel: adults,
      options: videoOptions({ prompt: 'a harbour' }),
    });
    await discord.waitForOriginal(allowed, hasVideoFile);

    const show = discord.slashCommand({ name: 'video-settings', member: admin, subcommand: 'show' });
    expect(JSON.stringify((await discord.waitForCallback(show)).body)).toContain(
      "Age-restricted channels only: on *(set by the bot's operator)*",
    );
  });
});
