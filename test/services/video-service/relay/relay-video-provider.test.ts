import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../../src/services/logging/logger.ts';
import { buildPromptText } from '../../../../src/services/video-service/relay/relay-request.ts';
import { RelayStreamInterpreter } from '../../../../src/services/video-service/relay/relay-stream-interpreter.ts';
import {
  RelayVideoProvider,
  type RelayVideoProviderOptions,
} from '../../../../src/services/video-service/relay/relay-video-provider.ts';
import {
  type VideoEvent,
  type VideoRequest,
  VideoServiceError,
} from '../../../../src/services/video-service/video-provider.ts';
import {
  contentChunk,
  type FakeScenario,
  type FakeVideoService,
  progressStream,
  startFakeVideoService,
  unusedPortUrl,
} from '../../../fakes/fake-video-service.ts';
import {
  errorFixtureNames,
  readStreamFixture,
  ssePayloads,
  streamFixtureNames,
} from '../../../fakes/fixtures.ts';
import { inEnglish } from '../../../harness/in-english.ts';

const API_KEY = 'sk-test-0123456789abcdef';
const REQUEST: VideoRequest = { prompt: 'a cat chasing light', model: 'sora-2' };

let service: FakeVideoService;
beforeAll(async () => {
  service = await startFakeVideoService();
});
afterAll(async () => {
  await service.close();
});

function provider(options: Partial<RelayVideoProviderOptions> = {}): RelayVideoProvider {
  return new RelayVideoProvider({
    apiUrl: service.apiUrl,
    apiKey: API_KEY,
    stallTimeoutMs: 5_000,
    timeoutMs: 20_000,
    ...options,
  });
}

async function collect(
  scenario: FakeScenario | undefined,
  options: Partial<RelayVideoProviderOptions> = {},
  request: VideoRequest = REQUEST,
  signal: AbortSignal = new AbortController().signal,
): Promise<VideoEvent[]> {
  if (scenario) service.enqueue(scenario);
  const events: VideoEvent[] = [];
  for await (const event of provider(options).generate(request, signal)) events.push(event);
  return events;
}

async function failure(
  scenario: FakeScenario | undefined,
  options: Partial<RelayVideoProviderOptions> = {},
): Promise<VideoServiceError> {
  const error = await collect(scenario, options).then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(VideoServiceError);
  return error as VideoServiceError;
}

/** What the interpreter alone makes of a transcript, as the provider should yield it. */
function expectedEvents(transcript: string): VideoEvent[] {
  const interpreter = new RelayStreamInterpreter();
  const events: VideoEvent[] = [];
  for (const payload of ssePayloads(transcript)) {
    events.push(...interpreter.push(payload));
    if (events.some((event) => event.type === 'succeeded' || event.type === 'failed')) return events;
  }
  return [...events, interpreter.finish()];
}

describe('RelayVideoProvider request', () => {
  it('posts a streaming chat completion with the key, the model and the image', async () => {
    await collect(
      progressStream(),
      {},
      {
        prompt: 'a fox in snow',
        model: 'sora-2-pro',
        imageUrl: 'https://img.example.com/fox.png',
        durationSeconds: 10,
        aspectRatio: '9:16',
      },
    );
    const recorded = service.requests.at(-1);
    expect(recorded?.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(recorded?.headers['content-type']).toBe('application/json');
    expect(recorded?.headers.accept).toBe('text/event-stream');
    expect(recorded?.body).toEqual({
      model: 'sora-2-pro',
      stream: true,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'a fox in snow\n\nduration: 10 seconds, portrait 9:16' },
            { type: 'image_url', image_url: { url: 'https://img.example.com/fox.png' } },
          ],
        },
      ],
    });
  });

  it('sends no image part for text-to-video', async () => {
    await collect(progressStream());
    expect(service.requests.at(-1)?.body.messages?.[0]?.content).toEqual([
      { type: 'text', text: 'a cat chasing light' },
    ]);
  });

  it('accepts an API URL with a trailing slash or the full endpoint', async () => {
    for (const apiUrl of [`${service.apiUrl}/`, `${service.apiUrl}/chat/completions`]) {
      const events = await collect(progressStream(), { apiUrl });
      expect(events.at(-1)?.type).toBe('succeeded');
    }
  });
});

