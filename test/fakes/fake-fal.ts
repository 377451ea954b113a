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
 * A real HTTP server on 127.0.0.1 standing in for fal's queue (`https://queue.fal.run`):
 * `POST /{model path}` submits, `GET /{owner}/{app}/requests/{id}/status`,
 * `GET /{owner}/{app}/requests/{id}` (the result), `PUT /{owner}/{app}/requests/{id}/cancel`.
 * Every call needs `Authorization: Key <apiKey>` (401 otherwise). A finished video is served
 * without the key at `/files/{id}.mp4`, as fal's CDN does.
 *
 * A request's state follows the clock since its submission, not the number of polls: IN_QUEUE
 * for `queuedMs` with its position falling from `queueAhead` to 0, then IN_PROGRESS for
 * `processingMs`, then COMPLETED, its result the video or the scripted failure. So a bot
 * restarted mid-job that polls the same id sees it carry on.
 *
 *   const fal = await startFakeFal({ defaults: { queuedMs: 200, processingMs: 300 } });
 *   fal.scriptNextRequest({ outcome: FAL_CONTENT_POLICY });
 *   fal.removeModel('fal-ai/retired/text-to-video');     // answers 404 "not found"
 *   fal.failNext('status', { status: 503 }, { times: 2 });
 *   // a catalogue provider `{ shape: fal-queue, base_url: fal.baseUrl }` with fal.apiKey, then:
 *   expect(fal.creates[0]?.body.start_image_url).toBe(imageUrl);
 *   expect(fal.count('cancel', fal.creates[0]?.requestId)).toBe(1);
 */

export type FakeFalCall = 'submit' | 'status' | 'result' | 'cancel' | 'file' | 'other';

/** The body of a failed result: fal's `detail`, a string or a list of `{loc, msg, type}`. */
export interface FakeFalFailure {
  status: number;
  detail: string | Array<{ loc: string[]; msg: string; type: string; [more: string]: unknown }>;
}

export interface FakeFalScript {
  /** Default 200. */
  queuedMs: number;
  /** Requests ahead at submission; the position falls evenly to 0 over `queuedMs`. Default 3. */
  queueAhead: number;
  /** Default 300. */
  processingMs: number;
  /** Default `completed`. */
  outcome: 'completed' | FakeFalFailure;
  /** Size of the mp4 served. Default 64 KiB. */
  contentBytes: number;
  /** A failed outcome also shows on the COMPLETED status, as `error` and `error_type` (some fal apps do). */
  failureOnStatus: boolean;
}

/** What fal answers for a prompt its content checker flags. */
export const FAL_CONTENT_POLICY: FakeFalFailure = {
  status: 422,
  detail: [
    {
      loc: ['body', 'prompt'],
      msg: 'The content was flagged by a content checker.',
      type: 'content_policy_violation',
      url: 'https://docs.fal.ai/errors#content_policy_violation',
    },
  ],
};

export interface RecordedFalSubmit {
  modelPath: string;
  /** The JSON body as sent (so a string `duration` shows as one). */
  body: Record<string, unknown>;
  headers: IncomingHttpHeaders;
  /** The request made, when one was. */
  requestId?: string;
}

export interface FakeFalRequest {
  id: string;
  /** `owner/app`, the first two segments of the model path. */
  app: string;
  modelPath: string;
  submittedAt: number;
  body: Record<string, unknown>;
  script: FakeFalScript;
  cancelledAt?: number;
}

export type FakeFalState = 'IN_QUEUE' | 'IN_PROGRESS' | 'COMPLETED';

export interface FakeFalOptions {
  apiKey?: string;
  defaults?: Partial<FakeFalScript>;
  /** The clock states follow; `Date.now` by default. */
  now?: () => number;
  /**
   * The origin of the `status_url`, `response_url` and `cancel_url` a submit answers with; this
   * stand-in's own by default. Another origin checks that a client never follows them there.
   */
  answerUrlsOrigin?: string;
  /** When given, only these model paths exist; every other one answers 404 like a retired model. */
  models?: readonly string[];
}

const BASE_DEFAULTS: FakeFalScript = {
  queuedMs: 200,
  queueAhead: 3,
  processingMs: 300,
  outcome: 'completed',
  contentBytes: 64 * 1024,
  failureOnStatus: false,
};
const REQUEST_PATH = /^\/([^/]+\/[^/]+)\/requests\/([^/]+)(\/status|\/cancel)?$/;
const FILE_PATH = /^\/files\/([^/]+)\.mp4$/;

