import { describe, expect, it } from 'vitest';
import { describeCreateFailure } from '../../../src/services/video-service/service-error-text.ts';

describe('a refused create', () => {
  it.each([
    [404, undefined],
    [410, 'This model was retired.'],
    [400, 'The model `sora-2` does not exist or you do not have access to it.'],
    [400, 'model sora-2-pro not found'],
    [422, 'Unknown model: sora-2'],
    [400, '当前分组 default 下对于模型 sora-2 无可用渠道'],
  ])('HTTP %i (%s) means the model is gone: another may take the job', (status, said) => {
    expect(describeCreateFailure(status, said)).toMatchObject({
      kind: 'model_unavailable',
      memberText: { key: 'failure.service.modelUnavailable' },
    });
  });

  it.each([
    [400, 'The prompt was flagged by moderation.'],
    [422, 'duration must be one of 4, 8, 12'],
    [401, 'model not found'],
    [503, 'model unavailable'],
  ])('HTTP %i (%s) is not about the model', (status, said) => {
    expect(describeCreateFailure(status, said).kind).not.toBe('model_unavailable');
  });
});
