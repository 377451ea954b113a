import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CatalogueModel } from '../../../../src/services/catalogue/catalogue.ts';
import { ReplicateProvider } from '../../../../src/services/video-service/replicate/replicate-provider.ts';
import type { ShapeProviderOptions } from '../../../../src/services/video-service/shape-options.ts';
import {
  type VideoEvent,
  type VideoRequest,
  VideoServiceError,
} from '../../../../src/services/video-service/video-provider.ts';
import { type FakeReplicate, startFakeReplicate } from '../../../fakes/fake-replicate.ts';
import { shapeOptions } from '../../../harness/catalogue-fixtures.ts';
import { collect, shape, signal } from '../../../harness/provider-events.ts';

const MODEL = 'kwaivgi/kling-v2.1';
const IMAGE_URL = 'https://cdn.discordapp.com/attachments/1/2/start.png';
const REQUEST: VideoRequest = { prompt: 'a cat chasing light', model: 'kling-replicate' };

let replicate: FakeReplicate;
const providers: ReplicateProvider[] = [];

beforeAll(async () => {
  replicate = await startFakeReplicate();
});
afterAll(async () => {
  await replicate.close();
});
beforeEach(() => {
  replicate.reset({ startingMs: 60, processingMs: 60 });
});
afterEach(async () => {
  await Promise.all(providers.splice(0).map((made) => made.close()));
});

function catalogueModel(patch: Partial<CatalogueModel> = {}): CatalogueModel {
  return {
    id: 'kling-replicate',
    label: 'Kling 2.1 (Replicate)',
    provider: 'replicate',
    model: MODEL,
    input: { image: 'start_image' },
    durations: [5, 10],
    aspectRatios: ['16:9', '9:16', '1:1'],
    imageInput: true,
    fallback: [],
    ...patch,
  };
}

function provider(
  model: Partial<CatalogueModel> = {},
  options: Partial<ShapeProviderOptions> & { baseUrl?: string } = {},
): ReplicateProvider {
  const { baseUrl = replicate.baseUrl, ...patch } = options;
  const where = { name: 'replicate', shape: 'replicate', baseUrl, apiKeyEnv: 'REPLICATE_API_TOKEN' } as const;
  const made = new ReplicateProvider(
    shapeOptions(where, replicate.apiKey, { model: catalogueModel(model), ...patch }),
  );
  providers.push(made);
  return made;
}

async function serviceError(
  events: AsyncIterable<VideoEvent>,
): Promise<{ seen: VideoEvent[]; error: VideoServiceError }> {
  const seen: VideoEvent[] = [];
  try {
    for await (const event of events) seen.push(event);
  } catch (error) {
    expect(error).toBeInstanceOf(VideoServiceError);
    return { seen, error: error as VideoServiceError };
  }
  throw new Error(`expected a throw, got ${JSON.stringify(seen)}`);
}

function allTextOf(events: VideoEvent[], error?: VideoServiceError): string {
  const texts = [JSON.stringify(events)];
  if (error)
    texts.push(error.message, error.userMessage, JSON.stringify(error.memberText ?? {}), error.stack ?? '');
  return texts.join('\n');
}

function videoUrlOf(predictionId: string | undefined): string {
  return `${replicate.origin}/files/${predictionId}.mp4`;
}