export class FakeFal extends FakeJobService<FakeFalCall> {
  /** The base URL to put in the catalogue, e.g. `http://127.0.0.1:43210` (fal's queue has no path). */
  readonly baseUrl: string;
  readonly apiKey: string;
  defaults: FakeFalScript;
  readonly creates: RecordedFalSubmit[] = [];
  /** Every request's address and headers, as they came (see `recordEveryRequest`). */
  readonly seen: SeenRequest[] = [];
  readonly jobs = new Map<string, FakeFalRequest>();
  /** Model paths that answer 404, as a retired model does. */
  readonly removedModels = new Set<string>();
  private readonly answerUrlsOrigin: string;
  private readonly models?: ReadonlySet<string>;
  private readonly nextScripts: Array<Partial<FakeFalScript>> = [];
  private sequence = 0;

  constructor(server: Server, options: FakeFalOptions) {
    super(server, options.now);
    recordEveryRequest(server, this.seen);
    this.baseUrl = this.origin;
    this.apiKey = options.apiKey ?? 'fal-key-0123456789abcdef';
    this.defaults = { ...BASE_DEFAULTS, ...options.defaults };
    this.answerUrlsOrigin = options.answerUrlsOrigin ?? this.baseUrl;
    this.models = options.models && new Set(options.models);
  }

  /** The next request submitted gets this patch over `defaults`; patches go in order. */
  scriptNextRequest(patch: Partial<FakeFalScript>): void {
    this.nextScripts.push(patch);
  }

  removeModel(modelPath: string): void {
    this.removedModels.add(modelPath);
  }

  stateOf(id: string): { state: FakeFalState; position?: number } {
    const job = this.jobs.get(id);
    if (!job) throw new Error(`no fake fal request ${id}`);
    return stateAt(job, this.now());
  }

  /** Forgets requests, scripts, faults, removed models and records, for a stand-in shared between tests. */
  reset(defaults: Partial<FakeFalScript> = {}): void {
    this.log.reset();
    this.seen.length = 0;
    this.creates.length = 0;
    this.jobs.clear();
    this.removedModels.clear();
    this.nextScripts.length = 0;
    this.defaults = { ...BASE_DEFAULTS, ...defaults };
  }

