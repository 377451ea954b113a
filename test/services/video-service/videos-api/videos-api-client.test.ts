import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ServiceCallError as VideosApiError } from '../../../../src/services/video-service/service-call-errors.ts';
import { VideoServiceError } from '../../../../src/services/video-service/video-provider.ts';
import {
  isTerminal,
  parseVideoJob,
  type VideoJob,
} from '../../../../src/services/video-service/videos-api/video-job.ts';
import {
  VideosApiClient,
  type VideosApiClientOptions,
} from '../../../../src/services/video-service/videos-api/videos-api-client.ts';
import { unusedPortUrl } from '../../../fakes/fake-video-service.ts';
import { type FakeVideosApi, manualClock, startFakeVideosApi } from '../../../fakes/fake-videos-api.ts';
import { inEnglish } from '../../../harness/in-english.ts';

const QUEUED_MS = 200;
const PROCESSING_MS = 400;
const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489', 'hex');

const clock = manualClock();
let api: FakeVideosApi;
const clients: VideosApiClient[] = [];

beforeAll(async () => {
  api = await startFakeVideosApi({ now: clock.now });
});
afterAll(async () => {
  await api.close();
});
beforeEach(() => {
  api.reset({ queuedMs: QUEUED_MS, processingMs: PROCESSING_MS });
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
});

function client(options: Partial<VideosApiClientOptions> = {}): VideosApiClient {
  const made = new VideosApiClient({ apiUrl: api.apiUrl, apiKey: api.apiKey, ...options });
  clients.push(made);
  return made;
}

function signal(): AbortSignal {
  return new AbortController().signal;
}

async function failure(work: Promise<unknown>): Promise<VideosApiError> {
  const error = await work.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(VideosApiError);
  expect(error).toBeInstanceOf(VideoServiceError);
  return error as VideosApiError;
}

/** Every text an error could leak through: messages, the cause, and its JSON form. */
function allTextOf(error: VideosApiError): string {
  const cause = error.cause instanceof Error ? `${error.cause.message} ${error.cause.stack}` : '';
  return [error.message, error.userMessage, error.stack, cause, JSON.stringify(error)].join('\n');
}

function expectNoKey(error: VideosApiError, key = api.apiKey): void {
  expect(allTextOf(error)).not.toContain(key);
}

