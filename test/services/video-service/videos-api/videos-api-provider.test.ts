import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { translatorFor } from '../../../../src/services/i18n/translator.ts';
import { createLogger } from '../../../../src/services/logging/logger.ts';
import { ServiceCallError as VideosApiError } from '../../../../src/services/video-service/service-call-errors.ts';
import {
  type VideoEvent,
  type VideoRequest,
  VideoServiceError,
} from '../../../../src/services/video-service/video-provider.ts';
import { VIDEOS_API_SIZES } from '../../../../src/services/video-service/videos-api/videos-api-capabilities.ts';
import {
  VideosApiProvider,
  type VideosApiProviderOptions,
} from '../../../../src/services/video-service/videos-api/videos-api-provider.ts';
import { unusedPortUrl } from '../../../fakes/fake-video-service.ts';
import { type FakeVideosApi, startFakeVideosApi } from '../../../fakes/fake-videos-api.ts';
import { inEnglish } from '../../../harness/in-english.ts';
import { collect, createdId, shape, signal } from '../../../harness/provider-events.ts';

const QUEUED_MS = 60;
const PROCESSING_MS = 200;
const POLL_MS = 20;
const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489', 'hex');
const REQUEST: VideoRequest = { prompt: 'a cat chasing light', model: 'sora-2' };

let api: FakeVideosApi;
let images: ImageServer;
const providers: VideosApiProvider[] = [];

beforeAll(async () => {
  api = await startFakeVideosApi();
  images = await startImageServer();
});
afterAll(async () => {
  await api.close();
  await images.close();
});
beforeEach(() => {
  api.reset({ queuedMs: QUEUED_MS, processingMs: PROCESSING_MS });
  images.hits.length = 0;
});
afterEach(async () => {
  await Promise.all(providers.splice(0).map((made) => made.close()));
});

function provider(options: Partial<VideosApiProviderOptions> = {}): VideosApiProvider {
  const made = new VideosApiProvider({
    apiUrl: api.apiUrl,
    apiKey: api.apiKey,
    pollIntervalMs: POLL_MS,
    createRetryDelayMs: 10,
    allowPrivateUrls: true,
    ...options,
  });
  providers.push(made);
  return made;
}

/** The events before the throw, and what was thrown. */
async function outcome(events: AsyncIterable<VideoEvent>): Promise<{ seen: VideoEvent[]; error: unknown }> {
  const seen: VideoEvent[] = [];
  try {
    for await (const event of events) seen.push(event);
  } catch (error) {
    return { seen, error };
  }
  throw new Error(`expected a throw, got ${JSON.stringify(seen)}`);
}

async function serviceError(events: AsyncIterable<VideoEvent>): Promise<VideoServiceError> {
  const { error } = await outcome(events);
  expect(error).toBeInstanceOf(VideoServiceError);
  return error as VideoServiceError;
}

function last(events: VideoEvent[]): VideoEvent | undefined {
  return events.at(-1);
}

function percents(events: VideoEvent[]): number[] {
  return events.flatMap((event) =>
    event.type === 'progress' && event.percent !== undefined ? [event.percent] : [],
  );
}

/** Every text an error or an event could leak through. */
function allTextOf(events: VideoEvent[], error?: unknown): string {
  const texts = [JSON.stringify(events)];
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? `${error.cause.message} ${error.cause.stack}` : '';
    const userMessage = (error as Partial<VideoServiceError>).userMessage ?? '';
    texts.push(error.message, userMessage, error.stack ?? '', cause, JSON.stringify(error));
  }
  return texts.join('\n');
}

function capturingLogger(): {
  lines: Array<Record<string, unknown>>;
  logger: ReturnType<typeof createLogger>;
} {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger({ level: 'debug', write: (line) => lines.push(JSON.parse(line)) });
  return { lines, logger };
}

describe('capabilities', () => {
  it('offers 4, 8 and 12 s in 16:9 and 9:16, with percent progress, images and remix', () => {
    const expected = {
      durations: [4, 8, 12],
      aspectRatios: ['16:9', '9:16'],
      imageInput: true,
      progress: 'percent',
      remix: true,
    };
    expect(provider().capabilities('sora-2')).toEqual(expected);
    expect(provider().capabilities('sora-2-pro')).toEqual(expected);
    expect(provider().capabilities('kling-v2')).toEqual(expected);
    expect(VIDEOS_API_SIZES).toEqual({ '16:9': '1280x720', '9:16': '720x1280', '1:1': '1024x1024' });
  });
});