describe('ReplicateProvider', () => {
  it('makes a text-only video: creates a prediction of the model, follows it, ends with the output link', async () => {
    // The stand-in's clock moves a step per event shown, so every state is seen, however busy the machine.
    let now = Date.UTC(2026, 0, 1);
    const stepped = await startFakeReplicate({
      now: () => now,
      defaults: { startingMs: 100, processingMs: 100 },
    });
    try {
      const made = provider({}, { baseUrl: stepped.baseUrl, apiKey: stepped.apiKey });
      const events: VideoEvent[] = [];
      for await (const event of made.generate(REQUEST, signal())) {
        events.push(event);
        if (event.type === 'queued' || event.type === 'progress') now += 100;
      }

      expect(shape(events)).toEqual(['created', 'queued', 'progress', 'succeeded']);
      const [create] = stepped.creates;
      expect(stepped.creates).toHaveLength(1);
      expect(create?.model).toBe(MODEL);
      expect(create?.body).toEqual({ input: { prompt: REQUEST.prompt } });
      expect(create?.headers.authorization).toBe(`Bearer ${stepped.apiKey}`);
      expect(create?.headers.prefer).toBeUndefined();
      expect(events[0]).toEqual({ type: 'created', serviceJobId: create?.predictionId });
      const videoUrl = `${stepped.origin}/files/${create?.predictionId}.mp4`;
      expect(events.at(-1)).toEqual({ type: 'succeeded', urls: [videoUrl] });
    } finally {
      await stepped.close();
    }
  });

  it('reads an output that is a list of links', async () => {
    replicate.scriptNextPrediction({ output: 'list' });
    const events = await collect(provider().generate(REQUEST, signal()));

    expect(events.at(-1)).toEqual({
      type: 'succeeded',
      urls: [videoUrlOf(replicate.creates[0]?.predictionId)],
    });
  });

  it('sends the image with the prompt in the field the catalogue renames it to', async () => {
    await collect(provider().generate({ ...REQUEST, imageUrl: IMAGE_URL }, signal()));

    expect(replicate.creates[0]?.body).toEqual({ input: { prompt: REQUEST.prompt, start_image: IMAGE_URL } });
  });

  it('sends the image as `image` when the model renames nothing', async () => {
    await collect(provider({ input: {} }).generate({ ...REQUEST, imageUrl: IMAGE_URL }, signal()));

    expect(replicate.creates[0]?.body.input).toMatchObject({ image: IMAGE_URL });
  });

  it('runs the image model of the catalogue when an image is given, the text model otherwise', async () => {
    const made = provider({ input: {}, model: 'wan-video/wan-2.5-t2v', imageModel: 'wan-video/wan-2.5-i2v' });
    await collect(made.generate({ ...REQUEST, imageUrl: IMAGE_URL }, signal()));
    await collect(made.generate(REQUEST, signal()));

    expect(replicate.creates.map((create) => create.model)).toEqual([
      'wan-video/wan-2.5-i2v',
      'wan-video/wan-2.5-t2v',
    ]);
  });

  it('sends the duration as an integer and the aspect ratio', async () => {
    await collect(provider().generate({ ...REQUEST, durationSeconds: 10, aspectRatio: '9:16' }, signal()));

    expect(replicate.creates[0]?.body).toEqual({
      input: { prompt: REQUEST.prompt, duration: 10, aspect_ratio: '9:16' },
    });
  });

  it('runs a pinned version through /predictions with `version`', async () => {
    const version = 'a'.repeat(64);
    await collect(provider({ model: `${MODEL}:${version}` }).generate(REQUEST, signal()));

    expect(replicate.creates[0]?.body).toEqual({ version, input: { prompt: REQUEST.prompt } });
  });

  it("ends failed with Replicate's error when the prediction fails, the key masked", async () => {
    replicate.scriptNextPrediction({
      outcome: { error: `Generation failed: upstream said ${replicate.apiKey}` },
    });
    const events = await collect(provider().generate(REQUEST, signal()));

    const last = events.at(-1);
    expect(last?.type).toBe('failed');
    expect(JSON.stringify(last)).toContain('Generation failed');
    expect(allTextOf(events)).not.toContain(replicate.apiKey);
  });

  it('ends failed with the content-policy text when the model flags the prompt', async () => {
    replicate.scriptNextPrediction({ outcome: { error: 'NSFW content detected. Try a different prompt.' } });
    const events = await collect(provider().generate(REQUEST, signal()));

    expect(events.at(-1)).toEqual({ type: 'failed', reason: { key: 'failure.service.contentFilter' } });
  });

  it('cancels the prediction when the caller aborts after the create', async () => {
    replicate.reset({ startingMs: 60_000 });
    const controller = new AbortController();
    const reason = new Error('member cancelled');
    let thrown: unknown;
    try {
      for await (const event of provider().generate(REQUEST, controller.signal)) {
        if (event.type === 'queued') controller.abort(reason);
      }
    } catch (error) {
      thrown = error;
    }

    expect(thrown).toBe(reason);
    const id = replicate.creates[0]?.predictionId;
    expect(replicate.count('cancel', id)).toBe(1);
    expect(replicate.statusOf(id ?? '')).toBe('canceled');
  });

  it('ends failed as cancelled when the prediction was cancelled elsewhere', async () => {
    replicate.reset({ startingMs: 60_000 });
    const events: VideoEvent[] = [];
    for await (const event of provider().generate(REQUEST, signal())) {
      events.push(event);
      if (event.type === 'created') {
        await fetch(`${replicate.baseUrl}/predictions/${event.serviceJobId}/cancel`, {
          method: 'POST',
          headers: { authorization: `Bearer ${replicate.apiKey}` },
        });
      }
    }

    expect(events.at(-1)).toEqual({ type: 'failed', reason: { key: 'failure.service.cancelled' } });
  });

  it('resumes the recorded prediction on a fresh provider with no second create', async () => {
    replicate.reset({ startingMs: 150, processingMs: 100 });
    let recorded = '';
    for await (const event of provider().generate(REQUEST, signal())) {
      if (event.type === 'created') {
        recorded = event.serviceJobId;
        break; // the bot dies here: nothing is cancelled
      }
    }
    const events = await collect(provider().resume(recorded, signal()));

    expect(replicate.creates).toHaveLength(1);
    expect(replicate.count('cancel')).toBe(0);
    expect(events.at(-1)).toEqual({ type: 'succeeded', urls: [videoUrlOf(recorded)] });
  });

  it('sends the key to base_url only: every call it made was under it, with the key', async () => {
    await collect(provider().generate(REQUEST, signal()));

    expect(replicate.requests.length).toBeGreaterThan(1);
    for (const call of replicate.requests) {
      expect(call.path.startsWith('/v1/')).toBe(true);
      expect(call.authorized).toBe(true);
    }
  });

  it('says model_unavailable, before anything was made, when Replicate does not have the model', async () => {
    replicate.removeModel(MODEL);
    const { seen, error } = await serviceError(provider().generate(REQUEST, signal()));

    expect(seen).toEqual([]);
    expect(error.kind).toBe('model_unavailable');
    expect(error.beforeAnyEvent).toBe(true);
  });

  it("refuses with Replicate's detail when the input is invalid (422)", async () => {
    replicate.failNext('create', {
      status: 422,
      body: {
        title: 'Input validation failed',
        detail: '- input.duration: must be one of 5, 10',
        status: 422,
      },
    });
    const { error } = await serviceError(provider().generate(REQUEST, signal()));

    expect(error.kind).toBe('rejected');
    expect(error.memberText).toEqual({
      key: 'failure.service.refusedSaid',
      params: { said: '- input.duration: must be one of 5, 10' },
    });
  });

  it('refuses with the content-policy text when the create is flagged', async () => {
    replicate.failNext('create', {
      status: 422,
      body: {
        title: 'Input flagged',
        detail: 'The input or output was flagged as sensitive. (E005)',
        status: 422,
      },
    });
    const { error } = await serviceError(provider().generate(REQUEST, signal()));

    expect(error.kind).toBe('rejected');
    expect(error.memberText).toEqual({ key: 'failure.service.contentFilter' });
  });

  it('says auth when the credit is spent (402)', async () => {
    replicate.failNext('create', { status: 402 });
    const { error } = await serviceError(provider().generate(REQUEST, signal()));

    expect(error.kind).toBe('auth');
    expect(error.beforeAnyEvent).toBe(true);
  });

  it('never sends a create again when Replicate answered 5xx: the prediction may exist', async () => {
    replicate.failNext('create', { status: 500 });
    const { error } = await serviceError(provider().generate(REQUEST, signal()));

    expect(error.kind).toBe('unavailable');
    expect(error.beforeAnyEvent).toBe(false);
    expect(replicate.count('create')).toBe(1);
  });

  it('sends a create again after 429, which made nothing', async () => {
    replicate.failNext('create', { status: 429, retryAfter: '0' });
    const events = await collect(provider().generate(REQUEST, signal()));

    expect(events.at(-1)?.type).toBe('succeeded');
    expect(replicate.count('create')).toBe(2);
    expect(replicate.predictions.size).toBe(1);
  });

  it('polls on through 429s and 503s', async () => {
    replicate.failNext('poll', { status: 429, retryAfter: '0' });
    replicate.failNext('poll', { status: 503 });
    const events = await collect(provider().generate(REQUEST, signal()));

    expect(events.at(-1)?.type).toBe('succeeded');
  });

  it('says auth, with the key it sent masked, when Replicate refuses the key', async () => {
    const wrongKey = 'r8_wrong0123456789';
    const { seen, error } = await serviceError(
      provider({}, { apiKey: wrongKey }).generate(REQUEST, signal()),
    );

    expect(error.kind).toBe('auth');
    expect(allTextOf(seen, error)).not.toContain(wrongKey);
  });
});
