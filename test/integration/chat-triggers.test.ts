import type { APIMessage } from 'discord-api-types/v10';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { helpText } from '../../src/commands/triggers/mention.ts';
import { progressStream } from '../fakes/fake-video-service.ts';
import { hasVideoFile } from '../harness/fault-kit.ts';
import { PNG_BYTES, startTestBot, type TestBot } from '../harness/test-bot.ts';

let bot: TestBot;

beforeAll(async () => {
  bot = await startTestBot({ env: { SORA_MODELS: 'sora-2,sora-2-pro' } });
});
afterAll(() => bot.close());
beforeEach(() => {
  bot.service.reset();
  bot.discord.clearFaults();
});

const image = (filename = 'cat.png') => ({ filename, contentType: 'image/png', bytes: PNG_BYTES });

/** The bot's reply to a message, once it matches. */
function replyTo(original: APIMessage, predicate: (message: APIMessage) => boolean = () => true) {
  return bot.discord.waitForMessage(
    (message) =>
      message.message_reference?.message_id === original.id &&
      message.author.id === bot.discord.botUser.id &&
      predicate(message),
  );
}

describe('mention with an image', () => {
  it('replies without a ping, edits the reply with progress, and ends with the mp4', async () => {
    const { discord, service } = bot;
    service.enqueue({ ...progressStream({ steps: [20, 70] }), chunkDelayMs: 300 });
    const since = discord.mark();
    const sent = discord.sendMessage({
      content: 'a cat surfing a wave',
      mentionsBot: true,
      attachments: [image()],
    });
    const first = await replyTo(sent);
    await discord.waitForMessage((message) => message.id === first.id && /\d+%/.test(message.content));
    const done = await discord.waitForMessage((message) => message.id === first.id && hasVideoFile(message));
    expect(done.content).toContain('Your video is ready');
    expect(done.mentions ?? []).toHaveLength(0);
    const posted = discord.requests
      .slice(since)
      .find((request) => request.method === 'POST' && request.path.endsWith('/messages'));
    expect(posted?.body).toMatchObject({ allowed_mentions: { parse: [], replied_user: false } });
    const request = service.requests[0];
    expect(request?.promptText).toContain('a cat surfing a wave');
    expect(request?.promptText).not.toContain('<@');
    expect(request?.imageUrl).toMatch(/cat\.png/);
  });

  it('uses the image of the message it replies to', async () => {
    const { discord, service } = bot;
    service.enqueue(progressStream());
    const friend = discord.member({ username: 'friend' });
    const original = discord.sendMessage({
      content: 'look at my dog',
      author: friend,
      attachments: [image('dog.png')],
    });
    const sent = discord.sendMessage({
      content: 'make it dance',
      mentionsBot: true,
      referencedMessage: original,
    });
    await replyTo(sent, hasVideoFile);
    expect(service.requests[0]?.imageUrl).toMatch(/dog\.png/);
  });

  it('reads inline options and sends them to the service, leaving the rest of the prompt', async () => {
    const { discord, service } = bot;
    service.enqueue(progressStream());
    const sent = discord.sendMessage({
      content: 'city lights --duration 15 --landscape --model sora-2-pro --hd',
      mentionsBot: true,
      attachments: [image()],
    });
    await replyTo(sent, hasVideoFile);
    const request = service.requests[0];
    expect(request?.body.model).toBe('sora-2-pro');
    expect(request?.promptText).toContain('city lights --hd');
    expect(request?.promptText).toContain('duration: 15 seconds');
    expect(request?.promptText).toContain('landscape');
  });

  it('uses the first of several images and says so', async () => {
    const { discord, service } = bot;
    service.enqueue(progressStream());
    const sent = discord.sendMessage({
      content: 'two pets',
      mentionsBot: true,
      attachments: [image('first.png'), image('second.png')],
    });
    const done = await replyTo(sent, hasVideoFile);
    expect(done.content).toContain('first.png');
    expect(service.requests[0]?.imageUrl).toMatch(/first\.png/);
  });

  it('answers with help when there is no image', async () => {
    const sent = bot.discord.sendMessage({ content: 'hello there', mentionsBot: true });
    const reply = await replyTo(sent);
    expect(reply.content).toBe(helpText(bot.catalogue));
    expect(bot.service.requests).toHaveLength(0);
  });

  it('says what is accepted for a file that is not a usable image', async () => {
    const sent = bot.discord.sendMessage({
      content: 'animate this',
      mentionsBot: true,
      attachments: [{ filename: 'clip.gif', contentType: 'image/gif', bytes: Buffer.from('GIF89a') }],
    });
    const reply = await replyTo(sent);
    expect(reply.content).toContain('PNG, JPEG or WebP');
    expect(bot.service.requests).toHaveLength(0);
  });

  it('snaps an inline duration the model cannot do to the nearest it can, and says so', async () => {
    bot.service.enqueue(progressStream());
    const sent = bot.discord.sendMessage({
      content: 'a dog --duration 30',
      mentionsBot: true,
      attachments: [image()],
    });
    const reply = await replyTo(sent, hasVideoFile);
    expect(reply.content).toContain(
      'makes videos of 5, 10, 15 seconds, so yours will be 15 s instead of 30 s',
    );
    expect(bot.service.requests[0]?.promptText).toContain('duration: 15 seconds');
  });

  it('ignores messages from bots and webhooks', async () => {
    const { discord } = bot;
    const otherBot = discord.member({ username: 'otherbot', bot: true });
    const fromBot = discord.sendMessage({
      content: 'video please',
      author: otherBot,
      mentionsBot: true,
      attachments: [image()],
    });
    const fromWebhook = discord.sendMessage({
      content: 'video please',
      webhookId: '123456789012345678',
      mentionsBot: true,
      attachments: [image()],
    });
    const human = discord.sendMessage({ content: 'hi', mentionsBot: true });
    await replyTo(human);
    const replied = (message: APIMessage) =>
      discord.channelMessages().some((reply) => reply.message_reference?.message_id === message.id);
    expect(replied(fromBot)).toBe(false);
    expect(replied(fromWebhook)).toBe(false);
  });

  it('explains in one line that direct messages are off', async () => {
    const sent = bot.discord.sendMessage({ content: 'make a video', dm: true, attachments: [image()] });
    const reply = await bot.discord.waitForMessage(
      (message) => message.message_reference?.message_id === sent.id,
    );
    expect(reply.content).toMatch(/direct messages/);
    expect(bot.service.requests).toHaveLength(0);
  });
});

