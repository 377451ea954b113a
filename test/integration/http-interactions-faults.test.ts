import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeDiscord, startFakeDiscord } from '../fakes/fake-discord/fake-discord.ts';
import type { HttpInteractionsClient, Signing } from '../fakes/fake-discord/http-interactions.ts';
import { progressStream } from '../fakes/fake-video-service.ts';
import { hasVideoFile, jobIdOf, parseLogs, waitForJobFinished } from '../harness/fault-kit.ts';
import { freePort } from '../harness/free-port.ts';
import { PNG_BYTES, startTestBot, type TestBot, videoOptions } from '../harness/test-bot.ts';

/**
 * Discord's Interactions Endpoint URL served by the real bot (INTERACTIONS_PORT): the fake Discord
 * signs each interaction with a test key, POSTs it, and takes the HTTP answer as the callback.
 */

const callbacksOf = (discord: FakeDiscord, ix: Parameters<FakeDiscord['requestsFor']>[0]) =>
  discord.requestsFor(ix).filter((request) => request.route.endsWith('/callback'));

describe('interactions over HTTP (INTERACTIONS_PORT)', () => {
  let bot: TestBot;
  let http: HttpInteractionsClient;
  let endpoint: string;

  beforeAll(async () => {
    const discord = await startFakeDiscord();
    http = discord.httpInteractions();
    const port = await freePort();
    endpoint = `http://127.0.0.1:${port}/interactions`;
    bot = await startTestBot({
      discord,
      env: { INTERACTIONS_PORT: String(port), DISCORD_PUBLIC_KEY: http.publicKeyHex },
    });
  });
  afterAll(() => bot?.close());
  beforeEach(() => {
    bot.service.reset();
  });

  it('answers a PING with {"type":1}', async () => {
    const answer = await http.ping(endpoint);
    expect(answer).toMatchObject({ status: 200, body: { type: 1 } });
  });

  it('delivers a signed /video: the defer is the HTTP answer, progress and the video through the webhook', async () => {
    const { discord, service, logs } = bot;
    service.enqueue(progressStream({ steps: [20, 60] }));
    const ix = discord.slashCommand({
      name: 'video',
      options: videoOptions({ prompt: 'a paper boat on a river' }),
      dispatch: false,
    });
    const answer = await http.deliver(endpoint, ix);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ type: 5 });
    const done = await discord.waitForOriginal(ix, hasVideoFile);
    expect(done.content).toContain('Your video is ready');
    expect((await waitForJobFinished(logs, jobIdOf(done))).state).toBe('delivered');
    // One callback, the one Discord took from the HTTP answer: the bot never POSTed one itself.
    expect(callbacksOf(discord, ix).map((request) => [request.auth, request.status])).toEqual([
      ['none', 204],
    ]);
    expect(service.requests[0]?.promptText).toContain('a paper boat on a river');
  });

  it('Make video over HTTP: the form is the HTTP answer, its submit the defer, the video delivered', async () => {
    const { discord, service } = bot;
    service.enqueue(progressStream({ steps: [50] }));
    const target = discord.sendMessage({
      content: 'a kite over the dunes',
      attachments: [{ filename: 'kite.png', contentType: 'image/png', bytes: PNG_BYTES }],
    });
    const menu = discord.messageContextMenu({ name: 'Make video', targetMessage: target, dispatch: false });
    const shown = await http.deliver(endpoint, menu);
    expect(shown.body).toMatchObject({ type: 9 });
    expect(menu.modal).toBeDefined();
    const submit = discord.submitModal({
      customId: menu.modal?.custom_id ?? '',
      fields: { prompt: 'a kite over the dunes at dawn', duration: '5' },
      dispatch: false,
    });
    expect((await http.deliver(endpoint, submit)).body).toMatchObject({ type: 5 });
    await discord.waitForOriginal(submit, hasVideoFile);
    expect(service.requests[0]?.promptText).toContain('a kite over the dunes at dawn');
    expect(service.requests[0]?.imageUrl).toMatch(/kite\.png/);
  });

  it('answers /usage privately in the HTTP response', async () => {
    const { discord } = bot;
    const ix = discord.slashCommand({ name: 'usage', dispatch: false });
    const answer = await http.deliver(endpoint, ix);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ type: 4, data: { flags: 64 } });
    expect(JSON.stringify(answer.body)).toMatch(/Your videos/);
  });

  it('refuses unsigned, tampered, wrong-key and stale (replayed) requests with 401 and acts on nothing in them', async () => {
    const { discord, service, logs } = bot;
    const signings: Signing[] = ['unsigned', 'tampered', 'wrong-key', 'stale'];
    for (const signing of signings) {
      const ix = discord.slashCommand({
        name: 'video',
        options: videoOptions({ prompt: `a ${signing} request` }),
        dispatch: false,
      });
      expect({ signing, status: (await http.deliver(endpoint, ix, signing)).status }).toEqual({
        signing,
        status: 401,
      });
      expect((await http.ping(endpoint, signing)).status).toBe(401);
      expect(callbacksOf(discord, ix)).toEqual([]);
    }
    expect(service.requests).toEqual([]);
    const refused = parseLogs(logs).filter((entry) => entry.event === 'interaction_signature_refused');
    expect(refused.map((entry) => entry.reason)).toEqual([
      'missing',
      'missing',
      'invalid',
      'invalid',
      'invalid',
      'invalid',
      'stale',
      'stale',
    ]);
  });
});
