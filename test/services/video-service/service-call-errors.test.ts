import { describe, expect, it } from 'vitest';
import { geminiHttpFailure } from '../../../src/services/video-service/gemini/gemini-errors.ts';
import { statusFailure } from '../../../src/services/video-service/service-call-errors.ts';
import { httpFailure } from '../../../src/services/video-service/videos-api/videos-api-errors.ts';

/** One status table for every job-based shape: the same answer means the same thing whoever gave it. */
const readers = {
  'videos api': (status: number, body: string) => httpFailure('create', status, body, undefined),
  gemini: (status: number, body: string) => geminiHttpFailure('create', status, body, undefined),
  fal: (status: number, body: string) =>
    statusFailure('create', status, { said: JSON.parse(body).detail, body, service: 'fal' }),
};

describe.each(Object.entries(readers))('a refused create at %s', (_shape, read) => {
  it('402 ("insufficient credit") is an empty balance, for the owner to fix', () => {
    expect(read(402, '{"detail":"Insufficient credit"}')).toMatchObject({
      kind: 'auth',
      createOutcome: 'refused',
    });
  });

  it('a model that is gone gets the model-unavailable text, whatever the service said', () => {
    expect(read(404, '{"detail":"model veo-0 not found"}')).toMatchObject({
      kind: 'model_unavailable',
      memberText: { key: 'failure.service.modelUnavailable' },
    });
  });

  it('an answer that is neither a refusal nor a success may have made a job: never sent again', () => {
    expect(read(302, '{"detail":"moved"}').createOutcome).toBe('unknown');
    expect(read(503, '{"detail":"busy"}').createOutcome).toBe('unknown');
    expect(read(429, '{"detail":"slow down"}').createOutcome).toBe('refused');
  });
});

describe('Gemini', () => {
  it('reads its 400 API_KEY_INVALID as a rejected key', () => {
    const body = JSON.stringify({
      error: { code: 400, message: 'API key not valid.', details: [{ reason: 'API_KEY_INVALID' }] },
    });
    expect(geminiHttpFailure('poll', 400, body, undefined)).toMatchObject({ kind: 'auth', status: 400 });
  });
});
