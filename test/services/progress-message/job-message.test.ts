import { describe, expect, it } from 'vitest';
import type { JobSnapshot } from '../../../src/services/jobs/job.ts';
import {
  formatElapsed,
  hasLinkButton,
  linkText,
  progressBar,
  quotePrompt,
  renderJobMessage,
  withLinksInText,
} from '../../../src/services/progress-message/job-message.ts';
import { plainText } from '../../../src/services/shared/plain-text.ts';

const base: JobSnapshot = {
  jobId: 'job1',
  request: {
    requesterId: '111111111111111111',
    guildId: '222222222222222222',
    channelId: '333333333333333333',
    prompt: 'a cat',
    model: 'sora-2',
    durationSeconds: 10,
    aspectRatio: '9:16',
    imageUrl: 'https://cdn.example/cat.png',
    source: 'slash',
  },
  state: 'generating',
  startedAt: 0,
  elapsedMs: 85_000,
  percent: 42,
};

describe('job message', () => {
  it('shows the progress bar, percent, elapsed time, options and a Cancel button while running', () => {
    const message = renderJobMessage(base);
    expect(message.content).toContain('42%');
    expect(message.content).toContain(progressBar(42));
    expect(message.content).toContain('1:25');
    expect(message.content).toContain('sora-2 · 10 s · 9:16 · from an image');
    expect(message.components[0]?.components[0]).toMatchObject({ label: 'Cancel', custom_id: 'cancel:job1' });
  });

  it('cannot ping anyone or break formatting with what the member typed', () => {
    const quoted = quotePrompt('@everyone look <@123456789012345678> **bold** <@&98765432109876543>');
    expect(quoted).not.toMatch(/@everyone/);
    expect(quoted).not.toMatch(/<@\d/);
    expect(quoted).not.toMatch(/<@&\d/);
    expect(quoted).toContain('\\*\\*bold\\*\\*');
  });

  it('shortens long prompts', () => {
    expect(quotePrompt('x'.repeat(1_000)).length).toBeLessThan(200);
  });

  it('says where the member is in the line while waiting', () => {
    const message = renderJobMessage({ ...base, state: 'waiting', queuePosition: 3, percent: undefined });
    expect(message.content).toContain('#3');
  });

  it("shows the video service's own queue place apart from the bot's own line", () => {
    const atService = renderJobMessage({
      ...base,
      state: 'queued',
      serviceQueuePosition: 3,
      percent: undefined,
    });
    expect(atService.content).toContain('**#3** in line at the video service');
    expect(atService.content).not.toContain('Waiting for a free slot');
    const unknownPlace = renderJobMessage({ ...base, state: 'queued', percent: undefined });
    expect(unknownPlace.content).toContain('Queued at the video service');
  });

  it('gives the link and why when the video could not be attached', () => {
    const message = renderJobMessage({
      ...base,
      state: 'delivered',
      videoUrl: 'https://videos.example/x.mp4',
      delivery: { kind: 'link', why: 'too-large' },
    });
    expect(message.content).toContain('upload limit');
    expect(message.content).toContain('https://videos.example/x.mp4');
    expect(message.components[0]?.components[0]).toMatchObject({
      label: 'Open video',
      url: 'https://videos.example/x.mp4',
    });
  });

  it('explains a failure and that it was not charged, offering Retry instead of Cancel', () => {
    const message = renderJobMessage({ ...base, state: 'failed', reason: 'The service is busy.' });
    expect(message.content).toContain('The service is busy.');
    expect(message.content).toContain('did not count');
    expect(
      message.components[0]?.components.map((button) => ('label' in button ? button.label : undefined)),
    ).toEqual(['Retry']);
  });

  it('offers Regenerate once delivered', () => {
    const message = renderJobMessage({
      ...base,
      state: 'delivered',
      videoUrl: 'https://v.example/x.mp4',
      delivery: { kind: 'file' },
    });
    expect(
      message.components[0]?.components.map((button) => ('label' in button ? button.label : undefined)),
    ).toEqual(['Open video', 'Regenerate']);
  });

  it('formats elapsed time as minutes and seconds', () => {
    expect(formatElapsed(0)).toBe('0:00');
    expect(formatElapsed(61_999)).toBe('1:01');
  });

  it('shows relay text as typed: no formatting, no masked link, no ping', () => {
    const hostile = '**Blocked** by [support](https://evil.example) @everyone <@123456789012345678> `x`';
    const lineOf = (content: string) => content.split('\n').find((line) => line.includes('Blocked')) ?? '';
    const failed = lineOf(renderJobMessage({ ...base, state: 'failed', reason: hostile }).content);
    const noted = lineOf(renderJobMessage({ ...base, note: hostile }).content);
    for (const content of [failed, noted]) {
      expect(content).not.toMatch(/(^|[^\\])\[support\]\(/);
      expect(content).toContain('\\[support\\]');
      expect(content).not.toMatch(/@everyone/);
      expect(content).not.toMatch(/<@\d/);
      expect(content).toContain('\\*\\*Blocked\\*\\*');
      expect(content).toContain('\\`x\\`');
    }
  });

  it('keeps a relay reason on its line, so it cannot start a heading, list or quote', () => {
    const content = renderJobMessage({
      ...base,
      state: 'failed',
      reason: 'bad\n# Free nitro\n> quoted\n- item',
    }).content;
    expect(content).toContain('**Why:** bad # Free nitro > quoted - item');
    expect(content.split('\n').filter((line) => /^(#|>|- )/.test(line))).toEqual(['> a cat']);
  });

  it('escapes the prompt and the notice (which names a member file) too', () => {
    const message = renderJobMessage({
      ...base,
      request: {
        ...base.request,
        prompt: 'see [here](https://evil.example)',
        notice: 'You sent 2 images; I used the first one, [a](https://evil.example)_b.png.',
      },
    });
    expect(message.content).toContain('see \\[here\\](https://evil.example)');
    expect(message.content).toContain('I used the first one, \\[a\\](https://evil.example)_b.png.');
  });

  it('shows a video URL in text whole and clickable, with nothing able to break out of it', () => {
    expect(linkText('https://videos.example/a_b*c.mp4?sig=x~y')).toBe(
      'https://videos.example/a_b*c.mp4?sig=x~y',
    );
    expect(linkText('https://videos.example/a b<@123456789012345678>.mp4')).toBe(
      'https://videos.example/a%20b%3C@123456789012345678%3E.mp4',
    );
    expect(linkText('javascript:[x](https://evil.example)')).toBe('javascript:\\[x\\](https://evil.example)');
    const content = renderJobMessage({
      ...base,
      state: 'delivered',
      videoUrl: 'https://videos.example/x y.mp4',
      delivery: { kind: 'link', why: 'download-failed' },
    }).content;
    expect(content).toContain('https://videos.example/x%20y.mp4');
  });

  it('moves a link button into the text when Discord refuses it', () => {
    const delivered = renderJobMessage({
      ...base,
      state: 'delivered',
      videoUrl: 'https://videos.example/x.mp4',
      delivery: { kind: 'file' },
    });
    expect(hasLinkButton(delivered)).toBe(true);
    const moved = withLinksInText(delivered);
    expect(hasLinkButton(moved)).toBe(false);
    expect(moved.content).toContain('🔗 https://videos.example/x.mp4');
    expect(moved.components[0]?.components.map((button) => ('label' in button ? button.label : ''))).toEqual([
      'Regenerate',
    ]);
    const linked = renderJobMessage({
      ...base,
      state: 'delivered',
      videoUrl: 'https://videos.example/x.mp4',
      delivery: { kind: 'link', why: 'too-large' },
    });
    expect(withLinksInText(linked).content.match(/videos\.example/g)).toHaveLength(1);
  });

  it('shortens plain text to one line of the length asked for', () => {
    expect(plainText('a\n\nb   c', 100)).toBe('a b c');
    expect(plainText('x'.repeat(50), 10)).toBe(`${'x'.repeat(9)}…`);
  });
});
