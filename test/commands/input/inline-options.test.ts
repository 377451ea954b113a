import { describe, expect, it } from 'vitest';
import { parseInlineOptions } from '../../../src/commands/input/inline-options.ts';
import { VIDEO_DURATIONS } from '../../../src/services/video-service/video-provider.ts';

const models = ['sora-2', 'sora-2-pro'];

describe('inline options', () => {
  it('reads flags and removes them from the prompt', () => {
    expect(
      parseInlineOptions(
        'a cat surfing --duration 10 --portrait --model sora-2-pro',
        models,
        VIDEO_DURATIONS,
      ),
    ).toEqual({
      prompt: 'a cat surfing',
      durationSeconds: 10,
      orientation: 'portrait',
      model: 'sora-2-pro',
      problems: [],
    });
  });

  it("understands the service's own `duration: N seconds` form", () => {
    expect(
      parseInlineOptions('city at night, duration: 15 seconds, slow pan', models, VIDEO_DURATIONS),
    ).toMatchObject({
      prompt: 'city at night, slow pan',
      durationSeconds: 15,
    });
  });

  it('leaves unknown flags in the prompt', () => {
    expect(parseInlineOptions('a dog --hd --landscape', models, VIDEO_DURATIONS)).toMatchObject({
      prompt: 'a dog --hd',
      orientation: 'landscape',
    });
  });

  it('explains a duration or model that cannot be used', () => {
    const parsed = parseInlineOptions('a dog --duration 30 --model veo-9', models, VIDEO_DURATIONS);
    expect(parsed.durationSeconds).toBeUndefined();
    expect(parsed.model).toBeUndefined();
    expect(parsed.problems).toEqual([
      'The duration can be 5, 10, 15 seconds (you asked for 30).',
      'The model `veo-9` is not offered here. Choose one of: sora-2, sora-2-pro.',
    ]);
  });

  it('accepts --duration=5 and 5s', () => {
    expect(parseInlineOptions('x --duration=5', models, VIDEO_DURATIONS).durationSeconds).toBe(5);
    expect(parseInlineOptions('x --duration 5s', models, VIDEO_DURATIONS).durationSeconds).toBe(5);
  });
});
