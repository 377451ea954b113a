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
 * A real HTTP server on 127.0.0.1 standing in for the Gemini API's Veo calls under `/v1beta`:
 * `POST /models/{model}:predictLongRunning`, `GET /models/{model}/operations/{id}`, and the
 * generated file at `GET /files/{id}:download?alt=media`. Every call needs `x-goog-api-key`
 * (403 PERMISSION_DENIED otherwise); a model it does not know answers 404 NOT_FOUND.
 *
 * An operation's state follows the clock since its creation, not the number of polls: running
 * for `processingMs`, then done with its outcome, so a bot restarted mid-job that polls the same
 * name sees it carry on. A download may be sent on (302) to `storageOrigin`, another origin on
 * the same server (`http://localhost:<port>`), which serves the file without the key and records
 * whether one came anyway.
 *
 *   const google = await startFakeGemini({ defaults: { processingMs: 300 } });
 *   google.scriptNextOperation({ outcome: { filtered: ['Blocked by safety filters.'] } });
 *   google.failNext('create', { status: 429 });
 *   const [create] = google.creates;
 *   expect(create.body.parameters).toEqual({ durationSeconds: 8, aspectRatio: '9:16' });
 */

export type FakeGeminiOutcome =
  | 'video'
  /** `error {code, message}` on the done operation. */
  | { error: { code: number; message: string } }
  /** No sample: `raiMediaFilteredCount` and `raiMediaFilteredReasons`. */
  | { filtered: string[] };

export interface FakeOperationScript {
  /** Default 300. */
  processingMs: number;
  /** Default `video`. */
  outcome: FakeGeminiOutcome;
  /** Size of the mp4 served for the video. Default 32 KiB. */
  contentBytes: number;
  /** The file download answers 302 to `storageOrigin` instead of serving the bytes. */
  redirectToStorage: boolean;
  /** The video's uri is on this origin instead of the fake's own (e.g. `storageOrigin`). */
  videoUriOrigin?: string;
}

export type FakeGeminiCall = 'create' | 'poll' | 'download' | 'storage' | 'other';

export type FakeGeminiFault =
  | { status: number; message?: string; statusWord?: string; retryAfter?: string }
  /** For a create, the operation is made first: Google got it, the client cannot know. */
  | { reset: true }
  | { hang: true };

export interface FakeGeminiRequest {
  call: FakeGeminiCall;
  method: string;
  /** Path and query as asked. */
  url: string;
  origin: string;
  /** Whether an `x-goog-api-key` header came, right or wrong. */
  sentKey: boolean;
  authorized: boolean;
  /** Whether the key showed up anywhere else (query string, another header). */
  keyElsewhere: boolean;
  operation?: string;
  status?: number;
}

export interface FakeGeminiCreate {
  model: string;
  /** The JSON body as sent. */
  body: { instances?: Array<Record<string, unknown>>; parameters?: Record<string, unknown> };
  /** The operation made, when one was. */
  operation?: string;
}

interface FakeOperation {
  name: string;
  id: string;
  model: string;
  createdAt: number;
  script: FakeOperationScript;
}

export interface FakeGeminiOptions {
  apiKey?: string;
  /** Models `predictLongRunning` accepts. */
  models?: string[];
  defaults?: Partial<FakeOperationScript>;
  now?: () => number;
}

const BASE_DEFAULTS: FakeOperationScript = {
  processingMs: 300,
  outcome: 'video',
  contentBytes: 32 * 1024,
  redirectToStorage: false,
};
const DEFAULT_MODELS = ['veo-3.1-generate-preview', 'veo-3.1-fast-generate-preview'];
const CREATE_PATH = /^\/v1beta\/models\/([^/:]+):predictLongRunning$/;
const OPERATION_PATH = /^\/v1beta\/(models\/[^/]+\/operations\/[^/]+)$/;
const FILE_PATH = /^\/v1beta\/files\/([^/:]+):download$/;
const STORAGE_PATH = /^\/storage\/([^/]+)\.mp4$/;
const ASPECT_RATIOS = new Set(['16:9', '9:16']);

export class FakeGemini {
  /** The provider's `base_url`, e.g. `http://127.0.0.1:43210/v1beta`. */
  readonly baseUrl: string;
  readonly origin: string;
  /** The same server under another origin: where downloads are sent on to. */
  readonly storageOrigin: string;
  readonly apiKey: string;
  defaults: FakeOperationScript;
  models: string[];
  readonly requests: FakeGeminiRequest[] = [];
  readonly creates: FakeGeminiCreate[] = [];
  /** Every request's address and headers, as they came (see `recordEveryRequest`). */
  readonly seen: SeenRequest[] = [];
  readonly operations = new Map<string, FakeOperation>();
  private readonly now: () => number;
  private readonly nextScripts: Array<Partial<FakeOperationScript>> = [];
  private readonly faults = new ArmedFaults<FakeGeminiCall, FakeGeminiFault>();
  private sequence = 0;