describe('create', () => {
  it('uploads the image as a multipart file part with seconds and size as strings', async () => {
    const job = await client().create(
      {
        prompt: 'a cat chasing light',
        model: 'sora-2',
        seconds: 8,
        size: '1280x720',
        image: { bytes: PNG, contentType: 'image/png', fileName: 'cat.png' },
      },
      signal(),
    );

    const [create] = api.creates;
    expect(create?.encoding).toBe('multipart');
    expect(create?.fields).toEqual({
      prompt: 'a cat chasing light',
      model: 'sora-2',
      seconds: '8',
      size: '1280x720',
    });
    expect(create?.image).toEqual({ bytes: PNG, contentType: 'image/png', fileName: 'cat.png' });
    expect(job).toMatchObject({ id: create?.jobId, status: 'queued', seconds: '8', size: '1280x720' });
    expect(job.createdAtMs).toBe(Math.floor(clock.now() / 1000) * 1000);
  });

  it('names an image URL in a JSON body', async () => {
    await client().create(
      { prompt: 'a fox', model: 'sora-2', seconds: '4', image: { url: 'https://images.example/fox.png' } },
      signal(),
    );

    const [create] = api.creates;
    expect(create?.encoding).toBe('json');
    expect(create?.imageUrl).toBe('https://images.example/fox.png');
    expect(create?.fields.seconds).toBe('4');
    expect(create?.image).toBeUndefined();
  });

  it('sends a text-only create without any reference', async () => {
    const job = await client().create({ prompt: 'waves at dusk', model: 'sora-2-pro' }, signal());

    const [create] = api.creates;
    expect(create?.encoding).toBe('json');
    expect(create?.fields).toEqual({ prompt: 'waves at dusk', model: 'sora-2-pro' });
    expect(job.model).toBe('sora-2-pro');
  });

  it('reports a 401 as auth, refused, without the key the relay echoed', async () => {
    const wrongKey = 'sk-wrong-key-9876543210';
    const error = await failure(
      client({ apiKey: wrongKey }).create({ prompt: 'p', model: 'sora-2' }, signal()),
    );

    expect(error).toMatchObject({ kind: 'auth', status: 401, call: 'create', createOutcome: 'refused' });
    expect(error.beforeAnyEvent).toBe(true);
    expect(error.message).toContain('Incorrect API key provided');
    expectNoKey(error, wrongKey);
    expect(api.jobs.size).toBe(0);
  });

  it('reports a scripted 401 at create as auth, refused', async () => {
    api.failNext('create', { status: 401 });
    const error = await failure(client().create({ prompt: 'p', model: 'sora-2' }, signal()));

    expect(error).toMatchObject({ kind: 'auth', createOutcome: 'refused' });
    expect(error.message).toContain('Bearer [redacted]');
    expectNoKey(error);
  });

  it("shows a 400's message collapsed and bounded, refused", async () => {
    const message = `Your   request was\n\n rejected by the safety system. ${'padding '.repeat(100)}`;
    api.failNext('create', { status: 400, message, code: 'moderation_blocked' });
    const error = await failure(client().create({ prompt: 'p', model: 'sora-2' }, signal()));

    expect(error).toMatchObject({ kind: 'rejected', status: 400, createOutcome: 'refused' });
    expect(error.userMessage).toContain('Your request was rejected by the safety system.');
    expect(error.userMessage.length).toBeLessThan(400);
  });

  it('reports a 429 at create as rate limited, refused, with the wait', async () => {
    api.failNext('create', { status: 429, retryAfter: '7' });
    const error = await failure(client().create({ prompt: 'p', model: 'sora-2' }, signal()));

    expect(error).toMatchObject({ kind: 'rate_limited', createOutcome: 'refused', retryAfterMs: 7000 });
  });

  it('reports a 5xx at create as unavailable with an unknown outcome', async () => {
    api.failNext('create', { status: 502, message: 'upstream exploded' });
    const error = await failure(client().create({ prompt: 'p', model: 'sora-2' }, signal()));

    expect(error).toMatchObject({ kind: 'unavailable', status: 502, createOutcome: 'unknown' });
    expect(error.beforeAnyEvent).toBe(false);
    expect(error.userMessage).toContain('upstream exploded');
  });

  it('says not-sent when nobody listens on the port', async () => {
    const error = await failure(
      client({ apiUrl: await unusedPortUrl() }).create({ prompt: 'p', model: 'sora-2' }, signal()),
    );

    expect(error).toMatchObject({ kind: 'network', call: 'create', createOutcome: 'not-sent' });
    expect(error.message).toContain('ECONNREFUSED');
  });

  it('says unknown when the connection is reset after the request was sent', async () => {
    api.failNext('create', { reset: true });
    const error = await failure(client().create({ prompt: 'p', model: 'sora-2' }, signal()));

    expect(error).toMatchObject({ kind: 'network', createOutcome: 'unknown' });
    expect(api.jobs.size).toBe(1);
  });

  it('says unknown when the relay does not answer in time', async () => {
    api.failNext('create', { hang: true });
    const error = await failure(
      client({ requestTimeoutMs: 200 }).create({ prompt: 'p', model: 'sora-2' }, signal()),
    );

    expect(error).toMatchObject({ kind: 'timeout', createOutcome: 'unknown' });
  });

  it("throws the caller's abort reason, not a service error, on cancel", async () => {
    api.failNext('create', { hang: true });
    const controller = new AbortController();
    const pending = client().create({ prompt: 'p', model: 'sora-2' }, controller.signal);
    await api.waitForCall((call) => call.call === 'create');
    const reason = new Error('member cancelled');
    controller.abort(reason);

    await expect(pending).rejects.toBe(reason);
  });
});

