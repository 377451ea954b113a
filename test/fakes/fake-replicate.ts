import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import {
  answerFault,
  FakeJobService,
  listenOnLoopback,
  readBody,
  readJsonObject,
  recordEveryRequest,
  type SeenRequest,
  sendJson,
  sendVideo,
} from './fake-http-kit.ts';

/**
 * A real HTTP server on 127.0.0.1 standing in for Replicate's API under `/v1`:
 * `POST /v1/models/{owner}/{name}/predictions` (and `POST /v1/predictions` with a `version`),
 * `GET /v1/predictions/{id}`, `POST /v1/predictions/{id}/cancel`. Every call needs
 * `Authorization: Bearer <apiKey>` (401 otherwise); errors are Replicate's problem bodies
 * `{title, detail, status}`. A finished video is served without the key at `/files/{id}.mp4`.
 *
 * A prediction's state follows the clock since its creation: `starting` for `startingMs`,
 * `processing` for `processingMs`, then `succeeded` (output: the video's URL, or a list) or
 * `failed` with the scripted `error`. So a bot restarted mid-job that polls the same id sees it
 * carry on.
 *
 *   const replicate = await startFakeReplicate();
 *   replicate.scriptNextPrediction({ outcome: { error: 'NSFW content detected.' } });
 *   replicate.removeModel('kwaivgi/kling-v1');
 *   // a catalogue provider `{ shape: replicate, base_url: replicate.baseUrl }` with replicate.apiKey
 *   expect(replicate.creates[0]?.body.input).toMatchObject({ start_image: imageUrl, duration: 5 });
 */

export type FakeReplicateCall = 'create' | 'poll' | 'cancel' | 'file' | 'other';

export interface FakeReplicateScript {
  /** Default 200. */
  startingMs: number;
  /** Default 300. */
  processingMs: number;
  /** Default `succeeded`. */
  outcome: 'succeeded' | { error: string };
  /** `url`: output is the video's URL (default); `list`: a list holding it. */
  output: 'url' | 'list';
  /** Size of the mp4 served. Default 64 KiB. */
  contentBytes: number;
}

export interface RecordedReplicateCreate {
  /** `owner/name`, or the `version` sent to `/predictions`. */
  model: string;
  body: Record<string, unknown>;
  headers: IncomingHttpHeaders;
  predictionId?: string;
}

export interface FakePrediction {
  id: string;
  model: string;
  createdAt: number;
  input: Record<string, unknown>;
  script: FakeReplicateScript;
  cancelledAt?: number;
}

export type FakePredictionStatus = 'starting' | 'processing' | 'succeeded' | 'failed' | 'canceled';

export interface FakeReplicateOptions {
  apiKey?: string;
  defaults?: Partial<FakeReplicateScript>;
  /** The clock states follow; `Date.now` by default. */
  now?: () => number;
  /** When given, only these `owner/name` models exist; every other one answers 404. */
  models?: readonly string[];
}

const BASE_DEFAULTS: FakeReplicateScript = {
  startingMs: 200,
  processingMs: 300,
  outcome: 'succeeded',
  output: 'url',
  contentBytes: 64 * 1024,
};
const MODEL_CREATE = /^\/v1\/models\/([^/]+)\/([^/]+)\/predictions$/;
const PREDICTION_PATH = /^\/v1\/predictions\/([^/]+)(\/cancel)?$/;
const FILE_PATH = /^\/files\/([^/]+)\.mp4$/;

export class FakeReplicate extends FakeJobService<FakeReplicateCall> {
  /** The base URL to put in the catalogue, e.g. `http://127.0.0.1:43210/v1`. */
  readonly baseUrl: string;
  readonly apiKey: string;
  defaults: FakeReplicateScript;
  readonly creates: RecordedReplicateCreate[] = [];
  /** Every request's address and headers, as they came (see `recordEveryRequest`). */
  readonly seen: SeenRequest[] = [];
  readonly predictions = new Map<string, FakePrediction>();
  /** `owner/name` models that answer 404, as a retired one does. */
  readonly removedModels = new Set<string>();
  private readonly models?: ReadonlySet<string>;
  private readonly nextScripts: Array<Partial<FakeReplicateScript>> = [];
  private sequence = 0;