  constructor(
    private readonly server: Server,
    options: FakeGeminiOptions,
  ) {
    const { port } = server.address() as AddressInfo;
    recordEveryRequest(server, this.seen);
    this.origin = `http://127.0.0.1:${port}`;
    this.storageOrigin = `http://localhost:${port}`;
    this.baseUrl = `${this.origin}/v1beta`;
    this.apiKey = options.apiKey ?? 'AIzaFakeGeminiKey-0123456789abcdef';
    this.models = options.models ?? [...DEFAULT_MODELS];
    this.defaults = { ...BASE_DEFAULTS, ...options.defaults };
    this.now = options.now ?? Date.now;
    server.on('request', (request: IncomingMessage, response: ServerResponse) => {
      this.route(request, response).catch((error: unknown) => response.destroy(error as Error));
    });
  }

  /** The next operation made gets this patch over `defaults`; queued patches go in order. */
  scriptNextOperation(patch: Partial<FakeOperationScript>): void {
    this.nextScripts.push(patch);
  }

  /** The next `times` calls of this kind get the fault instead of an answer. */
  failNext(call: FakeGeminiCall, fault: FakeGeminiFault, times = 1): void {
    this.faults.arm(call, fault, times);
  }

  count(call: FakeGeminiCall): number {
    return this.requests.filter((request) => request.call === call).length;
  }

  /** The address of an operation's video, as its done operation names it. */
  videoUri(operation: string): string {
    const made = this.operations.get(operation);
    if (!made) throw new Error(`no fake operation ${operation}`);
    return this.uriOf(made);
  }

  reset(defaults: Partial<FakeOperationScript> = {}): void {
    this.requests.length = 0;
    this.seen.length = 0;
    this.creates.length = 0;
    this.operations.clear();
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
    const host = request.headers.host ?? '';
    const origin = `http://${host}`;
    const path = new URL(url, this.origin).pathname;
    const method = request.method ?? 'GET';
    const call = classify(method, path, origin === this.storageOrigin);
    const presented = request.headers['x-goog-api-key'];
    const otherHeaders = Object.entries(request.headers)
      .filter(([name]) => name !== 'x-goog-api-key')
      .map(([, value]) => String(value))
      .join('\n');
    const recorded: FakeGeminiRequest = {
      call,
      method,
      url,
      origin,
      sentKey: presented !== undefined,
      authorized: presented === this.apiKey,
      keyElsewhere: url.includes(this.apiKey) || otherHeaders.includes(this.apiKey),
    };
    this.requests.push(recorded);
    response.once('finish', () => {
      recorded.status = response.statusCode;
    });
    const body = await readBody(request);
    if (call === 'storage') {
      this.serveStorage(path, response);
      return;
    }
    if (!recorded.authorized) {
      const said =
        presented === undefined
          ? "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API."
          : `Permission denied: Consumer 'api_key:${presented}' has been suspended.`;
      sendError(response, 403, said, 'PERMISSION_DENIED');
      return;
    }
    const fault = this.faults.take(call);
    if (fault && 'hang' in fault) return;
    if (fault && 'status' in fault) {
      if (fault.retryAfter) response.setHeader('retry-after', fault.retryAfter);
      sendError(
        response,
        fault.status,
        fault.message ?? defaultMessage(fault.status),
        fault.statusWord ?? statusWordOf(fault.status),
      );
      return;
    }
    const resetAfter = fault !== undefined;
    if (resetAfter && call !== 'create') {
      response.socket?.destroy();
      return;
    }
    if (call === 'create') this.create(path, body, response, resetAfter, recorded);
    else if (call === 'poll') this.poll(path, response, recorded);
    else if (call === 'download') this.download(path, url, response);
    else sendError(response, 404, `The requested URL ${path} was not found on this server.`, 'NOT_FOUND');
  }

  private create(
    path: string,
    body: Buffer,
    response: ServerResponse,
    resetAfter: boolean,
    recorded: FakeGeminiRequest,
  ): void {
    const model = decodeURIComponent(CREATE_PATH.exec(path)?.[1] ?? '');
    const parsed = readJsonObject(body) ?? {};
    const create: FakeGeminiCreate = { model, body: parsed as FakeGeminiCreate['body'] };
    this.creates.push(create);
    if (!this.models.includes(model)) {
      sendError(
        response,
        404,
        `models/${model} is not found for API version v1beta, or is not supported for predictLongRunning. Call ListModels to see the list of available models and their supported methods.`,
        'NOT_FOUND',
      );
      return;
    }
    const problem = invalidArgument(parsed);
    if (problem) {
      sendError(response, 400, problem, 'INVALID_ARGUMENT');
      return;
    }
    this.sequence += 1;
    const id = `op${this.sequence}x${Math.random().toString(36).slice(2, 8)}`;
    const operation: FakeOperation = {
      id,
      name: `models/${model}/operations/${id}`,
      model,
      createdAt: this.now(),
      script: { ...this.defaults, ...this.nextScripts.shift() },
    };
    this.operations.set(operation.name, operation);
    create.operation = operation.name;
    recorded.operation = operation.name;
    if (resetAfter) {
      response.socket?.destroy();
      return;
    }
    sendJson(response, 200, { name: operation.name });
  }

