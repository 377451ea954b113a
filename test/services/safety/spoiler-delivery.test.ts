import { describe, expect, it } from 'vitest';
import type { JobSnapshot } from '../../../src/services/jobs/job.ts';
import { renderJobMessage } from '../../../src/services/progress-message/job-message.ts';

/** A server with spoilers on: a video too large to attach is shown as a link in spoiler bars. */
describe('spoiler delivery as a link', () => {
  const delivered = (spoiler: boolean): JobSnapshot => ({
    jobId: 'job1',
    request: {
      requesterId: '111111111111111111',
      guildId: '222222222222222222',
      channelId: '333333333333333333',
      prompt: 'a twist',
      model: 'sora-2',
      source: 'slash',
      ...(spoiler ? { spoiler } : {}),
    },
    state: 'delivered',
    startedAt: 0,
    elapsedMs: 1_000,
    videoUrl: 'https://videos.example/x.mp4',
    delivery: { kind: 'link', why: 'too-large' },
  });

  it('wraps the link in spoiler bars when the server marks videos as spoilers, and only then', () => {
    expect(renderJobMessage(delivered(true)).content).toMatch(
      /\|\|<?https:\/\/videos\.example\/x\.mp4>?\|\|/,
    );
    expect(renderJobMessage(delivered(false)).content).not.toContain('||');
  });
});
