import { describe, expect, it } from 'vitest';
import { fitRequest, nearestDuration } from '../../../src/services/catalogue/fit-request.ts';
import { english } from '../../../src/services/i18n/translator.ts';
import { catalogueModel } from '../../harness/catalogue-fixtures.ts';

const model = catalogueModel;

describe('fitRequest', () => {
  it('passes an ask the model can do unchanged, with nothing to tell', () => {
    expect(
      fitRequest(model(), { durationSeconds: 6, aspectRatio: '9:16', imageUrl: 'https://cdn.example/a.png' }),
    ).toEqual({ ok: true, durationSeconds: 6, aspectRatio: '9:16', notices: [] });
    expect(fitRequest(model(), {})).toEqual({ ok: true, notices: [] });
  });

  it('snaps a length the model cannot do to the nearest it can, and says so', () => {
    const fit = fitRequest(model(), { durationSeconds: 10 });
    expect(fit).toMatchObject({ ok: true, durationSeconds: 8 });
    if (!fit.ok) throw new Error('refused');
    expect(fit.notices.map((notice) => english.text(notice))).toEqual([
      '**Veo 3.1 Fast** makes videos of 4, 6, 8 seconds, so yours will be 8 s instead of 10 s.',
    ]);
  });

  it('refuses a frame the model cannot do, naming the ones it can', () => {
    const fit = fitRequest(model(), { aspectRatio: '1:1' });
    expect(fit.ok).toBe(false);
    if (fit.ok) throw new Error('accepted');
    expect(english.text(fit.message)).toBe('**Veo 3.1 Fast** cannot make 1:1 videos; it makes 16:9, 9:16.');
  });

  it('refuses an image for a model that takes none, instead of dropping it', () => {
    const fit = fitRequest(model({ imageInput: false }), {
      imageUrl: 'https://cdn.example/a.png',
      durationSeconds: 4,
    });
    expect(fit.ok).toBe(false);
    if (fit.ok) throw new Error('accepted');
    expect(english.text(fit.message)).toMatch(/^\*\*Veo 3\.1 Fast\*\* makes videos from text only/);
  });

  it('lets a text-only model make a text-only video', () => {
    expect(fitRequest(model({ imageInput: false }), { durationSeconds: 4 })).toMatchObject({ ok: true });
  });
});

describe('nearestDuration', () => {
  it.each([
    [1, 4],
    [5, 4],
    [6, 4],
    [7, 8],
    [10, 8],
    [11, 12],
    [15, 12],
  ])('maps %i s to %i s among 4, 8, 12 (a tie goes to the shorter)', (requested, expected) => {
    expect(nearestDuration(requested, [4, 8, 12])).toBe(expected);
  });

  it('has nothing to offer from no lengths', () => {
    expect(nearestDuration(5, [])).toBeUndefined();
  });
});
