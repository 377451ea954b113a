import { describe, expect, it } from 'vitest';
import type { Catalogue, CatalogueModel } from '../../../src/services/catalogue/catalogue.ts';
import { chooseFallback } from '../../../src/services/catalogue/model-fallback.ts';

const model = (id: string, options: Partial<CatalogueModel> = {}): CatalogueModel => ({
  id,
  label: id,
  provider: 'p',
  model: `${id}-v1`,
  input: {},
  durations: [4, 8],
  aspectRatios: ['16:9', '9:16'],
  imageInput: true,
  fallback: [],
  ...options,
});

const catalogue: Catalogue = {
  defaultModel: 'veo',
  currency: 'USD',
  providers: new Map([
    ['p', { name: 'p', shape: 'openai-videos', baseUrl: 'https://p.example/v1', apiKeyEnv: 'K' }],
  ]),
  models: [
    model('veo', { fallback: ['text-only', 'landscape-only', 'kling', 'wan'] }),
    model('text-only', { imageInput: false }),
    model('landscape-only', { aspectRatios: ['16:9'] }),
    model('kling', { durations: [5, 10] }),
    model('wan'),
  ],
};

describe('choosing a fallback', () => {
  it('takes the first of the list that can make what was asked, and says when the length changes', () => {
    const choice = chooseFallback(
      catalogue,
      'veo',
      { model: 'veo', imageUrl: 'https://cdn.example/cat.png', aspectRatio: '9:16', durationSeconds: 8 },
      new Set(['veo']),
    );

    expect(choice?.model.id).toBe('kling');
    expect(choice).toMatchObject({ durationSeconds: 10, snappedFrom: 8 });
  });

  it('takes a text-only model for a text-only ask, keeping the length it makes', () => {
    const choice = chooseFallback(catalogue, 'veo', { model: 'veo', durationSeconds: 8 }, new Set(['veo']));

    expect(choice?.model.id).toBe('text-only');
    expect(choice?.snappedFrom).toBeUndefined();
    expect(choice?.durationSeconds).toBe(8);
  });

  it('skips models already tried and those the allowance cannot pay for', () => {
    const choice = chooseFallback(
      catalogue,
      'veo',
      { model: 'veo', imageUrl: 'https://cdn.example/cat.png' },
      new Set(['veo', 'landscape-only']),
      (_ask, candidate) => candidate.id !== 'kling',
    );

    expect(choice?.model.id).toBe('wan');
  });

  it('has none for a model without a list', () => {
    expect(chooseFallback(catalogue, 'wan', { model: 'wan' }, new Set(['wan']))).toBeUndefined();
  });
});
