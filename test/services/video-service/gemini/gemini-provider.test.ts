import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CatalogueProvider } from '../../../../src/services/catalogue/catalogue.ts';
import { GeminiProvider } from '../../../../src/services/video-service/gemini/gemini-provider.ts';
import {
  type VideoEvent,
  type VideoRequest,
  VideoServiceError,
} from '../../../../src/services/video-service/video-provider.ts';
import { type FakeGemini, startFakeGemini } from '../../../fakes/fake-gemini.ts';
import { type FakeImageServer, PNG, startFakeImageServer } from '../../../fakes/fake-image-server.ts';
import { catalogueModel, shapeOptions } from '../../../harness/catalogue-fixtures.ts';
import { inEnglish } from '../../../harness/in-english.ts';
import { collect, failedReason, signal, succeeded } from '../../../harness/provider-events.ts';

const PROCESSING_MS = 150;
const REQUEST: VideoRequest = { prompt: 'a lighthouse in a storm', model: 'veo-3.1-fast' };

let google: FakeGemini;
let images: FakeImageServer;
const providers: GeminiProvider[] = [];

beforeAll(async () => {
  google = await startFakeGemini();
  images = await startFakeImageServer();
});
afterAll(async () => {
  await google.close();
  await images.close();
});
beforeEach(() => {
  google.reset({ processingMs: PROCESSING_MS });
});
afterEach(async () => {
  await Promise.all(providers.splice(0).map((made) => made.close()));
});

function googleProvider(): CatalogueProvider {
  return { name: 'google', shape: 'gemini', baseUrl: google.baseUrl, apiKeyEnv: 'GEMINI_API_KEY' };
}

function provider(options: { apiKey?: string; model?: string } = {}): GeminiProvider {
  const made = new GeminiProvider(
    shapeOptions(googleProvider(), options.apiKey ?? google.apiKey, {
      model: catalogueModel(options.model ? { model: options.model } : {}),
    }),
    { createRetryDelayMs: 10 },
  );
  providers.push(made);
  return made;
}