describe('direct messages when ALLOW_DMS=true', () => {
  it('makes the video in the DM, no mention needed', async () => {
    const dmBot = await startTestBot({ env: { ALLOW_DMS: 'true' } });
    try {
      dmBot.service.enqueue(progressStream());
      const sent = dmBot.discord.sendMessage({
        content: 'a kite on the beach',
        dm: true,
        attachments: [image('kite.png')],
      });
      const done = await dmBot.discord.waitForMessage(
        (message) => message.message_reference?.message_id === sent.id && hasVideoFile(message),
      );
      expect(done.channel_id).toBe(sent.channel_id);
      expect(dmBot.service.requests[0]?.promptText).toContain('a kite on the beach');
    } finally {
      await dmBot.close();
    }
  });
});

describe('"Make video" context menu', () => {
  it('asks for the prompt in a form prefilled with the message text, then runs the job like /video', async () => {
    const { discord, service } = bot;
    service.enqueue(progressStream());
    const target = discord.sendMessage({ content: 'sunset over the bay', attachments: [image('bay.png')] });
    const menu = discord.messageContextMenu({ name: 'Make video', targetMessage: target });
    await discord.waitForCallback(menu);
    expect(menu.callbackType).toBe(9);
    expect(JSON.stringify(menu.modal)).toContain('sunset over the bay');

    const submit = discord.submitModal({
      customId: menu.modal?.custom_id ?? '',
      fields: { prompt: 'sunset, waves rolling in', duration: '5' },
    });
    const deferred = await discord.waitForCallback(submit);
    expect(deferred.body).toMatchObject({ type: 5 });
    await discord.waitForOriginal(submit, hasVideoFile);
    expect(service.requests[0]?.promptText).toContain('duration: 5 seconds');
    expect(service.requests[0]?.imageUrl).toMatch(/bay\.png/);
  });

  it('answers privately that it needs a message with an image', async () => {
    const { discord } = bot;
    const target = discord.sendMessage({ content: 'just words' });
    const menu = discord.messageContextMenu({ name: 'Make video', targetMessage: target });
    const answer = await discord.waitForCallback(menu);
    expect(answer.body).toMatchObject({ type: 4, data: { flags: 64 } });
    expect(JSON.stringify(answer.body)).toContain('needs a message with a PNG, JPEG or WebP image');
  });
});