describe('buildPromptText', () => {
  it('adds the duration and frame hints relays understand, square included', () => {
    expect(buildPromptText({ ...REQUEST, durationSeconds: 15 })).toBe(
      'a cat chasing light\n\nduration: 15 seconds',
    );
    expect(buildPromptText({ ...REQUEST, aspectRatio: '16:9' })).toBe(
      'a cat chasing light\n\nlandscape 16:9',
    );
    expect(buildPromptText({ ...REQUEST, aspectRatio: '9:16' })).toBe('a cat chasing light\n\nportrait 9:16');
    expect(buildPromptText({ ...REQUEST, aspectRatio: '1:1' })).toBe('a cat chasing light\n\nsquare 1:1');
    expect(buildPromptText(REQUEST)).toBe('a cat chasing light');
  });
});

describe('RelayVideoProvider streams', () => {
  for (const name of streamFixtureNames()) {
    it(`yields what the interpreter reads from ${name}`, async () => {
      const transcript = readStreamFixture(name);
      expect(await collect({ transcript })).toEqual(expectedEvents(transcript));
    });
  }

  it('reads CRLF framing like LF framing', async () => {
    const transcript = readStreamFixture('03-asyncdata-zh-tokenized-multilink.sse');
    expect(await collect({ transcript, crlf: true })).toEqual(expectedEvents(transcript));
  });

  it('points fixture video URLs at a served video when asked', async () => {
    const videoUrl = service.addVideo('fixture.mp4', 2048);
    const transcript = readStreamFixture('01-aiclound-zh-success.sse');
    const events = await collect({ transcript, rewriteVideoUrls: true, videoUrl });
    expect(events.at(-1)).toEqual({ type: 'succeeded', urls: [videoUrl] });
  });

  it('yields "no video" when the stream ends without a URL or [DONE]', async () => {
    const events = await collect({ events: [contentChunk('> 🏃 进度：30%\n')] });
    expect(inEnglish(events)).toEqual([
      { type: 'progress', percent: 30 },
      { type: 'failed', reason: 'The service returned no video.' },
    ]);
  });

  it('stops reading once the outcome is known, even if the service keeps the stream open', async () => {
    const events = await collect({ ...progressStream(), stallAfterFrames: 7 }, { stallTimeoutMs: 60_000 });
    expect(events.at(-1)?.type).toBe('succeeded');
    expect(await service.requests.at(-1)?.ended).toBe('client-disconnected');
  });

  it('reads a relay that answers one JSON document instead of a stream', async () => {
    const body = {
      object: 'chat.completion',
      choices: [{ message: { content: '✅ [click here](https://x.example/v.mp4)' } }],
    };
    expect(await collect({ status: 200, body })).toEqual([
      { type: 'succeeded', urls: ['https://x.example/v.mp4'] },
    ]);
  });

  it('skips a few undecodable frames', async () => {
    const events = await collect({ events: ['{"choices": [', 'not json', ...progressStream().events] });
    expect(events.at(-1)?.type).toBe('succeeded');
  });

  it('is not stalled by keep-alive comments between slow frames', async () => {
    const pings = Array.from({ length: 6 }, () => [{ delayMs: 150 }, { comment: 'PING' }]).flat();
    const events = await collect(
      { events: [contentChunk('> ⌛️ 任务正在队列中\n\n'), ...pings, ...progressStream().events] },
      { stallTimeoutMs: 600 },
    );
    expect(events.at(-1)?.type).toBe('succeeded');
  });

  it('does not count the time the caller spends on an event as a stall', async () => {
    service.enqueue({ ...progressStream({ steps: [10, 20] }), chunkDelayMs: 40 });
    const events: VideoEvent[] = [];
    const slowCaller = provider({ stallTimeoutMs: 150 });
    for await (const event of slowCaller.generate(REQUEST, new AbortController().signal)) {
      events.push(event);
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    expect(events.at(-1)?.type).toBe('succeeded');
  });
});

describe('RelayVideoProvider HTTP errors', () => {
  const expectedKinds: Record<number, VideoServiceError['kind']> = {
    400: 'rejected',
    401: 'auth',
    403: 'auth',
    429: 'rate_limited',
    500: 'unavailable',
  };

  for (const name of errorFixtureNames()) {
    it(`maps ${name}`, async () => {
      const status = Number(/errors\/(\d{3})/.exec(name)?.[1]);
      const error = await failure({ status, body: JSON.parse(readStreamFixture(name)) });
      expect(error.kind).toBe(expectedKinds[status]);
      expect(error.status).toBe(status);
      // A refusal made no video and may be sent again; a 5xx may come from a relay that billed it.
      expect(error.beforeAnyEvent).toBe(status < 500);
      expect(error.message).toContain(String(status));
      expect(`${error.userMessage} ${error.message}`).not.toContain(API_KEY);
    });
  }

  it("shows the service's own reason for a rejected request, without request ids", async () => {
    const body = JSON.parse(readStreamFixture('errors/400-openai-sentinel-block.json'));
    const error = await failure({ status: 400, body });
    expect(error.userMessage).toBe(
      "The video service refused this request: Hmmm something didn't look right with your request. Please try again later or visit https://help.openai.com if this issue persists.",
    );
  });

  it('tells the member to contact the owner on auth failures, and never repeats the key', async () => {
    const error = await failure({
      status: 403,
      body: { error: { message: `Insufficient balance for ${API_KEY}` } },
    });
    expect(error.kind).toBe('auth');
    expect(error.userMessage).toMatch(/credentials.*balance.*owner/);
    expect(error.message).not.toContain(API_KEY);
  });

  it('asks the member to wait a minute when rate limited', async () => {
    const body = JSON.parse(readStreamFixture('errors/429-new-api-rate-limit.json'));
    expect((await failure({ status: 429, body })).userMessage).toBe(
      'The video service is busy right now. Please try again in a minute.',
    );
  });

  it('reads FastAPI detail bodies and plain text bodies', async () => {
    const rejected = await failure({ status: 422, body: { detail: [{ msg: 'prompt too long' }] } });
    expect(rejected.userMessage).toBe('The video service refused this request: prompt too long');
    const plain = await failure({ status: 502, body: 'Bad gateway' });
    expect(plain.kind).toBe('unavailable');
    expect(plain.userMessage).toContain('Bad gateway');
  });

  it('takes a model the relay says it does not have as gone, so the job may fall back', async () => {
    const missing = await failure({
      status: 400,
      body: { error: { message: 'The model `sora-2` does not exist', code: 'model_not_found' } },
    });
    expect(missing).toMatchObject({ kind: 'model_unavailable', beforeAnyEvent: true });
    expect((await failure({ status: 404, body: 'Not Found' })).kind).toBe('model_unavailable');
  });

  it('does not show an html error page to the member', async () => {
    const error = await failure({
      status: 503,
      body: '<html><body><h1>503 Service Unavailable</h1></body></html>',
    });
    expect(error.kind).toBe('unavailable');
    expect(error.userMessage).toBe('The video service is having trouble right now. Please try again later.');
  });

  it('never logs the key', async () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'debug', write: (line) => lines.push(line) });
    await failure({ status: 401, body: { detail: `bad key ${API_KEY}` } }, { logger });
    expect(lines.join('\n')).not.toContain(API_KEY);
  });
});