describe('generate', () => {
  it('yields created, queued, rising progress, then succeeded with the content URL', async () => {
    const made = provider();
    const events = await collect(made.generate(REQUEST, signal()));

    const id = createdId(events);
    expect(shape(events)).toEqual(['created', 'queued', 'progress', 'succeeded']);
    expect(events.filter((event) => event.type === 'queued')).toHaveLength(1);
    const rising = percents(events);
    expect(rising.length).toBeGreaterThan(1);
    expect(rising).toEqual([...new Set(rising)].sort((a, b) => a - b));
    expect(last(events)).toEqual({
      type: 'succeeded',
      urls: [],
      fileUrl: `${api.apiUrl}/videos/${id}/content`,
    });
    expect(api.count('create')).toBe(1);
    expect(api.requests.every((call) => call.authorized)).toBe(true);
  });

  it('yields created before it polls at all', async () => {
    const iterator = provider().generate(REQUEST, signal())[Symbol.asyncIterator]();
    const first = await iterator.next();

    expect(first.value).toEqual({ type: 'created', serviceJobId: api.creates[0]?.jobId });
    expect(api.count('poll')).toBe(0);
    await iterator.return?.();
  });

  it('gives the public link the job carries, never the /content URL', async () => {
    api.scriptNextJob({ publicLink: 'video_url' });
    const events = await collect(provider().generate(REQUEST, signal()));

    const id = createdId(events);
    expect(last(events)).toEqual({
      type: 'succeeded',
      urls: [`${api.origin}/public/${id}.mp4`],
      fileUrl: `${api.apiUrl}/videos/${id}/content`,
    });
  });

  it('uploads the image fetched from its URL as the multipart input_reference', async () => {
    const request = { ...REQUEST, imageUrl: `${images.origin}/attachments/1/2/cat.png?ex=abc&hm=def` };
    const events = await collect(provider().generate(request, signal()));

    expect(last(events)?.type).toBe('succeeded');
    expect(images.hits).toEqual(['/attachments/1/2/cat.png?ex=abc&hm=def']);
    const [create] = api.creates;
    expect(create?.encoding).toBe('multipart');
    expect(create?.fields).toMatchObject({ prompt: REQUEST.prompt, model: 'sora-2' });
    expect(create?.image).toEqual({ bytes: PNG, contentType: 'image/png', fileName: 'cat.png' });
  });

  it('uploads the bytes of a data: URL image', async () => {
    const imageUrl = `data:image/png;base64,${PNG.toString('base64')}`;
    await collect(provider().generate({ ...REQUEST, imageUrl }, signal()));

    expect(api.creates[0]?.image).toEqual({
      bytes: PNG,
      contentType: 'image/png',
      fileName: 'reference.png',
    });
  });

  it('passes the image URL on in url mode, without fetching it', async () => {
    const imageUrl = `${images.origin}/cat.png`;
    const events = await collect(
      provider({ imageInput: 'url' }).generate({ ...REQUEST, imageUrl }, signal()),
    );

    expect(last(events)?.type).toBe('succeeded');
    expect(images.hits).toEqual([]);
    expect(api.creates[0]).toMatchObject({ encoding: 'json', imageUrl });
    expect(api.creates[0]?.image).toBeUndefined();
  });

  it('sends a text-only create as JSON without any reference', async () => {
    await collect(provider().generate(REQUEST, signal()));

    expect(api.creates[0]?.encoding).toBe('json');
    expect(api.creates[0]?.fields).toEqual({ prompt: REQUEST.prompt, model: 'sora-2' });
  });

  it('refuses an image larger than the cap, before any create', async () => {
    const request = { ...REQUEST, imageUrl: `${images.origin}/big.png` };
    const error = await serviceError(provider({ maxImageBytes: 1024 }).generate(request, signal()));

    expect(error).toMatchObject({ kind: 'rejected', beforeAnyEvent: true });
    expect(error.userMessage).toMatch(/larger than/);
    expect(api.count('create')).toBe(0);
  });

  it('refuses a data: URL larger than the cap', async () => {
    const imageUrl = `data:image/png;base64,${Buffer.alloc(4096, 1).toString('base64')}`;
    const error = await serviceError(
      provider({ maxImageBytes: 1024 }).generate({ ...REQUEST, imageUrl }, signal()),
    );

    expect(error).toMatchObject({ kind: 'rejected', beforeAnyEvent: true });
    expect(api.count('create')).toBe(0);
  });

  it('does not fetch images from private addresses unless allowed', async () => {
    const request = { ...REQUEST, imageUrl: `${images.origin}/cat.png` };
    const error = await serviceError(provider({ allowPrivateUrls: false }).generate(request, signal()));

    expect(error).toMatchObject({ kind: 'rejected', beforeAnyEvent: true });
    expect(images.hits).toEqual([]);
    expect(api.count('create')).toBe(0);
  });

  it('says so when the image link is gone', async () => {
    const request = { ...REQUEST, imageUrl: `${images.origin}/gone.png` };
    const error = await serviceError(provider().generate(request, signal()));

    expect(error).toMatchObject({ kind: 'rejected', beforeAnyEvent: true });
    expect(error.userMessage).toMatch(/expired/);
    // The member reads it in their own language, not the English of the logs.
    expect(error.memberText && translatorFor('fr').text(error.memberText)).toMatch(/lien a peut-être expiré/);
    expect(api.count('create')).toBe(0);
  });

  it.each([
    [{ durationSeconds: 8, aspectRatio: '16:9' }, '8', '1280x720'],
    [{ durationSeconds: 4, aspectRatio: '9:16' }, '4', '720x1280'],
    [{ durationSeconds: 10, aspectRatio: '9:16' }, '8', '720x1280'],
    [{ durationSeconds: 15, aspectRatio: '16:9' }, '12', '1280x720'],
    [{ durationSeconds: 8, aspectRatio: '1:1' }, '8', '1024x1024'],
    [{ durationSeconds: 5 }, '4', undefined],
  ] as const)('sends %j as seconds %s and size %s', async (options, seconds, size) => {
    api.scriptNextJob({ queuedMs: 0, processingMs: 0 });
    await collect(provider().generate({ ...REQUEST, ...options }, signal()));

    expect(api.creates[0]?.fields.seconds).toBe(seconds);
    expect(api.creates[0]?.fields.size).toBe(size);
  });

  it("yields a failed job's own reason", async () => {
    api.scriptNextJob({
      outcome: { code: 'moderation_blocked', message: 'Your request was blocked by our moderation system.' },
    });
    const events = await collect(provider().generate(REQUEST, signal()));

    expect(last(events)).toEqual({
      type: 'failed',
      reason: 'Your request was blocked by our moderation system.',
    });
  });

  it.each([
    ['expired', /expired/],
    ['cancelled', /cancelled/],
  ])('yields a clear reason for a job that ends %s', async (endStatus, reason) => {
    api.scriptNextJob({ endStatus });
    const events = await collect(provider().generate(REQUEST, signal()));

    const end = last(events);
    expect(end?.type).toBe('failed');
    expect(end?.type === 'failed' && inEnglish(end.reason)).toMatch(reason);
  });

  it('reads a drifting relay: pending, processing, "NN%", ms timestamps, soraVideoUrl', async () => {
    api.scriptNextJob({ drift: true });
    const events = await collect(provider().generate(REQUEST, signal()));

    const id = createdId(events);
    expect(shape(events)).toEqual(['created', 'queued', 'progress', 'succeeded']);
    expect(percents(events).length).toBeGreaterThan(1);
    expect(last(events)).toEqual({
      type: 'succeeded',
      urls: [`${api.origin}/public/${id}.mp4`],
      fileUrl: `${api.apiUrl}/videos/${id}/content`,
    });
  });

  it('throws auth for a 401 at create, without the key the relay echoed', async () => {
    const wrongKey = 'sk-wrong-key-9876543210';
    const error = await serviceError(provider({ apiKey: wrongKey }).generate(REQUEST, signal()));

    expect(error).toMatchObject({ kind: 'auth', status: 401, beforeAnyEvent: true });
    expect(allTextOf([], error)).not.toContain(wrongKey);
    expect(api.count('create')).toBe(1);
  });

  it("throws a 400 at create with the service's message, never re-sent", async () => {
    api.failNext('create', { status: 400, message: 'Prompt violates our policy.' });
    const error = await serviceError(provider().generate(REQUEST, signal()));

    expect(error).toMatchObject({ kind: 'rejected', status: 400, beforeAnyEvent: true });
    expect(error.userMessage).toContain('Prompt violates our policy.');
    expect(api.count('create')).toBe(1);
  });

  it('re-sends a create refused with 429, then completes', async () => {
    api.failNext('create', { status: 429, retryAfter: '0' });
    const events = await collect(provider().generate(REQUEST, signal()));

    expect(last(events)?.type).toBe('succeeded');
    expect(api.count('create')).toBe(2);
    expect(api.jobs.size).toBe(1);
  });

  it('retries a create nobody receives a bounded number of times, then throws network', async () => {
    const { lines, logger } = capturingLogger();
    const made = provider({ apiUrl: await unusedPortUrl(), createRetries: 2, logger });
    const error = await serviceError(made.generate(REQUEST, signal()));

    expect(error).toBeInstanceOf(VideosApiError);
    expect(error).toMatchObject({ kind: 'network', beforeAnyEvent: true, createOutcome: 'not-sent' });
    expect(lines.filter((line) => line.event === 'videos_api_create_retry')).toHaveLength(2);
  });

  it('never re-sends a create whose outcome is unknown (reset after sending)', async () => {
    api.failNext('create', { reset: true });
    const error = await serviceError(provider().generate(REQUEST, signal()));

    expect(error).toMatchObject({ kind: 'network', beforeAnyEvent: false, createOutcome: 'unknown' });
    expect(api.count('create')).toBe(1);
    expect(api.jobs.size).toBe(1);
  });

  it('never re-sends a create answered with a 5xx', async () => {
    api.failNext('create', { status: 502 });
    const error = await serviceError(provider().generate(REQUEST, signal()));

    expect(error).toMatchObject({ kind: 'unavailable', beforeAnyEvent: false });
    expect(api.count('create')).toBe(1);
  });

  it('waits out a 429 on a poll as Retry-After says, and the job still completes', async () => {
    api.failNext('poll', { status: 429, retryAfter: '1' });
    const events = await collect(provider().generate(REQUEST, signal()));

    expect(last(events)?.type).toBe('succeeded');
    const polls = api.requests.filter((call) => call.call === 'poll');
    const refused = polls.findIndex((call) => call.status === 429);
    expect(refused).toBeGreaterThanOrEqual(0);
    const next = polls[refused + 1];
    // Retry-After: 1 asks for a second, fifty times the poll interval.
    expect((next?.at ?? 0) - (polls[refused]?.at ?? 0)).toBeGreaterThanOrEqual(950);
    expect(api.count('create')).toBe(1);
  });

  it('keeps polling through 503s and resets', async () => {
    api.failNext('poll', { status: 503 }, { times: 2 });
    api.failNext('poll', { reset: true }, { times: 2 });
    const events = await collect(provider().generate(REQUEST, signal()));

    expect(last(events)?.type).toBe('succeeded');
    expect(api.requests.filter((call) => call.call === 'poll' && call.status === 503)).toHaveLength(2);
  });

  it('throws auth when a poll is refused with 403, as after an event', async () => {
    api.failNext('poll', { status: 403 });
    const { seen, error } = await outcome(provider().generate(REQUEST, signal()));

    expect(seen.map((event) => event.type)).toEqual(['created', 'queued']);
    expect(error).toMatchObject({ kind: 'auth', status: 403, beforeAnyEvent: false });
  });

  it('gives up at the deadline with a timeout, after the job was created', async () => {
    api.scriptNextJob({ processingMs: 60_000 });
    const { seen, error } = await outcome(provider({ timeoutMs: 300 }).generate(REQUEST, signal()));

    expect(seen[0]?.type).toBe('created');
    expect(error).toBeInstanceOf(VideoServiceError);
    expect(error).toMatchObject({ kind: 'timeout', beforeAnyEvent: false });
  });
});

