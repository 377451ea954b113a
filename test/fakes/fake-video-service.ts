import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { closeServer, listenOnLoopback, mp4Filler } from './fake-http-kit.ts';
import { splitSseFrames } from './fixtures.ts';

/**
 * A real HTTP server on 127.0.0.1 standing in for a video relay: it answers
 * `POST /v1/chat/completions` with scripted replies and serves finished videos under `/videos/`.
 *
 *   const service = await startFakeVideoService();
 *   const served = service.enqueue({ transcript: readStreamFixture('01-aiclound-zh-success.sse'), rewriteVideoUrls: true });
 *   // point SORA_API_URL at service.apiUrl, run the bot, then:
 *   const request = await served;
 *   expect(request.imageUrl).toMatch(/^data:image\/png/);
 *   expect(await request.ended).toBe('completed');
 */

export const VIDEO_URL_PLACEHOLDER = '{{VIDEO_URL}}';

/** A data payload (a string is sent as is, an object as JSON), a pause, or an SSE comment. */
export type StreamStep = string | object | { delayMs: number } | { comment: string };

export interface StreamShape {
  /** Pause before every frame after the first. */
  chunkDelayMs?: number;
  /** Send this many frames, then nothing more while keeping the connection open. */
  stallAfterFrames?: number;
  /** Send this many frames, then close the connection in the middle of the body. */
  cutAfterFrames?: number;
  /** Write `\r\n` line endings. */
  crlf?: boolean;
  /** Replaces `{{VIDEO_URL}}`; the service's `defaultVideoUrl` when unset. */
  videoUrl?: string;
}

/** A fixed reply: an HTTP error, or any body (`object` is sent as JSON). */
export interface ReplyScenario {
  status: number;
  body?: string | object;
  headers?: Record<string, string>;
}

/** Raw SSE text, e.g. a fixture file; frames are the parts between blank lines. */
export interface TranscriptScenario extends StreamShape {
  transcript: string;
  /** Points every `.mp4` URL and every `videos.example.com` URL at the served video. */
  rewriteVideoUrls?: boolean;
}

export interface EventsScenario extends StreamShape {
  events: StreamStep[];
}

export type FakeScenario = ReplyScenario | TranscriptScenario | EventsScenario;

/** The part of a chat completion request a test looks at. */
export interface ChatRequestBody {
  model?: string;
  stream?: boolean;
  messages?: Array<{
    role: string;
    content: string | Array<{ type: string; text?: string; image_url?: { url: string } }>;
  }>;
}

/** `completed`: the whole reply went out; `cut`: the scenario closed it; `client-disconnected`: the client left first. */
export type ResponseEnding = 'completed' | 'cut' | 'client-disconnected';

export interface RecordedRequest {
  headers: IncomingHttpHeaders;
  body: ChatRequestBody;
  /** The text part of the first message. */
  promptText: string | undefined;
  /** The image part of the first message, if any. */
  imageUrl: string | undefined;
  /** Settles when the reply to this request is over, saying how it ended. */
  ended: Promise<ResponseEnding>;
}

type Frame = string | { delayMs: number };

