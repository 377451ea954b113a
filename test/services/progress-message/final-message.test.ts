import { DiscordAPIError, RESTJSONErrorCodes } from 'discord.js';
import { describe, expect, it } from 'vitest';
import type { JobSnapshot } from '../../../src/services/jobs/job.ts';
import { createLogger } from '../../../src/services/logging/logger.ts';
import type { OutgoingMessage } from '../../../src/services/progress-message/discord-messages.ts';
import {
  type FinalMessageRoute,
  writeFinalMessage,
} from '../../../src/services/progress-message/final-message.ts';
import { visibleText } from '../../../src/services/progress-message/job-card.ts';
import type { MessageStyle } from '../../../src/services/progress-message/message-style.ts';
import type { DownloadedVideo } from '../../../src/services/video-service/download/downloaded-video.ts';

const delivered: JobSnapshot = {
  jobId: 'job1',
  request: {
    requesterId: '111111111111111111',
    guildId: '222222222222222222',
    channelId: '333333333333333333',
    prompt: 'a cat',
    model: 'sora-2',
    source: 'slash',
  },
  state: 'delivered',
  startedAt: 0,
  elapsedMs: 1_000,
  videoUrl: 'https://videos.example/x.mp4',
};
const video: DownloadedVideo = { fileName: 'x.mp4', bytes: Buffer.from('mp4'), contentType: 'video/mp4' };

function discordError(status: number, code: number): DiscordAPIError {
  return new DiscordAPIError({ message: 'fake', code }, code, status, 'PATCH', '/x', { body: undefined });
}

interface Sent {
  where: string;
  message: OutgoingMessage;
  withFile: boolean;
}

/** A route whose writes fail with `failures` in turn (then succeed), recording every attempt. */
function routeFailing(
  failures: unknown[],
  fallbacks = 1,
  style: MessageStyle = 'text',
): { route: FinalMessageRoute; sent: Sent[] } {
  const sent: Sent[] = [];
  const queue = [...failures];
  const attempt = (where: string) => async (message: OutgoingMessage, file?: DownloadedVideo) => {
    sent.push({ where, message, withFile: file !== undefined });
    const failure = where === 'edit' ? queue.shift() : undefined;
    if (failure) throw failure;
  };
  return {
    route: {
      write: attempt('edit'),
      fallbacks: Array.from({ length: fallbacks }, (_, index) => attempt(`new-${index}`)),
      logger: createLogger({ write: () => {} }),
      style,
    },
    sent,
  };
}