describe('cancel', () => {
  it('stops polling at once and throws the reason, deleting nothing', async () => {
    const controller = new AbortController();
    const reason = new Error('member cancelled');
    const events = provider().generate(REQUEST, controller.signal);
    let pollsAtAbort = -1;

    const ended = (async () => {
      for await (const event of events) {
        if (event.type === 'progress' && pollsAtAbort < 0) {
          pollsAtAbort = api.count('poll');
          controller.abort(reason);
        }
      }
    })();

    await expect(ended).rejects.toBe(reason);
    await sleep(POLL_MS * 5);
    expect(api.count('poll')).toBe(pollsAtAbort);
    expect(api.count('delete')).toBe(0);
  });

  it('stops while waiting between polls', async () => {
    const controller = new AbortController();
    const reason = new Error('member cancelled');
    const made = provider({ pollIntervalMs: 10_000 });
    const iterator = made.generate(REQUEST, controller.signal)[Symbol.asyncIterator]();
    expect((await iterator.next()).value?.type).toBe('created');
    expect((await iterator.next()).value?.type).toBe('queued');
    const next = iterator.next();
    await sleep(POLL_MS);
    controller.abort(reason);

    await expect(next).rejects.toBe(reason);
    expect(api.count('poll')).toBe(0);
  });

  it('throws at once when the signal is already aborted, sending nothing', async () => {
    const controller = new AbortController();
    const reason = new Error('gone');
    controller.abort(reason);
    const { error } = await outcome(provider().generate(REQUEST, controller.signal));

    expect(error).toBe(reason);
    expect(api.requests).toHaveLength(0);
  });
});

