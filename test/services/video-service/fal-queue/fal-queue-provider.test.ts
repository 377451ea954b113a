import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CatalogueModel } from '../../../../src/services/catalogue/catalogue.ts';
import { createLogger } from '../../../../src/services/logging/logger.ts';
import { FalQueueProvider } from '../../../../src/services/video-service/fal-queue/fal-queue-provider.ts';
import type { ShapeProviderOptions } from '../../../../src/services/video-service/shape-options.ts';
import {
  type VideoEvent,
  type VideoRequest,
  VideoServiceError,
} from '../../../../src/services/video-service/video-provider.ts';
import { FAL_CONTENT_POLICY, type FakeFal, startFakeFal } from '../../../fakes/fake-fal.ts';
import { shapeOptions } from '../../../harness/catalogue-fixtures.ts';
import { collect, createdId, shape, signal } from '../../../harness/provider-events.ts';

const TEXT_MODEL = 'fal-ai/kling-video/v3/standard/text-to-video';
const IMAGE_MODEL = 'fal-ai/kling-video/v3/standard/image-to-video';
const IMAGE_URL = 'https://cdn.discordapp.com/attachments/1/2/start.png';
const REQUEST: VideoRequest = { prompt: 'a cat chasing light', model: 'kling-3' };

let fal: FakeFal;
/** A second server: where a status_url may point, and where the key must never go. */
let elsewhere: FakeFal;
const providers: FalQueueProvider[] = [];

beforeAll(async () => {
  elsewhere = await startFakeFal();
  fal = await startFakeFal();
});
afterAll(async () => {
  await fal.close();
  await elsewhere.close();
});
beforeEach(() => {
  fal.reset({ queuedMs: 80, queueAhead: 3, processingMs: 60 });
  elsewhere.reset();
});
afterEach(async () => {
  await Promise.all(providers.splice(0).map((made) => made.close()));
});