describe('final message', () => {
  it('never sends an upload twice: after a 5xx the link goes out instead', async () => {
    const { route, sent } = routeFailing([discordError(502, 0)]);
    const delivery = await writeFinalMessage(route, delivered, video);
    expect(delivery).toEqual({ kind: 'link', why: 'upload-failed' });
    expect(sent.map((attempt) => [attempt.where, attempt.withFile])).toEqual([
      ['edit', true],
      ['edit', false],
    ]);
    expect(sent[1]?.message.content).toContain('https://videos.example/x.mp4');
  });

  it('leaves a dead interaction token to the caller, posting nothing new', async () => {
    const dead = discordError(401, RESTJSONErrorCodes.InvalidWebhookToken);
    const { route, sent } = routeFailing([dead]);
    await expect(writeFinalMessage(route, delivered, undefined)).rejects.toBe(dead);
    expect(sent).toHaveLength(1);
  });

  it('posts a new message at once when the edit is refused for good', async () => {
    const { route, sent } = routeFailing([discordError(403, RESTJSONErrorCodes.MissingPermissions)]);
    await writeFinalMessage(route, { ...delivered, delivery: { kind: 'file' } }, undefined);
    expect(sent.map((attempt) => attempt.where)).toEqual(['edit', 'new-0']);
  });

  it('tries an edit again while Discord has trouble, then posts a new message', async () => {
    const trouble = Array.from({ length: 3 }, () => discordError(503, 0));
    const { route, sent } = routeFailing(trouble);
    await writeFinalMessage(route, { ...delivered, state: 'failed', reason: 'busy' }, undefined);
    expect(sent.map((attempt) => attempt.where)).toEqual(['edit', 'edit', 'edit', 'new-0']);
    expect(sent.every((attempt) => attempt.message.allowed_mentions.parse?.length === 0)).toBe(true);
  });

  it('moves a refused link button into the text, sending the same upload once more', async () => {
    const { route, sent } = routeFailing([
      discordError(400, RESTJSONErrorCodes.InvalidFormBodyOrContentType),
    ]);
    const delivery = await writeFinalMessage(route, delivered, video);
    expect(delivery).toEqual({ kind: 'file' });
    expect(sent.map((attempt) => [attempt.where, attempt.withFile])).toEqual([
      ['edit', true],
      ['edit', true],
    ]);
    const resent = sent[1]?.message;
    expect(resent?.content).toContain('🔗 https://videos.example/x.mp4');
    expect(JSON.stringify(resent?.components)).not.toContain('"url"');
  });

  it('fails when the edit is refused and there is nowhere else to post', async () => {
    const refused = discordError(403, RESTJSONErrorCodes.MissingAccess);
    const { route } = routeFailing([refused], 0);
    await expect(writeFinalMessage(route, delivered, undefined)).rejects.toBe(refused);
  });

  describe('as a card', () => {
    const V2 = 1 << 15;
    const media = (message: OutgoingMessage | undefined) =>
      JSON.stringify(message?.components).match(/"media":\{"url":"([^"]+)"/)?.[1];

    it('plays the uploaded file by its attachment:// name, with no content', async () => {
      const { route, sent } = routeFailing([], 1, 'cards');
      await writeFinalMessage(route, delivered, video);
      const message = sent[0]?.message;
      expect(message?.flags).toBe(V2);
      expect(message?.content).toBeUndefined();
      expect(media(message)).toBe('attachment://x.mp4');
      expect(visibleText(message ?? { components: [] })).toContain('Your video is ready');
    });

    it('plays the link after a failed upload, with the link in its text too', async () => {
      const { route, sent } = routeFailing([discordError(502, 0)], 1, 'cards');
      await writeFinalMessage(route, delivered, video);
      const message = sent[1]?.message;
      expect(sent[1]?.withFile).toBe(false);
      expect(media(message)).toBe('https://videos.example/x.mp4');
      expect(visibleText(message ?? { components: [] })).toContain('https://videos.example/x.mp4');
    });

    it("adds the refused button's link to the text of a card that plays the upload", async () => {
      const { route, sent } = routeFailing(
        [discordError(400, RESTJSONErrorCodes.InvalidFormBodyOrContentType)],
        1,
        'cards',
      );
      await writeFinalMessage(route, delivered, video);
      const resent = sent[1]?.message;
      expect(sent[1]?.withFile).toBe(true);
      expect(media(resent)).toBe('attachment://x.mp4');
      expect(JSON.stringify(resent?.components)).not.toContain('"style":5');
      expect(visibleText(resent ?? { components: [] })).toContain('🔗 https://videos.example/x.mp4');
    });

    it('moves a refused link into the text, dropping the link button and the external media', async () => {
      const { route, sent } = routeFailing(
        [discordError(400, RESTJSONErrorCodes.InvalidFormBodyOrContentType)],
        1,
        'cards',
      );
      await writeFinalMessage(
        route,
        { ...delivered, delivery: { kind: 'link', why: 'too-large' } },
        undefined,
      );
      const resent = sent[1]?.message;
      expect(media(sent[0]?.message)).toBe('https://videos.example/x.mp4');
      expect(media(resent)).toBeUndefined();
      expect(JSON.stringify(resent?.components)).not.toContain('"style":5');
      expect(visibleText(resent ?? { components: [] })).toContain('https://videos.example/x.mp4');
      expect(resent?.flags).toBe(V2);
    });
  });
});
