import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CatalogueProvider } from '../../../../src/services/catalogue/catalogue.ts';
import {
  type VideoEvent,
  type VideoRequest,
  VideoServiceError,
} from '../../../../src/services/video-service/video-provider.ts';
import { VideosApiProvider } from '../../../../src/services/video-service/videos-api/videos-api-provider.ts';
import { type FakeImageServer, PNG, startFakeImageServer } from '../../../fakes/fake-image-server.ts';
import { type FakeOpenRouter, startFakeOpenRouter } from '../../../fakes/fake-openrouter.ts';
import { type FakeVideosApi, startFakeVideosApi } from '../../../fakes/fake-videos-api.ts';
import { catalogueModel, shapeOptions } from '../../../harness/catalogue-fixtures.ts';
import { inEnglish } from '../../../harness/in-english.ts';
import { collect, failedReason, signal, succeeded } from '../../../harness/provider-events.ts';

const REQUEST: VideoRequest = { prompt: 'a paper boat on a puddle', model: 'veo-3.1' };
const VEO = catalogueModel({
  id: 'veo-3.1',
  label: 'Veo 3.1',
  provider: 'openrouter',
  model: 'google/veo-3.1',
});

let router: FakeOpenRouter;
let images: FakeImageServer;
const providers: VideosApiProvider[] = [];

beforeAll(async () => {
  router = await startFakeOpenRouter();
  images = await startFakeImageServer();
});
afterAll(async () => {
  await router.close();
  await images.close();
});
beforeEach(() => {
  router.reset({ queuedMs: 60, processingMs: 120 });
  images.hits.length = 0;
});
afterEach(async () => {
  await Promise.all(providers.splice(0).map((made) => made.close()));
});

function openRouterProvider(baseUrl = router.baseUrl): CatalogueProvider {
  return {
    name: 'openrouter',
    shape: 'openai-videos',
    variant: 'openrouter',
    baseUrl,
    apiKeyEnv: 'OPENROUTER_KEY',
  };
}

function provider(options: { model?: string; apiKey?: string } = {}): VideosApiProvider {
  const model = options.model ? { ...VEO, model: options.model } : VEO;
  const made = VideosApiProvider.fromShape(
    shapeOptions(openRouterProvider(), options.apiKey ?? router.apiKey, { model }),
  );
  providers.push(made);
  return made;
}

async function failure(events: AsyncIterable<VideoEvent>): Promise<VideoServiceError> {
  try {
    for await (const _event of events) {
      // only the throw matters
    }
  } catch (error) {
    expect(error).toBeInstanceOf(VideoServiceError);
    return error as VideoServiceError;
  }
  throw new Error('expected a throw');
}

describe("openai-videos, variant openrouter: OpenRouter's fields", () => {
  it('creates with model, prompt, duration as a number, aspect_ratio and resolution, and nothing of OpenAI’s', async () => {
    await collect(provider().generate({ ...REQUEST, durationSeconds: 8, aspectRatio: '9:16' }, signal()));

    expect(router.creates.map((create) => create.body)).toEqual([
      {
        model: 'google/veo-3.1',
        prompt: REQUEST.prompt,
        duration: 8,
        aspect_ratio: '9:16',
        resolution: '720p',
      },
    ]);
  });

  it("snaps an asked length to the model's nearest, and reads an orientation as its aspect ratio", async () => {
    await collect(provider().generate({ ...REQUEST, durationSeconds: 3, aspectRatio: '16:9' }, signal()));

    expect(router.creates[0]?.body).toMatchObject({ duration: 4, aspect_ratio: '16:9' });
  });

  it('sends the starting image as the first frame, by its link, which OpenRouter fetches itself', async () => {
    await collect(provider().generate({ ...REQUEST, imageUrl: images.imageUrl }, signal()));

    expect(router.creates[0]?.body.frame_images).toEqual([
      { type: 'image_url', image_url: { url: images.imageUrl }, frame_type: 'first_frame' },
    ]);
    expect(images.hits).toEqual([]);
  });

  it('a provider set to send image bytes sends them as a data URL in the first frame', async () => {
    const made = new VideosApiProvider({
      apiUrl: router.baseUrl,
      apiKey: router.apiKey,
      variant: 'openrouter',
      catalogueModel: VEO,
      imageInput: 'bytes',
      allowPrivateUrls: true,
      pollIntervalMs: 20,
    });
    providers.push(made);
    await collect(made.generate({ ...REQUEST, imageUrl: images.imageUrl }, signal()));

    expect(router.creates[0]?.body.frame_images).toEqual([
      {
        type: 'image_url',
        image_url: { url: `data:image/png;base64,${PNG.toString('base64')}` },
        frame_type: 'first_frame',
      },
    ]);
  });

  it('offers the catalogue model’s options, with no percent (OpenRouter gives none)', () => {
    expect(provider().capabilities('veo-3.1')).toMatchObject({
      durations: [4, 6, 8],
      progress: 'none',
      remix: false,
    });
  });
});