describe('get', () => {
  it('follows a job through queued, in progress and completed', async () => {
    const videos = client();
    const { id } = await videos.create({ prompt: 'p', model: 'sora-2' }, signal());

    expect(await videos.get(id, signal())).toMatchObject({ status: 'queued', progress: 0 });
    clock.advance(QUEUED_MS + PROCESSING_MS / 2);
    expect(await videos.get(id, signal())).toMatchObject({ status: 'in_progress', progress: 50 });
    clock.advance(PROCESSING_MS);
    const done = await videos.get(id, signal());

    expect(done).toMatchObject({
      status: 'completed',
      rawStatus: 'completed',
      progress: 100,
      publicUrls: [],
    });
    expect(done.completedAtMs).toBeGreaterThan(0);
    expect(done.expiresAtMs).toBeGreaterThan(done.completedAtMs ?? 0);
    expect(done.failure).toBeUndefined();
    expect(api.count('poll', id)).toBe(3);
  });

  it('reads the public link a relay adds, never the /content URL', async () => {
    api.scriptNextJob({ publicLink: 'video_url', queuedMs: 0, processingMs: 0 });
    const videos = client();
    const { id } = await videos.create({ prompt: 'p', model: 'sora-2' }, signal());
    const done = await videos.get(id, signal());

    expect(done.publicUrls).toEqual([`${api.origin}/public/${id}.mp4`]);
    expect(done.publicUrls).not.toContain(videos.contentUrl(id));
  });

  it('normalises a drifting relay: pending/processing/succeeded, ms timestamps, "NN%", soraVideoUrl', async () => {
    api.scriptNextJob({ drift: true });
    const videos = client();
    const created = await videos.create({ prompt: 'p', model: 'sora-2' }, signal());
    const { id } = created;

    expect(created).toMatchObject({ status: 'queued', rawStatus: 'pending', createdAtMs: clock.now() });
    clock.advance(QUEUED_MS + PROCESSING_MS / 4);
    expect(await videos.get(id, signal())).toMatchObject({
      status: 'in_progress',
      rawStatus: 'processing',
      progress: 25,
    });
    clock.advance(PROCESSING_MS);
    expect(await videos.get(id, signal())).toMatchObject({
      status: 'completed',
      rawStatus: 'succeeded',
      publicUrls: [`${api.origin}/public/${id}.mp4`],
    });
  });

  it('gives a failed job a member-safe reason', async () => {
    api.scriptNextJob({
      outcome: {
        code: 'moderation_blocked',
        message: '  Your request was\n blocked by our   moderation system. ',
      },
    });
    const videos = client();
    const { id } = await videos.create({ prompt: 'p', model: 'sora-2' }, signal());
    clock.advance(QUEUED_MS + PROCESSING_MS);

    expect(await videos.get(id, signal())).toMatchObject({
      status: 'failed',
      failure: { code: 'moderation_blocked', reason: 'Your request was blocked by our moderation system.' },
    });
  });

  it('reports a 429 on poll as rate limited with retryAfterMs, then answers again', async () => {
    const videos = client();
    const { id } = await videos.create({ prompt: 'p', model: 'sora-2' }, signal());
    api.failNext('poll', { status: 429, retryAfter: '3' }, { times: 2, jobId: id });

    for (let attempt = 0; attempt < 2; attempt++) {
      const error = await failure(videos.get(id, signal()));
      expect(error).toMatchObject({ kind: 'rate_limited', status: 429, call: 'get', retryAfterMs: 3000 });
      expect(error.createOutcome).toBeUndefined();
    }
    expect((await videos.get(id, signal())).status).toBe('queued');
    expect(api.count('poll', id)).toBe(3);
  });

  it('reads Retry-After on a 503 too', async () => {
    api.failNext('poll', { status: 503, retryAfter: '1' });
    const error = await failure(client().get('video_any', signal()));

    expect(error).toMatchObject({ kind: 'unavailable', retryAfterMs: 1000 });
  });

  it('reports a job the relay no longer has', async () => {
    const videos = client();
    const { id } = await videos.create({ prompt: 'p', model: 'sora-2' }, signal());
    await videos.delete(id, signal());
    const error = await failure(videos.get(id, signal()));

    expect(error).toMatchObject({ kind: 'rejected', status: 404, call: 'get' });
    expect(api.count('delete', id)).toBe(1);
  });

  it('lets a restarted bot carry on polling a job by its id (wall clock)', async () => {
    const live = await startFakeVideosApi({ defaults: { queuedMs: 200, processingMs: 300 } });
    try {
      const first = new VideosApiClient({ apiUrl: live.apiUrl, apiKey: live.apiKey });
      const { id } = await first.create({ prompt: 'p', model: 'sora-2' }, signal());
      await first.close();

      const second = client({ apiUrl: live.apiUrl, apiKey: live.apiKey });
      const seen: VideoJob[] = [];
      for (let job = await second.get(id, signal()); ; job = await second.get(id, signal())) {
        seen.push(job);
        if (isTerminal(job.status)) break;
        await sleep(25);
      }

      const order = ['queued', 'in_progress', 'completed'];
      const ranks = seen.map((job) => order.indexOf(job.status));
      expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
      expect(seen.at(-1)?.status).toBe('completed');
      const progress = seen.map((job) => job.progress ?? 0);
      expect(progress).toEqual([...progress].sort((a, b) => a - b));
    } finally {
      await live.close();
    }
  });
});

