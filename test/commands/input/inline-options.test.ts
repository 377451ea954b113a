import { describe, expect, it } from 'vitest';
import { parseInlineOptions } from '../../../src/commands/input/inline-options.ts';

const models = ['sora-2', 'sora-2-pro'];

describe('inline options', () => {
  it('reads flags and removes them from the prompt', () => {
    expect(parseInlineOptions('a cat surfing --duration 10 --portrait --model sora-2-pro', models)).toEqual({
      prompt: 'a cat surfing',
      durationSeconds: 10,
      aspectRatio: '9:16',
      model: 'sora-2-pro',
      problems: [],
    });
  });

  it("understands the service's own `duration: N seconds` form", () => {
    expect(parseInlineOptions('city at night, duration: 15 seconds, slow pan', models)).toMatchObject({
      prompt: 'city at night, slow pan',
      durationSeconds: 15,
    });
  });

  it('leaves unknown flags in the prompt', () => {
    expect(parseInlineOptions('a dog --hd --landscape', models)).toMatchObject({
      prompt: 'a dog --hd',
      aspectRatio: '16:9',
    });
  });

  it.each([
    ['--landscape', '16:9'],
    ['--horizontal', '16:9'],
    ['--portrait', '9:16'],
    ['--vertical', '9:16'],
    ['--square', '1:1'],
    ['--ar 1:1', '1:1'],
    ['--aspect-ratio 9:16', '9:16'],
  ])('reads %s as the frame %s', (flag, aspectRatio) => {
    expect(parseInlineOptions(`a dog ${flag} running`, models)).toMatchObject({
      prompt: 'a dog running',
      aspectRatio,
    });
  });

  it('takes any length as asked (admission fits it to the model) and explains a model not offered', () => {
    const parsed = parseInlineOptions('a dog --duration 30 --model veo-9', models);
    expect(parsed.durationSeconds).toBe(30);
    expect(parsed.model).toBeUndefined();
    expect(parsed.problems).toEqual([
      'The model `veo-9` is not offered here. Choose one of: sora-2, sora-2-pro.',
    ]);
  });

  it('accepts --duration=5 and 5s', () => {
    expect(parseInlineOptions('x --duration=5', models).durationSeconds).toBe(5);
    expect(parseInlineOptions('x --duration 5s', models).durationSeconds).toBe(5);
  });
});