describe('resume', () => {
  it('carries on polling the recorded job after a restart: one create in all', async () => {
    const before: VideoEvent[] = [];
    for await (const event of provider().generate(REQUEST, signal())) {
      before.push(event);
      if (event.type === 'progress') break;
    }
    const id = createdId(before);

    const after = await collect(provider().resume(id, signal()));

    expect(after[0]?.type).not.toBe('created');
    expect(last(after)).toMatchObject({ type: 'succeeded', fileUrl: `${api.apiUrl}/videos/${id}/content` });
    expect(api.count('create')).toBe(1);
    expect(api.count('poll', id)).toBe(api.count('poll'));
    const resumedPercents = percents(after);
    expect(resumedPercents).toEqual([...resumedPercents].sort((a, b) => a - b));
  });

  it('yields the outcome at once for a job that finished while the bot was down', async () => {
    api.scriptNextJob({ queuedMs: 0, processingMs: 0 });
    const first = await collect(provider().generate(REQUEST, signal()));
    const id = createdId(first);

    const again = await collect(provider().resume(id, signal()));

    expect(again).toEqual([{ type: 'succeeded', urls: [], fileUrl: `${api.apiUrl}/videos/${id}/content` }]);
  });

  it('throws for a job the service no longer has', async () => {
    const error = await serviceError(provider().resume('video_unknown', signal()));

    expect(error).toMatchObject({ kind: 'rejected', status: 404, beforeAnyEvent: false });
    expect(api.count('create')).toBe(0);
  });
});