async function failure(
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

/** Every text an event or an error could leak through. */
function allTextOf(events: VideoEvent[], error?: VideoServiceError): string {
  const texts = [JSON.stringify(events)];
  if (error) {
    texts.push(error.message, error.userMessage, inEnglish(error.memberText ?? ''), error.stack ?? '');
    if (error.cause instanceof Error) texts.push(error.cause.message);
  }
  return texts.join('\n');
}

describe('GeminiProvider: a video from a prompt', () => {
  it('creates the operation, names it at once, polls it until done and hands over the key-only file', async () => {
    const events = await collect(provider().generate(REQUEST, signal()));

    expect(events[0]).toEqual({ type: 'created', serviceJobId: google.creates[0]?.operation });
    expect(events.map((event) => event.type)).toEqual(['created', 'progress', 'succeeded']);
    const result = succeeded(events);
    expect(result.urls).toEqual([]);
    expect(result.fileUrl).toBe(google.videoUri(google.creates[0]?.operation ?? ''));
    expect(google.creates).toHaveLength(1);
    expect(google.creates[0]?.model).toBe('veo-3.1-fast-generate-preview');
    expect(google.creates[0]?.body).toEqual({ instances: [{ prompt: REQUEST.prompt }], parameters: {} });
    expect(google.requests.every((request) => request.authorized && !request.keyElsewhere)).toBe(true);
  });

  it('sends the starting image as base64 bytes with its type in instances[0].image', async () => {
    await collect(provider().generate({ ...REQUEST, imageUrl: images.imageUrl }, signal()));

    const instance = google.creates[0]?.body.instances?.[0];
    expect(instance?.image).toEqual({ bytesBase64Encoded: PNG.toString('base64'), mimeType: 'image/png' });
    expect(instance?.prompt).toBe(REQUEST.prompt);
  });

  it("sends the asked frame as aspectRatio and the model's nearest length as a number of seconds", async () => {
    await collect(provider().generate({ ...REQUEST, durationSeconds: 8, aspectRatio: '9:16' }, signal()));
    // 5 s is between the model's 4 and 6: the shorter, so a member never pays for more than asked.
    await collect(provider().generate({ ...REQUEST, durationSeconds: 5, aspectRatio: '16:9' }, signal()));

    expect(google.creates.map((create) => create.body.parameters)).toEqual([
      { aspectRatio: '9:16', durationSeconds: 8 },
      { aspectRatio: '16:9', durationSeconds: 4 },
    ]);
  });

  it("offers the catalogue model's lengths and frames, without a percent or remix", () => {
    expect(provider().capabilities('veo-3.1-fast')).toEqual({
      durations: [4, 6, 8],
      aspectRatios: ['16:9', '9:16'],
      imageInput: true,
      progress: 'none',
      remix: false,
    });
  });
});

describe('GeminiProvider: outcomes', () => {
  it("a failed operation is a failure with Google's words, the key masked", async () => {
    google.scriptNextOperation({
      outcome: { error: { code: 13, message: `Video generation failed for key ${google.apiKey}.` } },
    });
    const events = await collect(provider().generate(REQUEST, signal()));

    expect(failedReason(events)).toContain('Video generation failed');
    expect(allTextOf(events)).not.toContain(google.apiKey);
  });

  it('a video withheld by the safety filters is a content-policy failure', async () => {
    google.scriptNextOperation({
      outcome: { filtered: ['Sorry, we could not create this video because it violates our policies.'] },
    });
    const events = await collect(provider().generate(REQUEST, signal()));

    expect(failedReason(events)).toBe(inEnglish({ key: 'failure.service.contentFilter' }));
    expect(events.some((event) => event.type === 'succeeded')).toBe(false);
  });
});

describe('GeminiProvider: a restart mid-job', () => {
  it('a new instance resumes the recorded operation and delivers it, with no second create', async () => {
    const first = new AbortController();
    let recorded: string | undefined;
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
    expect(recorded).toBeDefined();

    const events = await collect(provider().resume(recorded ?? '', signal()));

    expect(succeeded(events).fileUrl).toBe(google.videoUri(recorded ?? ''));
    expect(google.count('create')).toBe(1);
    expect(
      google.requests.filter((request) => request.call === 'poll').every((r) => r.operation === recorded),
    ).toBe(true);
  });

  it('an abort stops the polling: the aborted operation is not polled again', async () => {
    const controller = new AbortController();
    const run = collect(provider().generate(REQUEST, controller.signal));
    await waitFor(() => google.count('poll') > 0);
    controller.abort(new Error('member cancelled'));
    await expect(run).rejects.toThrow('member cancelled');
    const aborted = google.creates[0]?.operation;
    const pollsOfAborted = () => google.requests.filter((request) => request.operation === aborted).length;
    const pollsAtAbort = pollsOfAborted();

    // A whole second job, polled to its end, lasts longer than the first one's polling interval many times over.
    await collect(provider().generate(REQUEST, signal()));

    expect(pollsOfAborted()).toBe(pollsAtAbort);
    expect(google.count('create')).toBe(2);
  });
});

describe('GeminiProvider: the video file needs the key', () => {
  it('downloads the uri with the key, the bytes as Google served them', async () => {
    const made = provider();
    const result = succeeded(await collect(made.generate(REQUEST, signal())));

    const download = await made.downloadFile(result.fileUrl ?? '', 10 * 1024 * 1024, 'video.mp4', signal());

    expect(download.ok).toBe(true);
    if (download.ok) expect(download.video.bytes.length).toBe(32 * 1024);
    const fetched = google.requests.filter((request) => request.call === 'download');
    expect(fetched).toHaveLength(1);
    expect(fetched[0]?.authorized).toBe(true);
  });

  it('follows a redirect to storage on another origin without the key', async () => {
    google.scriptNextOperation({ redirectToStorage: true });
    const made = provider();
    const result = succeeded(await collect(made.generate(REQUEST, signal())));

    const download = await made.downloadFile(result.fileUrl ?? '', 10 * 1024 * 1024, 'video.mp4', signal());

    expect(download.ok).toBe(true);
    const storage = google.requests.filter((request) => request.call === 'storage');
    expect(storage).toHaveLength(1);
    expect(storage[0]?.sentKey).toBe(false);
    expect(storage[0]?.keyElsewhere).toBe(false);
  });

  it('refuses a uri on another origin than base_url: the key goes nowhere else', async () => {
    google.scriptNextOperation({ videoUriOrigin: google.storageOrigin });
    const made = provider();
    const result = succeeded(await collect(made.generate(REQUEST, signal())));
    expect(result.fileUrl?.startsWith(google.storageOrigin)).toBe(true);

    const download = await made.downloadFile(result.fileUrl ?? '', 10 * 1024 * 1024, 'video.mp4', signal());

    expect(download).toMatchObject({ ok: false, why: 'download-refused' });
    expect(google.requests.filter((request) => request.origin === google.storageOrigin)).toEqual([]);
  });

  it('a download answered 503 is tried again and arrives', async () => {
    const made = provider();
    const result = succeeded(await collect(made.generate(REQUEST, signal())));
    google.failNext('download', { status: 503, retryAfter: '0' });

    const download = await made.downloadFile(result.fileUrl ?? '', 10 * 1024 * 1024, 'video.mp4', signal());

    expect(download.ok).toBe(true);
    expect(google.count('download')).toBe(2);
  });

  it('a file larger than the upload limit is too large, not a fault', async () => {
    const made = provider();
    const result = succeeded(await collect(made.generate(REQUEST, signal())));

    const download = await made.downloadFile(result.fileUrl ?? '', 1024, 'video.mp4', signal());

    expect(download).toMatchObject({ ok: false, why: 'too-large' });
  });
});

describe('GeminiProvider: a create refused', () => {
  it('a model Google does not have (404 NOT_FOUND) is model_unavailable, before anything was made', async () => {
    const { seen, error } = await failure(provider({ model: 'veo-9-retired' }).generate(REQUEST, signal()));

    expect(seen).toEqual([]);
    expect(error.kind).toBe('model_unavailable');
    expect(error.beforeAnyEvent).toBe(true);
    expect(google.count('create')).toBe(1);
  });

  it("400 INVALID_ARGUMENT is rejected, with Google's words", async () => {
    google.failNext('create', { status: 400, message: 'The prompt contains words that are not allowed.' });
    const { error } = await failure(provider().generate(REQUEST, signal()));

    expect(error.kind).toBe('rejected');
    expect(inEnglish(error.memberText ?? '')).toContain('The prompt contains words that are not allowed.');
  });

  it('a wrong key (403 PERMISSION_DENIED) is auth, and the key is in no text', async () => {
    const wrongKey = 'AIzaWrongKey-abcdefghijklmnop';
    const { seen, error } = await failure(provider({ apiKey: wrongKey }).generate(REQUEST, signal()));

    expect(error.kind).toBe('auth');
    expect(allTextOf(seen, error)).not.toContain(wrongKey);
  });

  it("a key Google calls invalid (400 API_KEY_INVALID) is auth, not the member's fault", async () => {
    google.failNext('create', { status: 400, message: 'API key not valid. Please pass a valid API key.' });
    const { error } = await failure(provider().generate(REQUEST, signal()));

    expect(error.kind).toBe('auth');
  });

  it('429 RESOURCE_EXHAUSTED made nothing, so the create is sent again', async () => {
    google.failNext('create', { status: 429 });
    const events = await collect(provider().generate(REQUEST, signal()));

    expect(succeeded(events).fileUrl).toBeDefined();
    expect(google.count('create')).toBe(2);
  });

  it('429 every time is rate_limited', async () => {
    google.failNext('create', { status: 429 }, 5);
    const { error } = await failure(provider().generate(REQUEST, signal()));

    expect(error.kind).toBe('rate_limited');
    expect(error.beforeAnyEvent).toBe(true);
  });

  it('a 5xx is unavailable and never sent again: Google may have made it', async () => {
    google.failNext('create', { status: 503 });
    const { error } = await failure(provider().generate(REQUEST, signal()));

    expect(error.kind).toBe('unavailable');
    expect(error.beforeAnyEvent).toBe(false);
    expect(google.count('create')).toBe(1);
  });

  it('a connection lost after sending is never sent again', async () => {
    google.failNext('create', { reset: true });
    const { error } = await failure(provider().generate(REQUEST, signal()));

    expect(error.beforeAnyEvent).toBe(false);
    expect(google.count('create')).toBe(1);
    expect(google.operations.size).toBe(1);
  });
});

describe('GeminiProvider: polling through trouble', () => {
  it('a key revoked mid-job (403 on a poll) ends the job as auth at once, without more polls', async () => {
    google.failNext('poll', { status: 403, message: 'Permission denied.' }, 50);
    const { seen, error } = await failure(provider().generate(REQUEST, signal()));

    expect(seen.map((event) => event.type)).toEqual(['created']);
    expect(error.kind).toBe('auth');
    expect(error.beforeAnyEvent).toBe(false);
    expect(google.count('poll')).toBe(1);
  });

  it('a recorded id that is no operation name fails at once, with nothing sent', async () => {
    const { error } = await failure(provider().resume('../../files/other?x=1', signal()));

    expect(error.kind).toBe('rejected');
    expect(google.requests).toEqual([]);
  });

  it('an operation still running at the deadline is a timeout, and the create was sent once', async () => {
    google.reset({ processingMs: 60_000 });
    const made = new GeminiProvider(shapeOptions(googleProvider(), google.apiKey, { timeoutMs: 300 }));
    providers.push(made);
    const { seen, error } = await failure(made.generate(REQUEST, signal()));

    expect(error.kind).toBe('timeout');
    expect(error.beforeAnyEvent).toBe(false);
    expect(seen[0]?.type).toBe('created');
    expect(google.count('create')).toBe(1);
  });

  it('a poll answered 503 or cut off is tried again, and the video still arrives', async () => {
    google.failNext('poll', { status: 503, retryAfter: '0' });
    google.failNext('poll', { reset: true });
    const events = await collect(provider().generate(REQUEST, signal()));

    expect(succeeded(events).fileUrl).toBeDefined();
    expect(google.count('create')).toBe(1);
  });
});

async function waitFor(condition: () => boolean): Promise<boolean> {
  while (!condition()) await new Promise((resolve) => setImmediate(resolve));
  return true;
}