  private poll(path: string, response: ServerResponse, recorded: FakeGeminiRequest): void {
    const name = OPERATION_PATH.exec(path)?.[1] ?? '';
    recorded.operation = name;
    const operation = this.operations.get(name);
    if (!operation) {
      sendError(response, 404, `Operation not found: ${name}`, 'NOT_FOUND');
      return;
    }
    sendJson(response, 200, this.objectOf(operation));
  }

  private objectOf(operation: FakeOperation): Record<string, unknown> {
    const metadata = {
      '@type': 'type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningMetadata',
    };
    if (this.now() - operation.createdAt < operation.script.processingMs) {
      return { name: operation.name, metadata };
    }
    const { outcome } = operation.script;
    if (typeof outcome === 'object' && 'error' in outcome) {
      return { name: operation.name, metadata, done: true, error: outcome.error };
    }
    const generateVideoResponse =
      typeof outcome === 'object'
        ? { raiMediaFilteredCount: 1, raiMediaFilteredReasons: outcome.filtered }
        : { generatedSamples: [{ video: { uri: this.uriOf(operation) } }] };
    return {
      name: operation.name,
      done: true,
      response: {
        '@type': 'type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse',
        generateVideoResponse,
      },
    };
  }

  private uriOf(operation: FakeOperation): string {
    const origin = operation.script.videoUriOrigin ?? this.origin;
    return `${origin}/v1beta/files/${operation.id}:download?alt=media`;
  }

  private download(path: string, url: string, response: ServerResponse): void {
    const id = FILE_PATH.exec(path)?.[1] ?? '';
    const operation = [...this.operations.values()].find((made) => made.id === id);
    if (!operation || !new URL(url, this.origin).searchParams.has('alt')) {
      sendError(response, 404, `File ${id} not found.`, 'NOT_FOUND');
      return;
    }
    if (operation.script.redirectToStorage) {
      response.writeHead(302, { location: `${this.storageOrigin}/storage/${id}.mp4` }).end();
      return;
    }
    sendVideo(response, operation.script.contentBytes);
  }

  private serveStorage(path: string, response: ServerResponse): void {
    const id = STORAGE_PATH.exec(path)?.[1] ?? '';
    const operation = [...this.operations.values()].find((made) => made.id === id);
    if (!operation) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('No such object.');
      return;
    }
    sendVideo(response, operation.script.contentBytes);
  }
}

export async function startFakeGemini(options: FakeGeminiOptions = {}): Promise<FakeGemini> {
  const server = await listenOnLoopback();
  return new FakeGemini(server, options);
}

function classify(method: string, path: string, onStorageOrigin: boolean): FakeGeminiCall {
  if (onStorageOrigin && STORAGE_PATH.test(path)) return 'storage';
  if (method === 'POST' && CREATE_PATH.test(path)) return 'create';
  if (method === 'GET' && OPERATION_PATH.test(path)) return 'poll';
  if (method === 'GET' && FILE_PATH.test(path)) return 'download';
  return 'other';
}

/** What Google's request validation says about a body, or nothing when it is acceptable. */
function invalidArgument(body: Record<string, unknown>): string | undefined {
  const instances = body.instances;
  if (!Array.isArray(instances) || instances.length !== 1)
    return 'instances: exactly one instance is required.';
  const instance = instances[0] as Record<string, unknown>;
  if (typeof instance.prompt !== 'string' || instance.prompt.trim() === '')
    return 'instances[0].prompt is required.';
  if (instance.image !== undefined) {
    const image = instance.image as Record<string, unknown>;
    if (typeof image.bytesBase64Encoded !== 'string' || typeof image.mimeType !== 'string') {
      return 'instances[0].image: bytesBase64Encoded and mimeType are required.';
    }
  }
  const parameters = (body.parameters ?? {}) as Record<string, unknown>;
  if (parameters.durationSeconds !== undefined && typeof parameters.durationSeconds !== 'number') {
    return `Invalid value at 'parameters.duration_seconds' (TYPE_INT32), "${String(parameters.durationSeconds)}"`;
  }
  if (parameters.aspectRatio !== undefined && !ASPECT_RATIOS.has(String(parameters.aspectRatio))) {
    return `Aspect ratio ${String(parameters.aspectRatio)} is not supported.`;
  }
  return undefined;
}

function statusWordOf(status: number): string {
  if (status === 400) return 'INVALID_ARGUMENT';
  if (status === 403) return 'PERMISSION_DENIED';
  if (status === 404) return 'NOT_FOUND';
  if (status === 429) return 'RESOURCE_EXHAUSTED';
  if (status === 503) return 'UNAVAILABLE';
  return 'INTERNAL';
}

function defaultMessage(status: number): string {
  if (status === 429) return 'Resource has been exhausted (e.g. check quota).';
  if (status >= 500) return 'The service is currently unavailable.';
  return 'Request contains an invalid argument.';
}

function sendError(response: ServerResponse, status: number, message: string, statusWord: string): void {
  sendJson(response, status, { error: { code: status, message, status: statusWord } });
}
