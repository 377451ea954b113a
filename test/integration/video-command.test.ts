import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { progressStream } from '../fakes/fake-video-service.ts';
import { readStreamFixture } from '../fakes/fixtures.ts';
import { buttonsOf, customIdOf, hasVideoFile } from '../harness/fault-kit.ts';
import { PNG_BYTES, startTestBot, TEST_API_KEY, type TestBot, videoOptions } from '../harness/test-bot.ts';

let bot: TestBot;

beforeAll(async () => {
  bot = await startTestBot();
});
afterAll(() => bot.close());
beforeEach(() => {
  bot.service.reset();
  bot.discord.clearFaults();
});

describe('/video', () => {
  it('defers at once, shows progress, and ends with the mp4 attached', async () => {
    const { discord, service } = bot;
    service.enqueue({ ...progressStream({ steps: [12, 48, 86] }), chunkDelayMs: 300 });
    const ix = discord.slashCommand({
      name: 'video',
      options: videoOptions({ prompt: 'a cat chasing light', duration: 10, aspectRatio: '9:16' }),
      attachments: [{ filename: 'cat.png', contentType: 'image/png', bytes: PNG_BYTES }],
    });

    const callback = await discord.waitForCallback(ix);
    expect(callback.body).toMatchObject({ type: 5 });
    await discord.waitForOriginal(ix, (message) => /\d+%/.test(message.content));
    const done = await discord.waitForOriginal(ix, hasVideoFile);

    expect(done.content).toContain('Your video is ready');
    const uploaded = await discord.waitForRequest(
      (request) => request.interactionId === ix.id && request.files.length > 0,
    );
    expect(uploaded.files[0]?.name).toMatch(/\.mp4$/);
    expect(uploaded.files[0]?.bytes?.subarray(4, 8).toString()).toBe('ftyp');

    const serviceRequest = service.requests[0];
    expect(serviceRequest?.headers.authorization).toBe(`Bearer ${TEST_API_KEY}`);
    expect(serviceRequest?.body.model).toBe('sora-2');
    expect(serviceRequest?.promptText).toContain('a cat chasing light');
    expect(serviceRequest?.promptText).toContain('duration: 10 seconds');
    expect(serviceRequest?.promptText).toContain('portrait 9:16');
    expect(serviceRequest?.imageUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/attachments\/.*cat\.png/);
  });

  it('runs text-only without an image part', async () => {
    const { discord, service } = bot;
    service.enqueue(progressStream());
    const ix = discord.slashCommand({ name: 'video', options: videoOptions({ prompt: 'waves at dusk' }) });
    await discord.waitForOriginal(ix, hasVideoFile);
    expect(service.requests[0]?.imageUrl).toBeUndefined();
    expect(service.requests[0]?.body.messages?.[0]?.content).toHaveLength(1);
  });

  it('reads a real relay transcript end to end', async () => {
    const { discord, service } = bot;
    service.enqueue({
      transcript: readStreamFixture('03-asyncdata-zh-tokenized-multilink.sse'),
      rewriteVideoUrls: true,
    });
    const ix = discord.slashCommand({
      name: 'video',
      options: videoOptions({ prompt: 'a puppy in the snow' }),
    });
    const done = await discord.waitForOriginal(ix, hasVideoFile);
    expect(done.content).toContain('Your video is ready');
  });

  it("posts the link instead when the video is larger than the server's upload limit", async () => {
    const { discord, service } = bot;
    const bigVideo = service.addVideo('big.mp4', 3 * 1024 * 1024);
    service.enqueue(progressStream({ videoUrl: bigVideo }));
    const ix = discord.slashCommand({
      name: 'video',
      options: videoOptions({ prompt: 'a long flight over mountains' }),
      attachmentSizeLimit: 1024 * 1024,
    });
    const done = await discord.waitForOriginal(ix, (message) =>
      message.content.includes('Your video is ready'),
    );
    expect(done.attachments).toHaveLength(0);
    expect(done.content).toContain(bigVideo);
    expect(done.content).toContain('upload limit');
  });

  it('posts the link when Discord refuses the upload as too large', async () => {
    const { discord, service } = bot;
    service.enqueue(progressStream());
    discord.failNext({
      method: 'PATCH',
      route: '/messages/@original',
      status: 413,
      code: 40005,
      times: 1,
      withFiles: true,
    });
    const ix = discord.slashCommand({ name: 'video', options: videoOptions({ prompt: 'rain on a window' }) });
    const done = await discord.waitForOriginal(ix, (message) =>
      message.content.includes('Your video is ready'),
    );
    expect(done.content).toContain(service.defaultVideoUrl);
  });

  it("explains a rejected key without showing it, and asks the member to tell the bot's owner", async () => {
    const { discord, service, logs } = bot;
    service.enqueue({ status: 401, body: readStreamFixture('errors/401-gptproto-invalid-signature.json') });
    const ix = discord.slashCommand({ name: 'video', options: videoOptions({ prompt: 'a red balloon' }) });
    const done = await discord.waitForOriginal(ix, (message) =>
      message.content.includes('could not be made'),
    );
    expect(done.content).toMatch(/owner/);
    expect(done.components?.[0]).toBeDefined();
    const everything = [...discord.requests.map((request) => JSON.stringify(request.body)), ...logs].join(
      '\n',
    );
    expect(everything).not.toContain(TEST_API_KEY);
  });

  it('lets the requester cancel: the service request is dropped and the reply says so', async () => {
    const { discord, service } = bot;
    const claimed = service.enqueue({ ...progressStream({ steps: [5] }), stallAfterFrames: 4 });
    const ix = discord.slashCommand({ name: 'video', options: videoOptions({ prompt: 'a slow sunrise' }) });
    const running = await discord.waitForOriginal(ix, (message) => buttonsOf(message).length === 1);
    const cancelId = customIdOf(running, 'Cancel');
    discord.clickButton({ message: running, customId: cancelId });
    const done = await discord.waitForOriginal(ix, (message) => message.content.includes('Cancelled'));
    expect(buttonsOf(done)).toHaveLength(0);
    expect(await (await claimed).ended).toBe('client-disconnected');
  });

  it("refuses another member's cancel, privately, and keeps the job going", async () => {
    const { discord, service } = bot;
    service.enqueue({ ...progressStream({ steps: [5, 60] }), chunkDelayMs: 400 });
    const ix = discord.slashCommand({ name: 'video', options: videoOptions({ prompt: 'a paper boat' }) });
    const running = await discord.waitForOriginal(ix, (message) => buttonsOf(message).length === 1);
    const stranger = discord.member({ username: 'stranger' });
    const click = discord.clickButton({
      message: running,
      customId: customIdOf(running, 'Cancel'),
      member: stranger,
    });
    const answer = await discord.waitForCallback(click);
    expect(answer.body).toMatchObject({ type: 4, data: { flags: 64 } });
    expect(JSON.stringify(answer.body)).toContain('Only the member who asked');
    await discord.waitForOriginal(ix, hasVideoFile);
  });

  it('answers a bad attachment privately, without deferring or calling the service', async () => {
    const { discord, service } = bot;
    const ix = discord.slashCommand({
      name: 'video',
      options: videoOptions({ prompt: 'from my notes' }),
      attachments: [
        { filename: 'notes.pdf', contentType: 'application/pdf', bytes: Buffer.from('%PDF-1.4') },
      ],
    });
    const answer = await discord.waitForCallback(ix);
    expect(answer.body).toMatchObject({ type: 4, data: { flags: 64 } });
    expect(JSON.stringify(answer.body)).toContain('PNG, JPEG or WebP');
    expect(service.requests).toHaveLength(0);
  });

  it('never lets a prompt ping anyone', async () => {
    const { discord, service } = bot;
    service.enqueue(progressStream());
    const since = discord.mark();
    const ix = discord.slashCommand({
      name: 'video',
      options: videoOptions({ prompt: '@everyone look at <@&123456789012345678>' }),
    });
    await discord.waitForOriginal(ix, hasVideoFile);
    const sent = discord.requests
      .slice(since)
      .filter(
        (request) =>
          request.method !== 'GET' &&
          request.body &&
          typeof request.body === 'object' &&
          ('content' in (request.body as object) || 'components' in (request.body as object)),
      );
    expect(sent.length).toBeGreaterThan(0);
    for (const request of sent)
      expect((request.body as { allowed_mentions?: unknown }).allowed_mentions).toMatchObject({ parse: [] });
  });
});