describe('RelayVideoProvider transport faults', () => {
  it('reports a refused connection as a network error before any event', async () => {
    const error = await failure(undefined, { apiUrl: await unusedPortUrl() });
    expect(error.kind).toBe('network');
    expect(error.beforeAnyEvent).toBe(true);
  });

  it('reports a cut mid-stream as a lost connection after events', async () => {
    const error = await failure({ ...progressStream(), cutAfterFrames: 4 });
    expect(error.kind).toBe('network');
    expect(error.beforeAnyEvent).toBe(false);
    expect(error.userMessage).toBe(
      'The connection to the video service was lost while the video was being made.',
    );
  });

  it('reports a cut before any frame as not retryable: the relay had taken the request', async () => {
    const error = await failure({ ...progressStream(), cutAfterFrames: 0 });
    expect(error.kind).toBe('network');
    expect(error.beforeAnyEvent).toBe(false);
  });

  it('gives up on a stalled stream', async () => {
    const error = await failure({ ...progressStream(), stallAfterFrames: 3 }, { stallTimeoutMs: 300 });
    expect(error.kind).toBe('stalled');
    expect(error.beforeAnyEvent).toBe(false);
    expect(await service.requests.at(-1)?.ended).toBe('client-disconnected');
  });

  it('gives up on a service that accepts the request and sends nothing, without a retry', async () => {
    const error = await failure({ ...progressStream(), stallAfterFrames: 0 }, { stallTimeoutMs: 300 });
    expect(error.kind).toBe('stalled');
    expect(error.beforeAnyEvent).toBe(false);
  });

  it('gives up when the whole generation takes too long, pings or not', async () => {
    const pings = Array.from({ length: 50 }, () => [{ delayMs: 50 }, { comment: 'PING' }]).flat();
    const error = await failure({ events: [contentChunk('> 🏃 进度：5%\n'), ...pings] }, { timeoutMs: 400 });
    expect(error.kind).toBe('timeout');
    expect(error.beforeAnyEvent).toBe(false);
  });

  it('fails with a protocol error on a body that is not an event stream', async () => {
    const html = `<html>\n${'<p>maintenance</p>\n'.repeat(20)}</html>`;
    const error = await failure({
      status: 200,
      body: html,
      headers: { 'content-type': 'text/event-stream' },
    });
    expect(error.kind).toBe('protocol');
    expect(error.beforeAnyEvent).toBe(true);
  });

  it('fails with a protocol error on an empty reply', async () => {
    const error = await failure({ status: 200, body: '', headers: { 'content-type': 'text/event-stream' } });
    expect(error.kind).toBe('protocol');
  });

  it('fails with a protocol error when data frames keep failing to decode', async () => {
    const error = await failure({
      events: [contentChunk('> 🏃 进度：5%\n'), ...Array(12).fill('{"choices": [')],
    });
    expect(error.kind).toBe('protocol');
    expect(error.beforeAnyEvent).toBe(false);
  });
});