describe('remix', () => {
  it('yields created for the new job first, then follows it to completion', async () => {
    const made = provider();
    const source = createdId(await collect(made.generate(REQUEST, signal())));

    const events = await collect(made.remix(source, 'the same cat, at night', signal()));

    const remixId = createdId(events);
    expect(remixId).not.toBe(source);
    expect(api.jobs.get(remixId)).toMatchObject({ remixedFrom: source, prompt: 'the same cat, at night' });
    expect(shape(events)).toEqual(['created', 'queued', 'progress', 'succeeded']);
    expect(last(events)).toMatchObject({ fileUrl: `${api.apiUrl}/videos/${remixId}/content` });
    expect(api.count('remix', source)).toBe(1);
    expect(api.count('create')).toBe(1);
  });

  it('throws the refusal of a remix of an unfinished video', async () => {
    const made = provider();
    const events = made.generate(REQUEST, signal())[Symbol.asyncIterator]();
    const first = await events.next();
    await events.return?.();
    const source = first.value?.type === 'created' ? first.value.serviceJobId : '';

    const error = await serviceError(made.remix(source, 'again', signal()));

    expect(error).toMatchObject({ kind: 'rejected', status: 400, beforeAnyEvent: true });
    expect(api.count('remix')).toBe(1);
  });
});