const SSE_HEADERS = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
};
const FIXTURE_VIDEO_URL = /https?:\/\/(?:videos\.example\.com\/[^\s"'<>)\\]+|[^\s"'<>)\\]+\.mp4)/g;
const DEFAULT_VIDEO_BYTES = 64 * 1024;

export class FakeVideoService {
  /** Base URL to give the bot as SORA_API_URL, e.g. `http://127.0.0.1:43210/v1`. */
  readonly apiUrl: string;
  readonly origin: string;
  /** Served for `{{VIDEO_URL}}` when a scenario names no video. */
  readonly defaultVideoUrl: string;
  /** Used when nothing is enqueued. */
  defaultScenario: FakeScenario = progressStream();
  readonly requests: RecordedRequest[] = [];
  /** Names of the videos fetched, in order. */
  readonly videoDownloads: string[] = [];
  /** Names asked for under `/videos/`, served or not (a 404 included), in order. */
  readonly videoRequests: string[] = [];
  private readonly scenarios: Array<{ scenario: FakeScenario; claim: (request: RecordedRequest) => void }> =
    [];
  private readonly videos = new Map<string, Buffer>();
  private readonly requestWaiters: Array<() => void> = [];
  private requestsHandedOut = 0;

  constructor(private readonly server: Server) {
    const { port } = server.address() as AddressInfo;
    this.origin = `http://127.0.0.1:${port}`;
    this.apiUrl = `${this.origin}/v1`;
    this.defaultVideoUrl = this.addVideo('default.mp4', DEFAULT_VIDEO_BYTES);
    server.on('request', (request: IncomingMessage, response: ServerResponse) => {
      this.route(request, response).catch((error: unknown) => response.destroy(error as Error));
    });
  }

  /**
   * The next chat completion request gets this scenario (queued ones go in order; when none is left,
   * `defaultScenario`). Resolves with that request once it has arrived.
   */
  enqueue(scenario: FakeScenario): Promise<RecordedRequest> {
    return new Promise((claim) => this.scenarios.push({ scenario, claim }));
  }

  /** Serves bytes (or that many bytes of mp4-looking filler) at `/videos/<name>`; returns the URL. */
  addVideo(name: string, bytesOrSize: Uint8Array | number): string {
    const bytes = typeof bytesOrSize === 'number' ? mp4Filler(bytesOrSize) : Buffer.from(bytesOrSize);
    this.videos.set(name, bytes);
    return `${this.origin}/videos/${encodeURIComponent(name)}`;
  }

  /**
   * Requests in arrival order, each handed out once: the oldest not yet returned by an earlier call
   * (since the start or the last `reset`), waiting for it if need be.
   */
  waitForRequest(): Promise<RecordedRequest> {
    const index = this.requestsHandedOut++;
    return new Promise((resolve) => {
      const check = () => {
        const recorded = this.requests[index];
        if (recorded) resolve(recorded);
        else this.requestWaiters.push(check);
      };
      check();
    });
  }

  /** Forgets queued scenarios and recorded requests, for a service shared between tests. */
  reset(): void {
    this.scenarios.length = 0;
    this.requests.length = 0;
    this.videoDownloads.length = 0;
    this.videoRequests.length = 0;
    this.requestWaiters.length = 0;
    this.requestsHandedOut = 0;
    this.defaultScenario = progressStream();
  }

  async close(): Promise<void> {
    await closeServer(this.server);
  }

  private async route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = new URL(request.url ?? '/', this.origin).pathname;
    if (path.startsWith('/videos/') && (request.method === 'GET' || request.method === 'HEAD')) {
      this.serveVideo(decodeURIComponent(path.slice('/videos/'.length)), request, response);
    } else if (request.method === 'POST' && path === '/v1/chat/completions') {
      await this.serveCompletion(request, response);
    } else {
      reply(response, {
        status: 404,
        body: { error: { message: `No route for ${request.method} ${path}` } },
      });
    }
  }

  private serveVideo(name: string, request: IncomingMessage, response: ServerResponse): void {
    this.videoRequests.push(name);
    const bytes = this.videos.get(name);
    if (!bytes) {
      reply(response, { status: 404, body: 'no such video' });
      return;
    }
    this.videoDownloads.push(name);
    response.writeHead(200, { 'content-type': 'video/mp4', 'content-length': bytes.length });
    response.end(request.method === 'HEAD' ? undefined : bytes);
  }

  private async serveCompletion(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = await readJson(request);
    let cut = false;
    const ended = new Promise<ResponseEnding>((resolve) => {
      response.once('close', () => {
        if (response.writableFinished) resolve('completed');
        else resolve(cut ? 'cut' : 'client-disconnected');
      });
    });
    const recorded: RecordedRequest = { headers: request.headers, body, ...firstMessageParts(body), ended };
    this.record(recorded);
    const queued = this.scenarios.shift();
    queued?.claim(recorded);
    const scenario = queued?.scenario ?? this.defaultScenario;
    if ('status' in scenario) {
      reply(response, scenario);
      return;
    }
    const outcome = await streamFrames(response, this.framesOf(scenario), scenario);
    if (outcome === 'cut') {
      cut = true;
      response.socket?.end();
    }
  }

  private framesOf(scenario: TranscriptScenario | EventsScenario): Frame[] {
    const videoUrl = scenario.videoUrl ?? this.defaultVideoUrl;
    const fill = (text: string) => text.replaceAll(VIDEO_URL_PLACEHOLDER, videoUrl);
    if ('events' in scenario) return scenario.events.map((step) => frameOf(step, fill));
    const transcript = scenario.rewriteVideoUrls
      ? scenario.transcript.replace(FIXTURE_VIDEO_URL, videoUrl)
      : scenario.transcript;
    return splitSseFrames(fill(transcript)).map((frame) => frame.replace(/\r\n/g, '\n'));
  }

  private record(recorded: RecordedRequest): void {
    this.requests.push(recorded);
    for (const waiter of this.requestWaiters.splice(0)) waiter();
  }
}

export async function startFakeVideoService(): Promise<FakeVideoService> {
  const server = await listenOnLoopback();
  return new FakeVideoService(server);
}

/** An API URL on a local port where nothing listens, for "connection refused". */
export async function unusedPortUrl(): Promise<string> {
  const server = await listenOnLoopback();
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}/v1`;
}

/** A chat completion chunk carrying `content`, shaped like the aiclound relays send it. */
export function contentChunk(content: string): object {
  return chunkWith({ content });
}

/** A chunk carrying `reasoning_content`, where sora2api and flow2api put their progress. */
export function reasoningChunk(reasoning: string): object {
  return chunkWith({ reasoning_content: reasoning });
}

export interface ProgressStreamOptions {
  /** Percentages to report, in order. */
  steps?: number[];
  /** The link in the success line; `{{VIDEO_URL}}` (the served default video) when unset. */
  videoUrl?: string;
  /** Chinese (`aiclound`) or English (`gptproto`) wording of the family A relays. */
  family?: 'aiclound' | 'gptproto';
  prompt?: string;
}

const FAMILY_A_WORDING = {
  aiclound: {
    queued: '> ⌛️ 任务正在队列中，请耐心等待...',
    progress: (percent: number) => `> 🏃 进度：${percent.toFixed(1)}%`,
    done: (url: string) => `> ✅ 视频生成成功，[点击这里](${url}) 查看视频~~~`,
  },
  gptproto: {
    queued: '> ⌛️ Task is in the queue, please wait patiently...',
    progress: (percent: number) => `> 🏃 Progress: ${percent.toFixed(1)}%`,
    done: (url: string) => `> ✅ Video generated successfully, [click here](${url}) to view video~~~`,
  },
};

/** A plausible family A stream: task echo, queue, the given progress steps, then the video link. */
export function progressStream(options: ProgressStreamOptions = {}): EventsScenario {
  const { steps = [12, 48, 86], videoUrl = VIDEO_URL_PLACEHOLDER, family = 'aiclound' } = options;
  const wording = FAMILY_A_WORDING[family];
  const echo = JSON.stringify({ prompt: options.prompt ?? 'a cat chasing light', mode: 'portrait' }, null, 4);
  return {
    events: [
      chunkWith({ role: 'assistant' }),
      contentChunk(`\`\`\`json\n${echo}\n\`\`\`\n\n`),
      contentChunk(`${wording.queued}\n\n`),
      ...steps.map((percent) => contentChunk(`${wording.progress(percent)}\n\n`)),
      contentChunk(`${wording.done(videoUrl)}\n\n`),
      chunkWith({}, 'stop'),
      '[DONE]',
    ],
  };
}