describe('RelayVideoProvider cancel', () => {
  it("throws the signal's reason and drops the connection", async () => {
    service.enqueue({ ...progressStream(), stallAfterFrames: 4 });
    const controller = new AbortController();
    const reason = new Error('cancelled by member');
    const generation = (async () => {
      for await (const event of provider().generate(REQUEST, controller.signal)) {
        if (event.type === 'progress') controller.abort(reason);
      }
    })();
    await expect(generation).rejects.toBe(reason);
    expect(await service.requests.at(-1)?.ended).toBe('client-disconnected');
  });

  it('aborts while waiting for the first byte', async () => {
    const served = service.enqueue({ ...progressStream(), stallAfterFrames: 0 });
    const controller = new AbortController();
    const generation = collect(undefined, {}, REQUEST, controller.signal);
    const recorded = await served;
    controller.abort();
    await expect(generation).rejects.toMatchObject({ name: 'AbortError' });
    expect(await recorded.ended).toBe('client-disconnected');
  });

  it('throws at once when the signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort(new Error('too late'));
    await expect(collect(undefined, {}, REQUEST, controller.signal)).rejects.toThrow('too late');
  });
});

describe('RelayVideoProvider with a relay that echoes the key', () => {
  const everything = (events: VideoEvent[]) => JSON.stringify(events);

  it('masks it in an error event, a status line and a video URL', async () => {
    const failed = await collect({
      events: [
        contentChunk('> 🏃 进度：5%\n'),
        { error: { message: `upstream rejected Bearer ${API_KEY}` } },
      ],
    });
    expect(failed.at(-1)).toEqual({ type: 'failed', reason: 'upstream rejected [redacted]' });
    const noted = await collect({
      events: [contentChunk(`> forwarding with authorization ${API_KEY}\n`), ...progressStream().events],
    });
    expect(everything(noted)).not.toContain(API_KEY);
    expect(noted).toContainEqual({ type: 'note', text: 'forwarding with authorization [redacted]' });
    const linked = await collect({
      events: [
        contentChunk(`> ✅ Video generated successfully: https://cdn.example.com/v.mp4?key=${API_KEY}\n`),
      ],
    });
    expect(linked.at(-1)).toEqual({
      type: 'succeeded',
      urls: ['https://cdn.example.com/v.mp4?key=[redacted'],
    });
  });

  it('masks it in a 200 JSON error document and in unreadable frames', async () => {
    const document = await collect({ status: 200, body: { error: { message: `invalid key: ${API_KEY}` } } });
    expect(document).toEqual([{ type: 'failed', reason: 'invalid key: [redacted]' }]);
    const error = await failure({
      events: [contentChunk('> 🏃 进度：5%\n'), ...Array(12).fill(`{"k": "${API_KEY}`)],
    });
    expect(`${error.userMessage} ${error.message}`).not.toContain(API_KEY);
    expect(error.message).toContain('[redacted]');
  });

  it('masks it in an HTTP error body however the service spells it', async () => {
    const encoded = await failure({
      status: 400,
      body: { error: { message: `bad ${encodeURIComponent(API_KEY)}` } },
    });
    expect(`${encoded.userMessage} ${encoded.message}`).not.toContain(API_KEY);
    const shaped = await failure({
      status: 400,
      body: { error: { message: 'header Authorization: Bearer other-token-123' } },
    });
    expect(shaped.userMessage).toBe(
      'The video service refused this request: header Authorization: [redacted]',
    );
  });
});

