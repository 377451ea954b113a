import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  ArmedFaults,
  closeServer,
  listenOnLoopback,
  readBody,
  readJsonObject,
  recordEveryRequest,
  type SeenRequest,
  sendJson,
  sendVideo,
} from './fake-http-kit.ts';

/**
 * A real HTTP server on 127.0.0.1 standing in for OpenRouter's video API under `/api/v1`:
 * `POST /videos` (JSON) answering `{id, polling_url, status: "pending"}`, polls of
 * `GET /videos/{id}`, and its content proxy `GET /videos/{id}/content?index=0`. Every call needs
 * `Authorization: Bearer <apiKey>` (401 otherwise). A done job names a signed link (`urls`) on
 * `storageOrigin` (`http://localhost:<port>`), served without the key, and the proxy link
 * (`unsigned_urls`), which needs it; `usage.cost` comes with completion.
 *
 * A job's state follows the clock since its creation: `pending` for `queuedMs`, `in_progress`
 * for `processingMs`, then its end status, so a restarted bot polling the same id sees it go on.
 *
 *   const router = await startFakeOpenRouter();
 *   router.scriptNextJob({ end: { failed: 'The provider rejected the prompt.' } });
 *   const [create] = router.creates;
 *   expect(create.body.duration).toBe(8);
 */

export type FakeOpenRouterEnd = 'completed' | 'cancelled' | 'expired' | { failed: string };

export interface FakeOpenRouterScript {
  /** Default 100. */
  queuedMs: number;
  /** Default 200. */
  processingMs: number;
  /** Default `completed`. */
  end: FakeOpenRouterEnd;
  /** `usage.cost` on completion. Default 0.42. */
  cost: number;
  /** Size of the mp4. Default 16 KiB. */
  contentBytes: number;
}

export type FakeOpenRouterCall = 'create' | 'poll' | 'content' | 'signed' | 'other';

export type FakeOpenRouterFault = { status: number; message?: string } | { reset: true };

export interface FakeOpenRouterRequest {
  call: FakeOpenRouterCall;
  method: string;
  url: string;
  origin: string;
  sentAuthorization: boolean;
  authorized: boolean;
  jobId?: string;
}

export interface FakeOpenRouterCreate {
  /** The JSON body as sent. */
  body: Record<string, unknown>;
  jobId?: string;
}

interface FakeJob {
  id: string;
  createdAt: number;
  script: FakeOpenRouterScript;
}

const BASE_DEFAULTS: FakeOpenRouterScript = {
  queuedMs: 100,
  processingMs: 200,
  end: 'completed',
  cost: 0.42,
  contentBytes: 16 * 1024,
};
const DEFAULT_MODELS = ['google/veo-3.1', 'bytedance/seedance-2.0'];
const JOB_PATH = /^\/api\/v1\/videos\/([^/]+)(\/content)?$/;
const SIGNED_PATH = /^\/signed\/([^/]+)\.mp4$/;
const ASPECT_RATIOS = new Set(['16:9', '9:16', '1:1']);

export class FakeOpenRouter {
  /** The provider's `base_url`, e.g. `http://127.0.0.1:43210/api/v1`. */
  readonly baseUrl: string;
  readonly origin: string;
  readonly storageOrigin: string;
  readonly apiKey: string;
  defaults: FakeOpenRouterScript;
  models: string[];
  readonly requests: FakeOpenRouterRequest[] = [];
  readonly creates: FakeOpenRouterCreate[] = [];
  /** Every request's address and headers, as they came (see `recordEveryRequest`). */
  readonly seen: SeenRequest[] = [];
  readonly jobs = new Map<string, FakeJob>();
  private readonly nextScripts: Array<Partial<FakeOpenRouterScript>> = [];
  private readonly faults = new ArmedFaults<FakeOpenRouterCall, FakeOpenRouterFault>();
  private sequence = 0;

  constructor(
    private readonly server: Server,
    options: { apiKey?: string; now?: () => number },
    private readonly now: () => number = options.now ?? Date.now,
  ) {
    const { port } = server.address() as AddressInfo;
    recordEveryRequest(server, this.seen);
    this.origin = `http://127.0.0.1:${port}`;
    this.storageOrigin = `http://localhost:${port}`;
    this.baseUrl = `${this.origin}/api/v1`;
    this.apiKey = options.apiKey ?? 'sk-or-v1-fakeopenrouter0123456789';
    this.models = [...DEFAULT_MODELS];
    this.defaults = { ...BASE_DEFAULTS };
    server.on('request', (request: IncomingMessage, response: ServerResponse) => {
      this.route(request, response).catch((error: unknown) => response.destroy(error as Error));
    });
  }

  scriptNextJob(patch: Partial<FakeOpenRouterScript>): void {
    this.nextScripts.push(patch);
  }

  failNext(call: FakeOpenRouterCall, fault: FakeOpenRouterFault, times = 1): void {
    this.faults.arm(call, fault, times);
  }

  count(call: FakeOpenRouterCall): number {
    return this.requests.filter((request) => request.call === call).length;
  }

  signedUrl(id: string): string {
    return `${this.storageOrigin}/signed/${id}.mp4?expires=1999999999&signature=fake`;
  }

  unsignedUrl(id: string): string {
    return `${this.baseUrl}/videos/${id}/content?index=0`;
  }

  reset(defaults: Partial<FakeOpenRouterScript> = {}): void {
    this.requests.length = 0;
    this.seen.length = 0;
    this.creates.length = 0;
    this.jobs.clear();
    this.nextScripts.length = 0;
    this.faults.clear();
    this.models = [...DEFAULT_MODELS];
    this.defaults = { ...BASE_DEFAULTS, ...defaults };
  }