function catalogueModel(patch: Partial<CatalogueModel> = {}): CatalogueModel {
  return {
    id: 'kling-3',
    label: 'Kling 3',
    provider: 'fal',
    model: TEXT_MODEL,
    imageModel: IMAGE_MODEL,
    input: { image: 'start_image_url' },
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
): FalQueueProvider {
  const { baseUrl = fal.baseUrl, ...patch } = options;
  const where = { name: 'fal', shape: 'fal-queue', baseUrl, apiKeyEnv: 'FAL_KEY' } as const;
  const made = new FalQueueProvider(
    shapeOptions(where, fal.apiKey, { model: catalogueModel(model), ...patch }),
  );
  providers.push(made);
  return made;
}

async function outcome(events: AsyncIterable<VideoEvent>): Promise<{ seen: VideoEvent[]; error: unknown }> {
  const seen: VideoEvent[] = [];
  try {
    for await (const event of events) seen.push(event);
  } catch (error) {
    return { seen, error };
  }
  throw new Error(`expected a throw, got ${JSON.stringify(seen)}`);
}

async function serviceError(
  events: AsyncIterable<VideoEvent>,
): Promise<{ seen: VideoEvent[]; error: VideoServiceError }> {
  const { seen, error } = await outcome(events);
  expect(error).toBeInstanceOf(VideoServiceError);
  return { seen, error: error as VideoServiceError };
}

/** Every text an error or an event could leak through. */
function allTextOf(events: VideoEvent[], error?: unknown): string {
  const texts = [JSON.stringify(events)];
  if (error instanceof VideoServiceError) {
    texts.push(error.message, error.userMessage, JSON.stringify(error.memberText ?? {}), error.stack ?? '');
  }
  return texts.join('\n');
}

describe('FalQueueProvider', () => {
  it('makes a text-only video: submits the text model, reports the queue, ends with the video link', async () => {
    // The stand-in's clock moves a step per event shown, so every state is seen, however busy the machine.
    let now = Date.UTC(2026, 0, 1);
    const stepped = await startFakeFal({
      now: () => now,
      defaults: { queuedMs: 100, queueAhead: 1, processingMs: 100 },
    });
    try {
      const made = provider({}, { baseUrl: stepped.baseUrl, apiKey: stepped.apiKey });
      const events: VideoEvent[] = [];
      for await (const event of made.generate(REQUEST, signal())) {
        events.push(event);
        if (event.type === 'queued' || event.type === 'progress') now += 100;
      }

      expect(shape(events)).toEqual(['created', 'queued', 'progress', 'succeeded']);
      const [submit] = stepped.creates;
      expect(stepped.creates).toHaveLength(1);
      expect(submit?.modelPath).toBe(TEXT_MODEL);
      expect(submit?.body).toEqual({ prompt: REQUEST.prompt });
      expect(submit?.headers.authorization).toBe(`Key ${stepped.apiKey}`);
      expect(createdId(events)).toBe(`fal-ai/kling-video/${submit?.requestId}`);
      const videoUrl = `${stepped.baseUrl}/files/${submit?.requestId}.mp4`;
      expect(events.at(-1)).toEqual({ type: 'succeeded', urls: [videoUrl] });
      expect((await fetch(videoUrl)).headers.get('content-type')).toBe('video/mp4');
    } finally {
      await stepped.close();
    }
  });

  it('reports the queue position as it falls', async () => {
    // The stand-in's clock moves only when a position is shown, so every poll sees the next one.
    let now = Date.UTC(2026, 0, 1);
    const queue = await startFakeFal({
      now: () => now,
      defaults: { queuedMs: 400, queueAhead: 4, processingMs: 100 },
    });
    try {
      const made = provider({}, { baseUrl: queue.baseUrl, apiKey: queue.apiKey });
      const events: VideoEvent[] = [];
      for await (const event of made.generate(REQUEST, signal())) {
        events.push(event);
        if (event.type === 'queued' || event.type === 'progress') now += 100;
      }

      const positions = events.flatMap((event) => (event.type === 'queued' ? [event.position] : []));
      expect(positions).toEqual([4, 3, 2, 1]);
      expect(shape(events)).toEqual(['created', 'queued', 'progress', 'succeeded']);
    } finally {
      await queue.close();
    }
  });

  it('sends an image with the prompt to the image model, in the field the catalogue renames it to', async () => {
    await collect(provider().generate({ ...REQUEST, imageUrl: IMAGE_URL }, signal()));

    const [submit] = fal.creates;
    expect(submit?.modelPath).toBe(IMAGE_MODEL);
    expect(submit?.body).toEqual({ prompt: REQUEST.prompt, start_image_url: IMAGE_URL });
  });

  it('sends the image as image_url when the model renames nothing, to the one model path without image_model', async () => {
    const model = { model: 'fal-ai/wan/v2.7/image-to-video', imageModel: undefined, input: {} };
    await collect(provider(model).generate({ ...REQUEST, imageUrl: IMAGE_URL }, signal()));

    expect(fal.creates[0]?.modelPath).toBe('fal-ai/wan/v2.7/image-to-video');
    expect(fal.creates[0]?.body.image_url).toBe(IMAGE_URL);
  });

  it('sends the duration as fal wants it (a string) and the aspect ratio', async () => {
    await collect(provider().generate({ ...REQUEST, durationSeconds: 10, aspectRatio: '9:16' }, signal()));

    expect(fal.creates[0]?.body).toEqual({ prompt: REQUEST.prompt, duration: '10', aspect_ratio: '9:16' });
  });

  it('gives Veo its duration with the unit it takes ("8s"), and the square frame', async () => {
    const veo = { model: 'fal-ai/veo3.1/fast', imageModel: undefined, durations: [4, 6, 8] };
    await collect(provider(veo).generate({ ...REQUEST, durationSeconds: 8, aspectRatio: '1:1' }, signal()));

    expect(fal.creates[0]?.body).toMatchObject({ duration: '8s', aspect_ratio: '1:1' });
  });

  it("ends failed with fal's reason when the request fails, the key masked", async () => {
    fal.scriptNextRequest({
      outcome: {
        status: 422,
        detail: [
          { loc: ['body'], msg: `Video generation failed (key ${fal.apiKey})`, type: 'generation_failed' },
        ],
      },
    });
    const events = await collect(provider().generate(REQUEST, signal()));

    const last = events.at(-1);
    expect(last?.type).toBe('failed');
    expect(JSON.stringify(last)).toContain('Video generation failed');
    expect(allTextOf(events)).not.toContain(fal.apiKey);
  });

  it('ends failed with the content-policy text when the content checker flags the prompt', async () => {
    fal.scriptNextRequest({ outcome: FAL_CONTENT_POLICY });
    const events = await collect(provider().generate(REQUEST, signal()));

    expect(events.at(-1)).toEqual({ type: 'failed', reason: { key: 'failure.service.contentFilter' } });
  });

  it('reads a failure fal already reports on the COMPLETED status, without fetching the result', async () => {
    fal.scriptNextRequest({ outcome: FAL_CONTENT_POLICY, failureOnStatus: true });
    const events = await collect(provider().generate(REQUEST, signal()));

    expect(events.at(-1)).toEqual({ type: 'failed', reason: { key: 'failure.service.contentFilter' } });
    expect(fal.count('result')).toBe(0);
  });

  it('refuses with the content-policy text when the submit itself is flagged', async () => {
    fal.failNext('submit', { status: 422, body: { detail: FAL_CONTENT_POLICY.detail } });
    const { error } = await serviceError(provider().generate(REQUEST, signal()));

    expect(error.kind).toBe('rejected');
    expect(error.memberText).toEqual({ key: 'failure.service.contentFilter' });
    expect(error.beforeAnyEvent).toBe(true);
  });

  it('cancels the request at fal when the caller aborts after the submit', async () => {
    fal.reset({ queuedMs: 60_000 });
    const controller = new AbortController();
    const reason = new Error('member cancelled');
    const events = provider().generate(REQUEST, controller.signal);
    const seen: VideoEvent[] = [];
    let thrown: unknown;
    try {
      for await (const event of events) {
        seen.push(event);
        if (event.type === 'queued') controller.abort(reason);
      }
    } catch (error) {
      thrown = error;
    }

    expect(thrown).toBe(reason);
    const requestId = fal.creates[0]?.requestId;
    expect(fal.count('cancel', requestId)).toBe(1);
    expect(fal.requests.find((call) => call.call === 'cancel')?.status).toBe(202);
  });

  it('resumes the recorded request on a fresh provider with no second submit', async () => {
    fal.reset({ queuedMs: 150, processingMs: 100 });
    let recorded = '';
    for await (const event of provider().generate({ ...REQUEST, imageUrl: IMAGE_URL }, signal())) {
      if (event.type === 'created') {
        recorded = event.serviceJobId;
        break; // the bot dies here: nothing is cancelled
      }
    }
    const events = await collect(provider({}, {}).resume(recorded, signal()));

    expect(fal.creates).toHaveLength(1);
    expect(fal.count('cancel')).toBe(0);
    const requestId = fal.creates[0]?.requestId;
    expect(events.at(-1)).toEqual({ type: 'succeeded', urls: [`${fal.baseUrl}/files/${requestId}.mp4`] });
    expect(fal.count('status', requestId)).toBeGreaterThan(0);
  });

  it('sends the key only to base_url, never to the status_url fal answers with', async () => {
    const wandering = await startFakeFal({ answerUrlsOrigin: elsewhere.baseUrl });
    try {
      wandering.reset({ queuedMs: 40, processingMs: 40 });
      const events = await collect(provider({}, { baseUrl: wandering.baseUrl }).generate(REQUEST, signal()));

      expect(events.at(-1)?.type).toBe('succeeded');
      expect(elsewhere.requests).toEqual([]);
      expect(wandering.requests.every((call) => call.authorized)).toBe(true);
    } finally {
      await wandering.close();
    }
  });

  it('says model_unavailable, before anything was made, when fal does not know the model path', async () => {
    fal.removeModel(TEXT_MODEL);
    const { seen, error } = await serviceError(provider().generate(REQUEST, signal()));

    expect(seen).toEqual([]);
    expect(error.kind).toBe('model_unavailable');
    expect(error.beforeAnyEvent).toBe(true);
  });

  it('says model_unavailable for the image model when only the text model exists', async () => {
    const textOnly = await startFakeFal({ models: [TEXT_MODEL] });
    try {
      const made = provider({}, { baseUrl: textOnly.baseUrl, apiKey: textOnly.apiKey });
      const { error } = await serviceError(made.generate({ ...REQUEST, imageUrl: IMAGE_URL }, signal()));

      expect(error.kind).toBe('model_unavailable');
      expect(textOnly.creates.map((submit) => submit.modelPath)).toEqual([IMAGE_MODEL]);
    } finally {
      await textOnly.close();
    }
  });

  it('says model_unavailable when a 422 says the model does not exist', async () => {
    fal.failNext('submit', { status: 422, body: { detail: 'Model fal-ai/kling-video/v9 does not exist' } });
    const { error } = await serviceError(provider().generate(REQUEST, signal()));

    expect(error.kind).toBe('model_unavailable');
    expect(error.beforeAnyEvent).toBe(true);
  });

  it('stops at the deadline with a timeout, and cancels the request at fal', async () => {
    fal.reset({ queuedMs: 60_000 });
    // Long enough for the submit to answer on a busy machine; the request then waits for ever.
    const { seen, error } = await serviceError(
      provider({}, { timeoutMs: 1_000 }).generate(REQUEST, signal()),
    );

    expect(seen[0]?.type).toBe('created');
    expect(error.kind).toBe('timeout');
    expect(error.beforeAnyEvent).toBe(false);
    expect(fal.count('cancel', fal.creates[0]?.requestId)).toBe(1);
  });

  it('refuses to resume an id that is no fal request, without calling fal', async () => {
    const { error } = await serviceError(provider().resume('../../admin/requests/x', signal()));

    expect(error.kind).toBe('rejected');
    expect(fal.requests).toEqual([]);
  });

  it("refuses with fal's detail when the submit is invalid (422)", async () => {
    fal.failNext('submit', {
      status: 422,
      body: { detail: [{ loc: ['body', 'duration'], msg: "Input should be '5' or '10'", type: 'enum' }] },
    });
    const { error } = await serviceError(provider().generate(REQUEST, signal()));

    expect(error.kind).toBe('rejected');
    expect(error.memberText).toEqual({
      key: 'failure.service.refusedSaid',
      params: { said: "Input should be '5' or '10'" },
    });
  });

  it('never sends a submit again when fal answered 5xx: the request may exist', async () => {
    fal.failNext('submit', { status: 500 });
    const { error } = await serviceError(provider().generate(REQUEST, signal()));

    expect(error.kind).toBe('unavailable');
    expect(error.beforeAnyEvent).toBe(false);
    expect(fal.count('submit')).toBe(1);
  });

  it('never sends a submit again when the connection broke after it was sent', async () => {
    fal.failNext('submit', { reset: true });
    const { error } = await serviceError(provider().generate(REQUEST, signal()));

    expect(error.beforeAnyEvent).toBe(false);
    expect(fal.count('submit')).toBe(1);
    expect(fal.jobs.size).toBe(1);
  });

  it('sends a submit again after 429, which made nothing', async () => {
    fal.failNext('submit', { status: 429, retryAfter: '0' });
    const events = await collect(provider().generate(REQUEST, signal()));

    expect(events.at(-1)?.type).toBe('succeeded');
    expect(fal.count('submit')).toBe(2);
    expect(fal.jobs.size).toBe(1);
  });

  it('polls on through 503s and a bare gateway error on the result', async () => {
    fal.failNext('status', { status: 503 }, { times: 2 });
    fal.failNext('result', { status: 502, body: 'Bad gateway' });
    const events = await collect(provider().generate(REQUEST, signal()));

    expect(events.at(-1)?.type).toBe('succeeded');
    expect(fal.count('result')).toBe(2);
  });

  it('says auth, with the key it sent masked, when fal refuses the key', async () => {
    const wrongKey = 'fal-wrong-key-9876543210';
    const { seen, error } = await serviceError(
      provider({}, { apiKey: wrongKey }).generate(REQUEST, signal()),
    );

    expect(error.kind).toBe('auth');
    expect(error.beforeAnyEvent).toBe(true);
    expect(allTextOf(seen, error)).not.toContain(wrongKey);
  });

  it('logs the job by its id, at every step, and never the key', async () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'debug', write: (line) => lines.push(line) });
    fal.scriptNextRequest({
      outcome: { status: 422, detail: [{ loc: ['body'], msg: `bad key ${fal.apiKey}`, type: 'x' }] },
    });
    fal.failNext('status', { status: 503, body: { detail: `upstream saw Key ${fal.apiKey}` } });
    const events = await collect(provider({}, { logger }).generate(REQUEST, signal()));

    const jobId = createdId(events);
    const logged = lines.map((line) => JSON.parse(line) as { event: string; jobId?: string });
    expect(logged.filter((line) => line.event === 'fal_job_created').map((line) => line.jobId)).toEqual([
      jobId,
    ]);
    expect(logged.some((line) => line.event === 'fal_poll_retry' && line.jobId === jobId)).toBe(true);
    expect(logged.some((line) => line.event === 'fal_job_finished' && line.jobId === jobId)).toBe(true);
    expect(lines.join('\n')).not.toContain(fal.apiKey);
  });

  it('offers what the catalogue says the model offers', () => {
    const made = provider({ durations: [5, 10], aspectRatios: ['16:9', '1:1'], imageInput: false });

    expect(made.capabilities('kling-3')).toEqual({
      durations: [5, 10],
      aspectRatios: ['16:9', '1:1'],
      imageInput: false,
      progress: 'queue',
      remix: false,
    });
  });
});