describe('RelayVideoProvider on hostile input', () => {
  it("never yields a link from the member's prompt", async () => {
    const request = { ...REQUEST, prompt: 'in the style of https://example.com/ref.mp4' };
    const events = await collect(
      {
        events: [
          contentChunk(
            '> ✅ [click here](https://example.com/ref.mp4) [download](https://cdn.example.com/real.mp4)\n',
          ),
        ],
      },
      {},
      request,
    );
    expect(events.at(-1)).toEqual({ type: 'succeeded', urls: ['https://cdn.example.com/real.mp4'] });
  });

  it('reads the reason of an 8 KB error body of whitespace and brackets', async () => {
    const message = `${' '.repeat(4000)}${'('.repeat(3000)} prompt too long (request id: ${' '.repeat(1000)}x1)`;
    const error = await failure({ status: 400, body: { error: { message } } });
    expect(error.kind).toBe('rejected');
    expect(error.userMessage).toMatch(/^The video service refused this request: \(+/);
    expect(error.userMessage.length).toBeLessThan(400);
  });

  it('reads the video after a 1 MB event of whitespace and brackets', async () => {
    const junk = contentChunk(`${' '.repeat(512 * 1024)}${'[('.repeat(256 * 1024)}\n`);
    const events = await collect({
      events: [contentChunk('> 🏃 进度：30%\n'), junk, ...progressStream().events],
    });
    expect(events.filter((event) => event.type === 'progress').length).toBeGreaterThan(0);
    expect(events.at(-1)).toEqual({ type: 'succeeded', urls: [service.defaultVideoUrl] });
  });
});