  protected async route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = new URL(request.url ?? '/', this.baseUrl).pathname;
    const { call, jobId, app } = classify(request.method ?? 'GET', path);
    const recorded = this.record(request, response, call, jobId, `Key ${this.apiKey}`);
    const { authorization } = recorded;
    if (call === 'file') {
      await readBody(request);
      this.serveFile(jobId, response);
      return;
    }
    if (!recorded.authorized) {
      await readBody(request);
      sendJson(response, 401, { detail: `Invalid authorization header: ${authorization ?? '(none)'}` });
      return;
    }
    const fault = this.log.takeFault(call, jobId);
    if (fault && (await answerFault(request, response, fault, wordingOf))) return;
    const resetAfter = fault !== undefined;
    if (call === 'submit') {
      const job = await this.submit(path, request, response, resetAfter);
      if (job && resetAfter) request.socket.destroy();
      return;
    }
    await readBody(request);
    if (resetAfter) {
      request.socket.destroy();
      return;
    }
    const job = jobId === undefined ? undefined : this.jobs.get(jobId);
    if (call === 'other' || !job || job.app !== app) {
      sendJson(response, 404, { detail: 'Request not found' });
      return;
    }
    if (call === 'status') sendJson(response, 200, this.statusOf(job));
    else if (call === 'result') this.sendResult(job, response);
    else this.cancel(job, response);
  }

  private async submit(
    path: string,
    request: IncomingMessage,
    response: ServerResponse,
    resetAfter: boolean,
  ): Promise<FakeFalRequest | undefined> {
    const modelPath = path.replace(/^\/+|\/+$/g, '');
    const body = readJsonObject(await readBody(request)) ?? {};
    const recorded: RecordedFalSubmit = { modelPath, body, headers: request.headers };
    this.creates.push(recorded);
    const segments = modelPath.split('/');
    const known = this.models?.has(modelPath) ?? true;
    if (segments.length < 2 || !known || this.removedModels.has(modelPath)) {
      sendJson(response, 404, { detail: `Application '${segments.slice(0, 2).join('/')}' not found` });
      return undefined;
    }
    if (typeof body.prompt !== 'string' || body.prompt.trim() === '') {
      sendJson(response, 422, {
        detail: [{ loc: ['body', 'prompt'], msg: 'Field required', type: 'missing' }],
      });
      return undefined;
    }
    if (body.duration !== undefined && typeof body.duration !== 'string') {
      sendJson(response, 422, {
        detail: [{ loc: ['body', 'duration'], msg: "Input should be '5' or '10'", type: 'enum' }],
      });
      return undefined;
    }
    this.sequence += 1;
    const id = `${String(this.sequence).padStart(8, '0')}-fa1e-4c0e-9a11-000000000000`;
    const job: FakeFalRequest = {
      id,
      app: segments.slice(0, 2).join('/'),
      modelPath,
      submittedAt: this.now(),
      body,
      script: { ...this.defaults, ...this.nextScripts.shift() },
    };
    this.jobs.set(id, job);
    recorded.requestId = id;
    if (!resetAfter) {
      const base = `${this.answerUrlsOrigin}/${job.app}/requests/${id}`;
      sendJson(response, 200, {
        request_id: id,
        response_url: base,
        status_url: `${base}/status`,
        cancel_url: `${base}/cancel`,
        queue_position: job.script.queueAhead,
      });
    }
    return job;
  }

  private statusOf(job: FakeFalRequest): Record<string, unknown> {
    const { state, position } = stateAt(job, this.now());
    const base = `${this.answerUrlsOrigin}/${job.app}/requests/${job.id}`;
    const status: Record<string, unknown> = { status: state, request_id: job.id, response_url: base };
    if (state === 'IN_QUEUE') status.queue_position = position;
    if (state !== 'IN_QUEUE') status.logs = null;
    const { outcome, failureOnStatus } = job.script;
    if (state === 'COMPLETED' && failureOnStatus && outcome !== 'completed') {
      const [first] =
        typeof outcome.detail === 'string' ? [{ msg: outcome.detail, type: 'error' }] : outcome.detail;
      status.error = first?.msg;
      status.error_type = first?.type;
    }
    return status;
  }

  private sendResult(job: FakeFalRequest, response: ServerResponse): void {
    if (stateAt(job, this.now()).state !== 'COMPLETED') {
      sendJson(response, 400, { detail: 'Request is still in progress' });
      return;
    }
    if (job.cancelledAt !== undefined) {
      sendJson(response, 400, { detail: 'Request was cancelled' });
      return;
    }
    const { outcome, contentBytes } = job.script;
    if (outcome !== 'completed') {
      sendJson(response, outcome.status, { detail: outcome.detail });
      return;
    }
    sendJson(response, 200, {
      video: {
        url: `${this.baseUrl}/files/${job.id}.mp4`,
        content_type: 'video/mp4',
        file_name: 'output.mp4',
        file_size: contentBytes,
      },
      seed: 42,
    });
  }

  private cancel(job: FakeFalRequest, response: ServerResponse): void {
    if (job.cancelledAt !== undefined || stateAt(job, this.now()).state === 'COMPLETED') {
      sendJson(response, 400, { status: 'ALREADY_COMPLETED' });
      return;
    }
    job.cancelledAt = this.now();
    sendJson(response, 202, { status: 'CANCELLATION_REQUESTED' });
  }

  private serveFile(jobId: string | undefined, response: ServerResponse): void {
    const job = jobId === undefined ? undefined : this.jobs.get(jobId);
    if (job?.script.outcome !== 'completed' || stateAt(job, this.now()).state !== 'COMPLETED') {
      sendJson(response, 404, { detail: 'Not found' });
      return;
    }
    sendVideo(response, job.script.contentBytes);
  }
}

export async function startFakeFal(options: FakeFalOptions = {}): Promise<FakeFal> {
  return new FakeFal(await listenOnLoopback(), options);
}

function stateAt(job: FakeFalRequest, now: number): { state: FakeFalState; position?: number } {
  if (job.cancelledAt !== undefined) return { state: 'COMPLETED' };
  const elapsed = now - job.submittedAt;
  const { queuedMs, processingMs, queueAhead } = job.script;
  if (elapsed < queuedMs) {
    return { state: 'IN_QUEUE', position: Math.floor(queueAhead * (1 - elapsed / queuedMs)) };
  }
  if (elapsed < queuedMs + processingMs) return { state: 'IN_PROGRESS' };
  return { state: 'COMPLETED' };
}

function classify(method: string, path: string): { call: FakeFalCall; jobId?: string; app?: string } {
  const file = FILE_PATH.exec(path);
  if (file && method === 'GET') return { call: 'file', jobId: decodeURIComponent(file[1] ?? '') };
  const match = REQUEST_PATH.exec(path);
  if (match) {
    const app = match[1];
    const jobId = decodeURIComponent(match[2] ?? '');
    const tail = match[3];
    if (tail === '/status' && method === 'GET') return { call: 'status', jobId, app };
    if (tail === '/cancel' && method === 'PUT') return { call: 'cancel', jobId, app };
    if (!tail && method === 'GET') return { call: 'result', jobId, app };
    return { call: 'other', jobId, app };
  }
  return { call: method === 'POST' ? 'submit' : 'other' };
}

function wordingOf(status: number): unknown {
  if (status === 429) return { detail: 'Too many requests, please slow down.' };
  if (status >= 500)
    return { detail: [{ loc: [], msg: 'Internal server error', type: 'internal_server_error' }] };
  return { detail: 'Invalid request.' };
}