  constructor(server: Server, options: FakeReplicateOptions) {
    super(server, options.now);
    recordEveryRequest(server, this.seen);
    this.baseUrl = `${this.origin}/v1`;
    this.apiKey = options.apiKey ?? 'r8_fake0123456789abcdef';
    this.defaults = { ...BASE_DEFAULTS, ...options.defaults };
    this.models = options.models && new Set(options.models);
  }

  scriptNextPrediction(patch: Partial<FakeReplicateScript>): void {
    this.nextScripts.push(patch);
  }

  removeModel(model: string): void {
    this.removedModels.add(model);
  }

  statusOf(id: string): FakePredictionStatus {
    const prediction = this.predictions.get(id);
    if (!prediction) throw new Error(`no fake prediction ${id}`);
    return statusAt(prediction, this.now());
  }

  reset(defaults: Partial<FakeReplicateScript> = {}): void {
    this.log.reset();
    this.seen.length = 0;
    this.creates.length = 0;
    this.predictions.clear();
    this.removedModels.clear();
    this.nextScripts.length = 0;
    this.defaults = { ...BASE_DEFAULTS, ...defaults };
  }

  protected async route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = new URL(request.url ?? '/', this.origin).pathname;
    const { call, jobId, model } = classify(request.method ?? 'GET', path);
    const recorded = this.record(request, response, call, jobId, `Bearer ${this.apiKey}`);
    if (call === 'file') {
      await readBody(request);
      this.serveFile(jobId, response);
      return;
    }
    if (!recorded.authorized) {
      await readBody(request);
      sendJson(
        response,
        401,
        problem(401, 'Unauthenticated', 'You did not pass a valid authentication token'),
      );
      return;
    }
    const fault = this.log.takeFault(call, jobId);
    if (fault && (await answerFault(request, response, fault, wordingOf))) return;
    const resetAfter = fault !== undefined;
    if (call === 'create') {
      const prediction = await this.create(model, request, response, resetAfter);
      if (prediction && resetAfter) request.socket.destroy();
      return;
    }
    await readBody(request);
    if (resetAfter) {
      request.socket.destroy();
      return;
    }
    const prediction = jobId === undefined ? undefined : this.predictions.get(jobId);
    if (call === 'other' || !prediction) {
      sendJson(response, 404, problem(404, 'Not found', 'The requested resource could not be found.'));
      return;
    }
    if (call === 'cancel') {
      const status = statusAt(prediction, this.now());
      if (status === 'starting' || status === 'processing') prediction.cancelledAt = this.now();
    }
    sendJson(response, 200, this.objectOf(prediction));
  }

  private async create(
    model: string | undefined,
    request: IncomingMessage,
    response: ServerResponse,
    resetAfter: boolean,
  ): Promise<FakePrediction | undefined> {
    const body = readJsonObject(await readBody(request)) ?? {};
    const name = model ?? (typeof body.version === 'string' ? body.version : '');
    const recorded: RecordedReplicateCreate = { model: name, body, headers: request.headers };
    this.creates.push(recorded);
    const known = model === undefined || (this.models?.has(model) ?? true);
    if (!name || !known || this.removedModels.has(name)) {
      sendJson(
        response,
        404,
        problem(404, 'Model not found', `Model '${name}' does not exist or was removed.`),
      );
      return undefined;
    }
    const input = body.input;
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      sendJson(response, 422, problem(422, 'Input validation failed', 'input is required'));
      return undefined;
    }
    const fields = input as Record<string, unknown>;
    if (typeof fields.prompt !== 'string' || fields.prompt.trim() === '') {
      sendJson(response, 422, problem(422, 'Input validation failed', '- input: prompt is required'));
      return undefined;
    }
    if (fields.duration !== undefined && !Number.isInteger(fields.duration)) {
      sendJson(
        response,
        422,
        problem(422, 'Input validation failed', '- input.duration: Invalid type. Expected: integer'),
      );
      return undefined;
    }
    this.sequence += 1;
    const prediction: FakePrediction = {
      id: `fakepred${String(this.sequence).padStart(6, '0')}xyz`,
      model: name,
      createdAt: this.now(),
      input: fields,
      script: { ...this.defaults, ...this.nextScripts.shift() },
    };
    this.predictions.set(prediction.id, prediction);
    recorded.predictionId = prediction.id;
    if (!resetAfter) sendJson(response, 201, this.objectOf(prediction));
    return prediction;
  }

  private objectOf(prediction: FakePrediction): Record<string, unknown> {
    const status = statusAt(prediction, this.now());
    const { outcome, output } = prediction.script;
    const videoUrl = `${this.origin}/files/${prediction.id}.mp4`;
    const get = `${this.baseUrl}/predictions/${prediction.id}`;
    return {
      id: prediction.id,
      model: prediction.model,
      version: 'dp-0123456789abcdef',
      input: prediction.input,
      logs: status === 'starting' ? '' : 'Generating video…',
      output: status === 'succeeded' ? (output === 'list' ? [videoUrl] : videoUrl) : null,
      data_removed: false,
      error: status === 'failed' && outcome !== 'succeeded' ? outcome.error : null,
      status,
      created_at: new Date(prediction.createdAt).toISOString(),
      urls: { get, cancel: `${get}/cancel`, web: `https://replicate.com/p/${prediction.id}` },
    };
  }

  private serveFile(jobId: string | undefined, response: ServerResponse): void {
    const prediction = jobId === undefined ? undefined : this.predictions.get(jobId);
    if (!prediction || statusAt(prediction, this.now()) !== 'succeeded') {
      sendJson(response, 404, problem(404, 'Not found', 'No such file.'));
      return;
    }
    sendVideo(response, prediction.script.contentBytes);
  }
}