describe('remix', () => {
  it('makes a new job from a finished one', async () => {
    const videos = client();
    const source = await videos.create({ prompt: 'a cat', model: 'sora-2', seconds: '8' }, signal());
    clock.advance(QUEUED_MS + PROCESSING_MS);
    const remix = await videos.remix(source.id, 'the same cat, at night', signal());

    expect(remix).toMatchObject({ status: 'queued', remixedFromVideoId: source.id, seconds: '8' });
    expect(remix.id).not.toBe(source.id);
    expect(api.count('remix', source.id)).toBe(1);
  });

  it('carries a create outcome on its errors', async () => {
    const error = await failure(client().remix('video_nope', 'again', signal()));

    expect(error).toMatchObject({ kind: 'rejected', status: 404, call: 'remix', createOutcome: 'refused' });
  });
});

describe('downloadContent', () => {
  async function finishedJob(
    script: Parameters<FakeVideosApi['scriptNextJob']>[0] = {},
    options: Partial<VideosApiClientOptions> = {},
  ) {
    api.scriptNextJob({ queuedMs: 0, processingMs: 0, ...script });
    const videos = client(options);
    const { id } = await videos.create({ prompt: 'p', model: 'sora-2' }, signal());
    return { videos, id };
  }

  it('fetches the mp4 with the key when it fits', async () => {
    const { videos, id } = await finishedJob({ contentBytes: 50_000 });
    const download = await videos.downloadContent(id, { maxBytes: 100_000, signal: signal() });

    expect(download.ok).toBe(true);
    if (!download.ok) return;
    expect(download.bytes.length).toBe(50_000);
    expect(download.bytes.subarray(4, 8).toString('latin1')).toBe('ftyp');
    expect(download.contentType).toBe('video/mp4');
    expect(api.requests.find((call) => call.call === 'content')?.authorized).toBe(true);
    expect(videos.contentUrl(id)).toBe(`${api.apiUrl}/videos/${id}/content`);
  });

  it('answers too-large when the declared length is over the cap', async () => {
    const { videos, id } = await finishedJob({ contentBytes: 200_000 });
    const download = await videos.downloadContent(id, { maxBytes: 100_000, signal: signal() });

    expect(download).toMatchObject({ ok: false, why: 'too-large', maxBytes: 100_000 });
  });

  it('answers too-large when an undeclared body runs over the cap', async () => {
    const { videos, id } = await finishedJob({ contentBytes: 200_000, chunkedContent: true });
    const download = await videos.downloadContent(id, { maxBytes: 100_000, signal: signal() });

    expect(download).toMatchObject({ ok: false, why: 'too-large', detail: 'more than 100000 bytes' });
  });

  it('follows a redirect to storage elsewhere without taking the key along', async () => {
    const port = new URL(api.origin).port;
    const { videos, id } = await finishedJob(
      { contentRedirectOrigin: `http://localhost:${port}` },
      // The storage stand-in is on loopback too, as ALLOW_PRIVATE_VIDEO_URLS allows.
      { allowPrivateRedirects: true },
    );
    const download = await videos.downloadContent(id, { maxBytes: 100_000, signal: signal() });

    expect(download.ok).toBe(true);
    const fetched = api.requests.find((call) => call.call === 'public');
    expect(fetched?.sentAuthorization).toBe(false);
  });

  it('refuses a redirect from the relay to a loopback or plain-http address, and never fetches it', async () => {
    const port = new URL(api.origin).port;
    // The relay itself is trusted on loopback (it is the configured base URL); where it sends the
    // bot next is not: a relay must not be able to point the bot at the machine's own services.
    const { videos, id } = await finishedJob({ contentRedirectOrigin: `http://localhost:${port}` });
    const download = await videos.downloadContent(id, { maxBytes: 100_000, signal: signal() });

    expect(download).toMatchObject({ ok: false, why: 'refused' });
    expect(api.requests.filter((call) => call.call === 'public')).toEqual([]);
  });

  it('throws for a video that is not ready', async () => {
    const videos = client();
    const { id } = await videos.create({ prompt: 'p', model: 'sora-2' }, signal());
    const error = await failure(videos.downloadContent(id, { maxBytes: 100_000, signal: signal() }));

    expect(error).toMatchObject({ call: 'content', status: 404 });
  });

  it('needs the key', async () => {
    const { id } = await finishedJob();
    const stranger = client({ apiKey: 'sk-someone-else-000000' });
    const error = await failure(stranger.downloadContent(id, { maxBytes: 100_000, signal: signal() }));

    expect(error).toMatchObject({ kind: 'auth', call: 'content' });
    expectNoKey(error, 'sk-someone-else-000000');
  });
});