function chunkWith(delta: object, finishReason: string | null = null): object {
  return {
    id: 'chatcmpl-fake',
    object: 'chat.completion.chunk',
    created: 0,
    model: 'sora-2',
    choices: [{ index: 0, delta, finish_reason: finishReason }],
  };
}

function frameOf(step: StreamStep, fill: (text: string) => string): Frame {
  if (typeof step === 'string') return `data: ${fill(step)}`;
  if ('delayMs' in step && typeof step.delayMs === 'number') return { delayMs: step.delayMs };
  if ('comment' in step && typeof step.comment === 'string') return `: ${step.comment}`;
  return `data: ${fill(JSON.stringify(step))}`;
}

/** Writes the frames as the scenario shapes them; says whether the connection should now be cut. */
async function streamFrames(
  response: ServerResponse,
  frames: Frame[],
  shape: StreamShape,
): Promise<'cut' | 'open' | 'done'> {
  response.writeHead(200, SSE_HEADERS);
  response.flushHeaders();
  const newline = shape.crlf ? '\r\n' : '\n';
  let sent = 0;
  for (const frame of [...frames, undefined]) {
    if (response.destroyed) return 'done';
    if (sent === shape.cutAfterFrames) return 'cut';
    if (sent === shape.stallAfterFrames) return 'open';
    if (frame === undefined) break;
    if (typeof frame !== 'string') {
      await sleep(frame.delayMs);
      continue;
    }
    if (sent > 0 && shape.chunkDelayMs) await sleep(shape.chunkDelayMs);
    response.write(`${frame.replace(/\n/g, newline)}${newline}${newline}`);
    sent += 1;
  }
  response.end();
  return 'done';
}

function reply(response: ServerResponse, { status, body = '', headers = {} }: ReplyScenario): void {
  const isText = typeof body === 'string';
  const text = isText ? body : JSON.stringify(body);
  response.writeHead(status, {
    'content-type': isText ? 'text/plain; charset=utf-8' : 'application/json',
    ...headers,
  });
  response.end(text);
}

async function readJson(request: IncomingMessage): Promise<ChatRequestBody> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return JSON.parse(text) as ChatRequestBody;
  } catch {
    return {};
  }
}

function firstMessageParts(body: ChatRequestBody): Pick<RecordedRequest, 'promptText' | 'imageUrl'> {
  const content = body.messages?.[0]?.content;
  if (typeof content === 'string') return { promptText: content, imageUrl: undefined };
  return {
    promptText: content?.find((part) => part.type === 'text')?.text,
    imageUrl: content?.find((part) => part.type === 'image_url')?.image_url?.url,
  };
}