describe('openai-videos, variant openrouter: the job', () => {
  it('follows pending and in_progress to completion, with the signed link, the keyed proxy link and the cost', async () => {
    const events = await collect(provider().generate(REQUEST, signal()));
    const id = router.creates[0]?.jobId ?? '';

    expect(events.map((event) => event.type)).toEqual(['created', 'queued', 'progress', 'succeeded']);
    expect(events[0]).toEqual({ type: 'created', serviceJobId: id });
    expect(succeeded(events)).toEqual({
      type: 'succeeded',
      urls: [router.signedUrl(id)],
      fileUrl: router.unsignedUrl(id),
      cost: 0.42,
    });
    expect(router.requests.every((request) => request.authorized)).toBe(true);
  });

  it("a failed job is a failure with OpenRouter's words, the key masked", async () => {
    router.scriptNextJob({ end: { failed: `The provider refused the prompt (key ${router.apiKey}).` } });
    const events = await collect(provider().generate(REQUEST, signal()));

    expect(failedReason(events)).toContain('The provider refused the prompt');
    expect(JSON.stringify(events)).not.toContain(router.apiKey);
  });

  it.each([
    ['expired', 'failure.service.expired'],
    ['cancelled', 'failure.service.cancelled'],
  ] as const)('an %s job is a failure saying so', async (end, key) => {
    router.scriptNextJob({ end });
    const events = await collect(provider().generate(REQUEST, signal()));

    expect(failedReason(events)).toBe(inEnglish({ key }));
  });

  it('a new instance resumes the recorded id and delivers it, with no second create', async () => {
    const first = new AbortController();
    let recorded = '';
    await expect(
      (async () => {
        for await (const event of provider().generate(REQUEST, first.signal)) {
          if (event.type === 'created') {
            recorded = event.serviceJobId;
            first.abort(new Error('bot stopped'));
          }
        }
      })(),
    ).rejects.toThrow('bot stopped');

    const events = await collect(provider().resume(recorded, signal()));

    expect(succeeded(events).fileUrl).toBe(router.unsignedUrl(recorded));
    expect(router.count('create')).toBe(1);
  });

  it('a model OpenRouter does not have (404) is model_unavailable, before anything was made', async () => {
    const error = await failure(provider({ model: 'openai/sora-2' }).generate(REQUEST, signal()));

    expect(error.kind).toBe('model_unavailable');
    expect(error.beforeAnyEvent).toBe(true);
  });

  it("a 400 saying the model does not exist is model_unavailable; any other 400 is the member's refusal", async () => {
    router.failNext('create', { status: 400, message: 'Model google/veo-2 does not exist' });
    const gone = await failure(provider().generate(REQUEST, signal()));
    router.failNext('create', { status: 400, message: 'The prompt is too long for this model.' });
    const refused = await failure(provider().generate(REQUEST, signal()));

    expect(gone.kind).toBe('model_unavailable');
    expect(refused.kind).toBe('rejected');
    expect(inEnglish(refused.memberText ?? '')).toContain('The prompt is too long');
  });

  it('a wrong key (401) is auth, and the key is in no text', async () => {
    const wrongKey = 'sk-or-v1-wrongwrongwrong0123';
    const error = await failure(provider({ apiKey: wrongKey }).generate(REQUEST, signal()));

    expect(error.kind).toBe('auth');
    expect(`${error.message} ${error.userMessage} ${error.stack}`).not.toContain(wrongKey);
  });
});

describe('openai-videos, variant openrouter: the file', () => {
  it('downloads the proxy link with the key; the signed link is never sent the key', async () => {
    const made = provider();
    const result = succeeded(await collect(made.generate(REQUEST, signal())));

    const download = await made.downloadFile(result.fileUrl ?? '', 10 * 1024 * 1024, 'video.mp4', signal());

    expect(download.ok).toBe(true);
    if (download.ok) expect(download.video.bytes.length).toBe(16 * 1024);
    const content = router.requests.filter((request) => request.call === 'content');
    expect(content).toHaveLength(1);
    expect(content[0]?.authorized).toBe(true);
    expect(router.requests.filter((request) => request.call === 'signed')).toEqual([]);
  });

  it('refuses to fetch with the key a link on another origin, such as the signed storage link', async () => {
    const made = provider();
    const result = succeeded(await collect(made.generate(REQUEST, signal())));

    const download = await made.downloadFile(result.urls[0] ?? '', 10 * 1024 * 1024, 'video.mp4', signal());

    expect(download).toMatchObject({ ok: false, why: 'download-refused' });
    expect(router.requests.filter((request) => request.origin === router.storageOrigin)).toEqual([]);
  });
});

describe('openai-videos, variant openai, built from the catalogue', () => {
  let relay: FakeVideosApi;
  beforeAll(async () => {
    relay = await startFakeVideosApi({ defaults: { queuedMs: 40, processingMs: 80 } });
  });
  afterAll(async () => {
    await relay.close();
  });

  it("sends the catalogue model's name, its nearest length as a string and the frame as a size", async () => {
    const gateway: CatalogueProvider = {
      name: 'gateway',
      shape: 'openai-videos',
      baseUrl: relay.apiUrl,
      apiKeyEnv: 'GATEWAY_KEY',
    };
    const model = catalogueModel({ id: 'kling', provider: 'gateway', model: 'kling-v3', durations: [5, 10] });
    const made = VideosApiProvider.fromShape(shapeOptions(gateway, relay.apiKey, { model }));
    providers.push(made);

    const events = await collect(
      made.generate({ ...REQUEST, durationSeconds: 9, aspectRatio: '9:16' }, signal()),
    );

    expect(relay.creates[0]?.fields).toMatchObject({ model: 'kling-v3', seconds: '10', size: '720x1280' });
    expect(succeeded(events).cost).toBeUndefined();
  });
});
