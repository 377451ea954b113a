import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeVideosApi, startFakeVideosApi } from '../fakes/fake-videos-api.ts';
import { customIdOf, hasVideoFile } from '../harness/fault-kit.ts';
import { startTestBot, TEST_API_KEY, type TestBot, videoOptions } from '../harness/test-bot.ts';

/**
 * A Remix prompt goes through the server's refused words like every other way in: on the Videos
 * API stand-in, whose videos can be remixed, a refused word in the Remix form sends no remix and
 * reserves nothing.
 */

let api: FakeVideosApi;
let bot: TestBot;

beforeAll(async () => {
  api = await startFakeVideosApi({ apiKey: TEST_API_KEY });
  bot = await startTestBot({
    env: { SORA_API_FORMAT: 'videos', SORA_API_URL: api.apiUrl, SORA_POLL_INTERVAL_MS: '50' },
  });
  api.reset({ queuedMs: 50, processingMs: 200 });
});
afterAll(async () => {
  await bot?.close();
  await api?.close();
});

describe('refused words in a Remix', () => {
  it('refused words: a Remix prompt with one is refused privately, no remix sent, nothing reserved', async () => {
    const { discord } = bot;
    const admin = discord.member({ username: 'admin', permissions: 1n << 5n });
    const ix = discord.slashCommand({ name: 'video', options: videoOptions({ prompt: 'a quiet street' }) });
    const delivered = await discord.waitForOriginal(ix, hasVideoFile, { timeoutMs: 20_000 });
    await discord.waitForCallback(
      discord.slashCommand({
        name: 'video-settings',
        member: admin,
        subcommandGroup: 'blocked-words',
        subcommand: 'add',
        options: [{ name: 'word', type: 3, value: 'snowing' }],
      }),
    );
    const reservations = () => bot.logs.filter((line) => line.includes('"quota_reserved"')).length;
    const before = reservations();

    const remixId = customIdOf(delivered, 'Remix');
    await discord.waitForCallback(discord.clickButton({ message: delivered, customId: remixId }));
    const submit = discord.submitModal({
      customId: remixId.replace('remix:', 'remix-form:'),
      fields: { prompt: 'the same street, SNÓWING' },
    });
    const refused = await discord.waitForMessage(
      (_message, record) => record.ephemeral && submit.followupIds.includes(record.id),
    );
    expect(refused.content).toContain('does not allow');
    expect(api.count('remix')).toBe(0);
    expect(reservations()).toBe(before);
  });
});