export async function startFakeReplicate(options: FakeReplicateOptions = {}): Promise<FakeReplicate> {
  return new FakeReplicate(await listenOnLoopback(), options);
}

function statusAt(prediction: FakePrediction, now: number): FakePredictionStatus {
  if (prediction.cancelledAt !== undefined) return 'canceled';
  const elapsed = now - prediction.createdAt;
  const { startingMs, processingMs, outcome } = prediction.script;
  if (elapsed < startingMs) return 'starting';
  if (elapsed < startingMs + processingMs) return 'processing';
  return outcome === 'succeeded' ? 'succeeded' : 'failed';
}

function classify(method: string, path: string): { call: FakeReplicateCall; jobId?: string; model?: string } {
  const file = FILE_PATH.exec(path);
  if (file && method === 'GET') return { call: 'file', jobId: decodeURIComponent(file[1] ?? '') };
  const create = MODEL_CREATE.exec(path);
  if (create && method === 'POST') return { call: 'create', model: `${create[1]}/${create[2]}` };
  if (path === '/v1/predictions' && method === 'POST') return { call: 'create' };
  const match = PREDICTION_PATH.exec(path);
  if (match) {
    const jobId = decodeURIComponent(match[1] ?? '');
    if (match[2] && method === 'POST') return { call: 'cancel', jobId };
    if (!match[2] && method === 'GET') return { call: 'poll', jobId };
    return { call: 'other', jobId };
  }
  return { call: 'other' };
}

function problem(status: number, title: string, detail: string): Record<string, unknown> {
  return { title, detail, status };
}

function wordingOf(status: number): unknown {
  if (status === 429)
    return problem(429, 'Request was throttled', 'Request was throttled. Expected available in 1 second.');
  if (status === 402)
    return problem(402, 'Insufficient credit', 'You have insufficient credit to run this model.');
  if (status >= 500) return problem(status, 'Internal server error', 'Something went wrong.');
  return problem(status, 'Invalid request', 'Invalid request.');
}