describe('the key', () => {
  it('appears in no error text, even when the relay echoes it back', async () => {
    const echoes = [`key ${api.apiKey} rejected`, `Authorization: Bearer ${api.apiKey}`];
    const errors: VideosApiError[] = [];
    for (const status of [400, 422, 403, 429, 500, 503]) {
      for (const message of echoes) {
        api.failNext('create', { status, message });
        errors.push(await failure(client().create({ prompt: 'p', model: 'sora-2' }, signal())));
        api.failNext('poll', { status, message });
        errors.push(await failure(client().get('video_any', signal())));
      }
    }
    api.failNext('create', { reset: true });
    errors.push(await failure(client().create({ prompt: 'p', model: 'sora-2' }, signal())));

    for (const error of errors) expectNoKey(error);
    expect(errors.filter((error) => error.message.includes('[redacted]'))).toHaveLength(24);
  });
});

describe('parseVideoJob', () => {
  const base = { id: 'video_1', status: 'in_progress' };

  it.each([
    [{ created_at: 1764347090 }, 1764347090000],
    [{ created_at: 1764347090123 }, 1764347090123],
    [{ created_at: '1764347090' }, 1764347090000],
    [{ created_at: '2025-11-28T16:24:50Z' }, Date.parse('2025-11-28T16:24:50Z')],
    [{ created_at: 'not a date' }, undefined],
  ])('reads created_at %j', (fields, expected) => {
    const parsed = parseVideoJob({ ...base, ...fields });
    expect(parsed.ok && parsed.job.createdAtMs).toBe(expected);
  });

  it.each([
    [33, 33],
    ['45%', 45],
    ['12.5', 12.5],
    [150, 100],
    ['-5%', 0],
    ['soon', undefined],
  ])('reads progress %j', (progress, expected) => {
    const parsed = parseVideoJob({ ...base, progress });
    expect(parsed.ok && parsed.job.progress).toBe(expected);
  });

  it.each([
    ['pending', 'queued'],
    ['processing', 'in_progress'],
    ['succeeded', 'completed'],
    ['SUCCESS', 'completed'],
    ['cancelled', 'cancelled'],
    ['canceled', 'cancelled'],
    ['expired', 'expired'],
    ['warming-up', 'in_progress'],
  ])('maps status %s to %s', (status, expected) => {
    const parsed = parseVideoJob({ ...base, status });
    expect(parsed.ok && parsed.job.status).toBe(expected);
  });

  it('finds links in every field relays use, best first, never /content', () => {
    const parsed = parseVideoJob({
      ...base,
      status: 'completed',
      url: 'https://relay.example/v1/videos/video_1/content',
      output_url: 'https://cdn.example/out.mp4',
      metadata: { url: 'https://cdn.example/meta.mp4' },
      urls: ['https://cdn.example/a.mp4', 'ftp://cdn.example/b.mp4', 'https://cdn.example/out.mp4'],
    });

    expect(parsed.ok && parsed.job.publicUrls).toEqual([
      'https://cdn.example/out.mp4',
      'https://cdn.example/meta.mp4',
      'https://cdn.example/a.mp4',
    ]);
  });

  it('gives cancelled and expired jobs a reason, and failed jobs without a message a generic one', () => {
    const expired = parseVideoJob({ ...base, status: 'expired' });
    const failed = parseVideoJob({ ...base, status: 'failed', error: { code: 'content_policy_violation' } });

    expect(inEnglish(expired.ok && expired.job.failure?.reason)).toMatch(/expired/);
    expect(inEnglish(failed.ok && failed.job.failure)).toEqual({
      code: 'content_policy_violation',
      reason: "The video service's content rules blocked this video.",
    });
  });

  it('rejects objects without an id or a status', () => {
    expect(parseVideoJob({ status: 'queued' })).toEqual({ ok: false, problem: 'the job object has no id' });
    expect(parseVideoJob({ id: 'video_1' }).ok).toBe(false);
    expect(parseVideoJob([]).ok).toBe(false);
  });
});
