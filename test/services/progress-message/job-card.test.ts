import { describe, expect, it } from 'vitest';
import type { JobSnapshot, JobState } from '../../../src/services/jobs/job.ts';
import {
  ACCENT_COLOURS,
  allComponents,
  CARD_LIMITS,
  visibleText,
} from '../../../src/services/progress-message/job-card.ts';
import { renderJob, renderJobCard } from '../../../src/services/progress-message/job-message.ts';

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
    source: 'slash',
  },
  state: 'generating',
  startedAt: 0,
  elapsedMs: 85_000,
  percent: 42,
};

const V2 = 1 << 15;
/** What Discord counts toward a message's 4000 characters: every Text Display's content. */
const textLength = (card: { components: unknown[] }) =>
  allComponents(card.components)
    .filter((component) => component.type === 10)
    .reduce((sum, display) => sum + String(display.content).length, 0);
const labels = (snapshot: JobSnapshot) =>
  allComponents(renderJobCard(snapshot).components)
    .filter((component) => component.type === 2)
    .map((button) => button.label);

describe('job card', () => {
  it('is one container with no content, the accent colour of its state', () => {
    const states: JobState[] = [
      'waiting',
      'queued',
      'generating',
      'fetching',
      'delivered',
      'failed',
      'cancelled',
      'interrupted',
    ];
    for (const state of states) {
      const card = renderJobCard({ ...base, state, reason: state === 'failed' ? 'busy' : undefined });
      expect(card.flags).toBe(V2);
      expect(card.content).toBeUndefined();
      expect(card.components).toHaveLength(1);
      expect(card.components[0]).toMatchObject({ type: 17, accent_color: ACCENT_COLOURS[state] });
    }
    expect(new Set(Object.values(ACCENT_COLOURS)).size).toBe(8);
  });

  it('reads like the text message: prompt, model, length, ratio and percent', () => {
    const text = visibleText(renderJobCard(base));
    expect(text).toContain('> a cat');
    expect(text).toContain('sora-2 · 10 s · 9:16 · text only');
    expect(text).toContain('42%');
    expect(text).toContain('1:25');
  });

  it('carries the buttons of each state', () => {
    expect(labels(base)).toEqual(['Cancel']);
    expect(labels({ ...base, state: 'waiting', queuePosition: 3 })).toEqual(['Cancel']);
    expect(labels({ ...base, state: 'failed' })).toEqual(['Retry']);
    expect(labels({ ...base, state: 'interrupted' })).toEqual(['Retry']);
    expect(labels({ ...base, state: 'cancelled' })).toEqual([]);
    expect(
      labels({ ...base, state: 'delivered', remixable: true, videoUrl: 'https://videos.example/v.mp4' }),
    ).toEqual(['Open video', 'Regenerate', 'Remix']);
  });

  it('plays a delivered upload by its attachment:// name and a link delivery by its URL', () => {
    const delivered: JobSnapshot = { ...base, state: 'delivered', videoUrl: 'https://videos.example/v.mp4' };
    const gallery = (snapshot: JobSnapshot, fileName?: string) =>
      allComponents(renderJobCard(snapshot, undefined, fileName).components).find(
        (component) => component.type === 12,
      );
    expect(gallery({ ...delivered, delivery: { kind: 'file' } }, 'v.mp4')).toEqual({
      type: 12,
      items: [{ media: { url: 'attachment://v.mp4' }, description: 'Video made from the prompt: a cat' }],
    });
    expect(gallery({ ...delivered, delivery: { kind: 'link', why: 'too-large' } })).toEqual({
      type: 12,
      items: [
        { media: { url: 'https://videos.example/v.mp4' }, description: 'Video made from the prompt: a cat' },
      ],
    });
    expect(gallery({ ...delivered, delivery: { kind: 'link', why: 'too-large' }, videoUrl: 'ftp://x' })).toBe(
      undefined,
    );
    expect(gallery(base)).toBeUndefined();
  });

  it('escapes the prompt as the text message does and stays within the limits', () => {
    const prompt = `@everyone <@111> **bold** [x](https://evil.example) ${'long '.repeat(2_000)}`;
    const card = renderJobCard({
      ...base,
      state: 'failed',
      reason: 'r'.repeat(5_000),
      request: { ...base.request, prompt, notice: 'n'.repeat(5_000) },
      note: 'x'.repeat(5_000),
    });
    const text = visibleText(card);
    expect(text).not.toMatch(/@everyone|<@111>/);
    expect(text).toContain('\\*\\*bold\\*\\*');
    expect(textLength(card)).toBeLessThanOrEqual(CARD_LIMITS.textLength);
    expect(allComponents(card.components).length).toBeLessThanOrEqual(CARD_LIMITS.components);
  });

  it('keeps a very long link within the text limit', () => {
    const videoUrl = `https://videos.example/${'a'.repeat(5_000)}.mp4`;
    const card = renderJobCard({
      ...base,
      state: 'delivered',
      videoUrl,
      delivery: { kind: 'link', why: 'too-large' },
    });
    expect(textLength(card)).toBeLessThanOrEqual(CARD_LIMITS.textLength);
    expect(textLength(card)).toBeGreaterThan(CARD_LIMITS.textLength - 10);
  });

  it('MESSAGE_STYLE=text keeps the text message', () => {
    const text = renderJob(base, undefined, { style: 'text' });
    expect(text.flags).toBeUndefined();
    expect(text.content).toContain('42%');
  });
});