  async close(): Promise<void> {
    await closeServer(this.server);
  }

  private async route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = request.url ?? '/';
    const origin = `http://${request.headers.host ?? ''}`;
    const path = new URL(url, this.origin).pathname;
    const method = request.method ?? 'GET';
    const match = JOB_PATH.exec(path);
    const onStorage = origin === this.storageOrigin && SIGNED_PATH.test(path);
    const call: FakeOpenRouterCall = onStorage
      ? 'signed'
      : method === 'POST' && path === '/api/v1/videos'
        ? 'create'
        : method === 'GET' && match
          ? match[2]
            ? 'content'
            : 'poll'
          : 'other';
    const recorded: FakeOpenRouterRequest = {
      call,
      method,
      url,
      origin,
      sentAuthorization: request.headers.authorization !== undefined,
      authorized: request.headers.authorization === `Bearer ${this.apiKey}`,
      jobId: onStorage ? SIGNED_PATH.exec(path)?.[1] : match?.[1],
    };
    this.requests.push(recorded);
    const body = await readBody(request);
    if (call === 'signed') {
      const job = this.jobs.get(recorded.jobId ?? '');
      if (job) sendVideo(response, job.script.contentBytes);
      else response.writeHead(404).end();
      return;
    }
    if (!recorded.authorized) {
      sendError(response, 401, 'No auth credentials found');
      return;
    }
    const fault = this.faults.take(call);
    if (fault && 'status' in fault) {
      sendError(response, fault.status, fault.message ?? 'Provider returned error');
      return;
    }
    if (call === 'create') {
      this.create(body, response, fault !== undefined);
      return;
    }
    if (fault) {
      response.socket?.destroy();
      return;
    }
    const job = this.jobs.get(recorded.jobId ?? '');
    if (!job || call === 'other') {
      sendError(response, 404, 'Video generation job not found');
      return;
    }
    if (call === 'poll') sendJson(response, 200, this.objectOf(job));
    else if (this.statusOf(job) === 'completed') sendVideo(response, job.script.contentBytes);
    else sendError(response, 409, 'Video is not ready');
  }

  private create(body: Buffer, response: ServerResponse, resetAfter: boolean): void {
    const parsed = readJsonObject(body) ?? {};
    const create: FakeOpenRouterCreate = { body: parsed };
    this.creates.push(create);
    const model = typeof parsed.model === 'string' ? parsed.model : '';
    if (!this.models.includes(model)) {
      sendError(response, 404, `Model ${model} not found`);
      return;
    }
    const problem = invalidBody(parsed);
    if (problem) {
      sendError(response, 400, problem);
      return;
    }
    this.sequence += 1;
    const id = `vgen_${this.sequence}${Math.random().toString(36).slice(2, 8)}`;
    this.jobs.set(id, {
      id,
      createdAt: this.now(),
      script: { ...this.defaults, ...this.nextScripts.shift() },
    });
    create.jobId = id;
    if (resetAfter) {
      response.socket?.destroy();
      return;
    }
    sendJson(response, 202, { id, polling_url: `/api/v1/videos/${id}`, status: 'pending' });
  }

  private statusOf(job: FakeJob): string {
    const age = this.now() - job.createdAt;
    if (age < job.script.queuedMs) return 'pending';
    if (age < job.script.queuedMs + job.script.processingMs) return 'in_progress';
    const { end } = job.script;
    return typeof end === 'string' ? end : 'failed';
  }

  private objectOf(job: FakeJob): Record<string, unknown> {
    const status = this.statusOf(job);
    const object: Record<string, unknown> = { id: job.id, polling_url: `/api/v1/videos/${job.id}`, status };
    if (status === 'completed') {
      object.generation_id = `gen-${job.id}`;
      object.urls = [this.signedUrl(job.id)];
      object.unsigned_urls = [this.unsignedUrl(job.id)];
      object.usage = { cost: job.script.cost, is_byok: false };
    }
    const { end } = job.script;
    if (status === 'failed' && typeof end === 'object') object.error = end.failed;
    return object;
  }
}

export async function startFakeOpenRouter(
  options: { apiKey?: string; now?: () => number } = {},
): Promise<FakeOpenRouter> {
  const server = await listenOnLoopback();
  return new FakeOpenRouter(server, options);
}

/** What OpenRouter's validation says about a create body, or nothing when it is acceptable. */
function invalidBody(body: Record<string, unknown>): string | undefined {
  if (typeof body.prompt !== 'string' || body.prompt.trim() === '') return 'prompt is required';
  if (body.duration !== undefined && typeof body.duration !== 'number') return 'duration must be a number';
  if (body.aspect_ratio !== undefined && !ASPECT_RATIOS.has(String(body.aspect_ratio))) {
    return `aspect_ratio ${String(body.aspect_ratio)} is not supported`;
  }
  for (const field of ['seconds', 'size', 'input_reference']) {
    if (body[field] !== undefined) return `Unrecognized key: "${field}"`;
  }
  if (body.frame_images !== undefined) {
    const frames = body.frame_images;
    const valid =
      Array.isArray(frames) &&
      frames.every((frame: Record<string, unknown>) => {
        const imageUrl = frame?.image_url as Record<string, unknown> | undefined;
        return (
          frame?.type === 'image_url' &&
          typeof imageUrl?.url === 'string' &&
          frame.frame_type === 'first_frame'
        );
      });
    if (!valid) return 'frame_images must be [{type: "image_url", image_url: {url}, frame_type}]';
  }
  return undefined;
}

function sendError(response: ServerResponse, status: number, message: string): void {
  sendJson(response, status, { error: { code: status, message } });
}