describe('downloadFile', () => {
  async function finishedFileUrl(made: VideosApiProvider, contentBytes = 50_000): Promise<string> {
    api.scriptNextJob({ queuedMs: 0, processingMs: 0, contentBytes });
    const end = last(await collect(made.generate(REQUEST, signal())));
    if (end?.type !== 'succeeded' || !end.fileUrl) throw new Error('no fileUrl');
    return end.fileUrl;
  }

  it('fetches the bytes with the key', async () => {
    const made = provider();
    const fileUrl = await finishedFileUrl(made);
    const result = await made.downloadFile(fileUrl, 100_000, 'video.mp4', signal());

    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.video.fileName).toBe('video.mp4');
    expect(result.video.contentType).toBe('video/mp4');
    expect(result.video.bytes.length).toBe(50_000);
    expect(result.video.bytes.subarray(4, 8).toString('latin1')).toBe('ftyp');
    expect(api.requests.find((call) => call.call === 'content')?.authorized).toBe(true);
  });

  it('answers too-large over the cap', async () => {
    const made = provider();
    const fileUrl = await finishedFileUrl(made, 200_000);
    const result = await made.downloadFile(fileUrl, 100_000, 'video.mp4', signal());

    expect(result).toMatchObject({ ok: false, why: 'too-large' });
  });

  it('refuses any URL that is not a content URL of the configured service, sending no key', async () => {
    const made = provider();
    const fileUrl = await finishedFileUrl(made);
    const port = new URL(api.origin).port;
    const foreign = [
      fileUrl.replace('127.0.0.1', 'localhost'),
      `http://evil.example/v1/videos/video_fake0001/content`,
      `${api.origin}/public/video_fake0001.mp4`,
      `http://127.0.0.1:${port}/other/videos/video_fake0001/content`,
    ];

    for (const url of foreign) {
      expect(await made.downloadFile(url, 100_000, 'video.mp4', signal())).toMatchObject({
        ok: false,
        why: 'download-refused',
      });
    }
    expect(api.count('content')).toBe(0);
    expect(api.count('public')).toBe(0);
  });

  it('answers download-failed for a video the service does not have', async () => {
    const made = provider();
    const result = await made.downloadFile(
      `${api.apiUrl}/videos/video_nope/content`,
      100_000,
      'v.mp4',
      signal(),
    );

    expect(result).toMatchObject({ ok: false, why: 'download-failed' });
  });
});

describe('the key', () => {
  it('appears in no yielded text and no error, in any spelling the relay echoes', async () => {
    // Not `sk-` shaped, and changed by URL-encoding: only the masking of every spelling of the
    // exact key catches it.
    const key = 'live/key+base64=0123456789';
    const spellings = [key, encodeURIComponent(key)];
    const echo = `got ${spellings.join(' and ')} (Authorization: Bearer ${key})`;
    const keyed = await startFakeVideosApi({ apiKey: key, defaults: { queuedMs: 0, processingMs: 0 } });
    const made = () => provider({ apiUrl: keyed.apiUrl, apiKey: key, createRetries: 0 });
    const texts: string[] = [];
    try {
      keyed.scriptNextJob({ outcome: { code: 'x', message: `failed: ${echo}` } });
      const failed = await collect(made().generate(REQUEST, signal()));
      expect(last(failed)?.type).toBe('failed');
      texts.push(allTextOf(failed));

      for (const status of [400, 401, 429, 500]) {
        keyed.failNext('create', { status, message: echo });
        const { seen, error } = await outcome(made().generate(REQUEST, signal()));
        texts.push(allTextOf(seen, error));
      }

      keyed.scriptNextJob({ queuedMs: 10_000 });
      keyed.failNext('poll', { status: 403, message: echo });
      const { seen, error } = await outcome(made().generate(REQUEST, signal()));
      expect(seen[0]?.type).toBe('created');
      texts.push(allTextOf(seen, error));

      keyed.failNext('content', { status: 401, message: echo });
      const download = await made().downloadFile(`${keyed.apiUrl}/videos/v_x/content`, 10, 'v.mp4', signal());
      expect(download).toMatchObject({ ok: false, why: 'download-failed' });
      texts.push(JSON.stringify(download));
    } finally {
      await keyed.close();
    }

    for (const text of texts) {
      for (const spelling of spellings) expect(text).not.toContain(spelling);
      expect(text).toContain('[redacted]');
    }
  });
});

interface ImageServer {
  origin: string;
  hits: string[];
  close(): Promise<void>;
}

/** Stands in for Discord's CDN over loopback: `…/cat.png` is a PNG, `/big.png` 64 KiB, `/gone.png` 404. */
async function startImageServer(): Promise<ImageServer> {
  const hits: string[] = [];
  const server: Server = createServer((request, response) => {
    const url = request.url ?? '/';
    hits.push(url);
    const path = new URL(url, 'http://x').pathname;
    if (path.endsWith('/cat.png')) {
      response.writeHead(200, { 'content-type': 'image/png', 'content-length': PNG.length }).end(PNG);
    } else if (path === '/big.png') {
      const big = Buffer.concat([PNG, Buffer.alloc(64 * 1024)]);
      response.writeHead(200, { 'content-type': 'image/png' }).end(big);
    } else {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('This content is no longer available.');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    hits,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
