import { describe, expect, it } from 'vitest';
import {
  appOf,
  modelUrlPath,
  requestOf,
} from '../../../../src/services/video-service/fal-queue/fal-request.ts';
import { JsonApiClient } from '../../../../src/services/video-service/json-api-client.ts';
import { saysContentPolicy } from '../../../../src/services/video-service/polled-job/content-policy.ts';
import { saysModelUnavailable } from '../../../../src/services/video-service/service-error-text.ts';
import { ServiceTextRedaction } from '../../../../src/services/video-service/service-text-redaction.ts';

describe('fal request addresses', () => {
  it('takes the app from the first two segments of a model path', () => {
    expect(appOf('fal-ai/kling-video/v3/standard/image-to-video')).toBe('fal-ai/kling-video');
    expect(appOf('fal-ai')).toBeUndefined();
  });

  it('refuses model paths and recorded ids that could climb out of the base URL', () => {
    expect(modelUrlPath('fal-ai/../../admin')).toBeUndefined();
    expect(modelUrlPath('fal-ai/kling%2F..')).toBeUndefined();
    expect(requestOf('../x/requests', 'fal-ai/kling-video')).toBeUndefined();
    expect(requestOf('fal-ai/kling-video/a b', 'fal-ai/kling-video')).toBeUndefined();
  });

  it('reads back the id it records, and a bare request id as one of the default app', () => {
    expect(requestOf('fal-ai/veo3.1/0123-abcd', 'fal-ai/kling-video')).toEqual({
      app: 'fal-ai/veo3.1',
      requestId: '0123-abcd',
    });
    expect(requestOf('0123-abcd', 'fal-ai/kling-video')).toEqual({
      app: 'fal-ai/kling-video',
      requestId: '0123-abcd',
    });
  });
});

describe('the words of a refusal', () => {
  it.each([
    'Model not found',
    "Application 'fal-ai/old' not found",
    'The model kwaivgi/kling-v1 does not exist',
    'This model version is no longer available',
  ])('"%s" says the model is gone', (said) => {
    expect(saysModelUnavailable(said)).toBe(true);
  });

  it.each(['Image not found at the given URL', 'duration must be one of 5, 10', 'Invalid request'])(
    '"%s" does not',
    (said) => {
      expect(saysModelUnavailable(said)).toBe(false);
    },
  );

  it.each([
    'NSFW content detected',
    'The content was flagged by a content checker.',
    'content_policy_violation',
  ])('"%s" is a content-policy refusal', (said) => {
    expect(saysContentPolicy(said)).toBe(true);
  });

  it('an ordinary failure is not', () => {
    expect(saysContentPolicy('CUDA out of memory')).toBe(false);
  });
});

describe('JsonApiClient', () => {
  it('builds every address under its base URL and refuses any that leaves it', async () => {
    const client = new JsonApiClient({
      service: 'test',
      baseUrl: 'https://api.example/v1/',
      keyHeader: { authorization: 'Bearer k' },
      redaction: new ServiceTextRedaction(['k']),
    });
    try {
      expect(client.urlOf('predictions/abc')).toBe('https://api.example/v1/predictions/abc');
      expect(() => client.urlOf('../admin')).toThrow(/leaves the base URL/);
      expect(client.urlOf('//evil.example/x')).toBe('https://api.example/v1/evil.example/x');
    } finally {
      await client.close();
    }
  });
});
