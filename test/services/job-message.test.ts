import { describe, expect, it } from 'vitest';
import {
  formatElapsed,
  progressBar,
  quotePrompt,
  renderJobMessage,
} from '../../src/services/delivery/job-message.ts';
import type { JobSnapshot } from '../../src/services/jobs/job.ts';

const base: JobSnapshot = {
  jobId: 'job1',
  request: {
    requesterId: '111111111111111111',
    guildId: '222222222222222222',
    channelId: '333333333333333333',
    prompt: 'a cat',
    model: 'sora-2',
    durationSeconds: 10,
    orientation: 'portrait',
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
    expect(message.content).toContain('sora-2 · 10 s · portrait · from an image');
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
});
