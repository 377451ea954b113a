import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  ArmedFaults,
  closeServer,
  listenOnLoopback,
  mp4Filler,
  readBody,
  readJsonObject,
  recordEveryRequest,
  type SeenRequest,
  sendJson,
} from './fake-http-kit.ts';

/**
 * A real HTTP server on 127.0.0.1 standing in for a relay that speaks the job-based Videos API
 * under `/v1`: `POST /videos` (JSON or multipart), `GET /videos/{id}`, `GET /videos/{id}/content`,
 * `POST /videos/{id}/remix`, `DELETE /videos/{id}`, `GET /videos`. Every call needs
 * `Authorization: Bearer <apiKey>` (401 otherwise). Public result links, when a job has one, are
 * served without the key at `/public/{id}.mp4`.
 *
 * A job's state follows the clock since its creation, not the number of polls: queued for
 * `queuedMs`, then in_progress with progress rising to 100 over `processingMs`, then its outcome.
 * So a bot restarted mid-job that polls the same id sees it carry on. Pass `now` for a clock the
 * test moves itself.
 *
 *   const api = await startFakeVideosApi({ defaults: { queuedMs: 200, processingMs: 300 } });
 *   api.scriptNextJob({ outcome: { code: 'moderation_blocked', message: 'Blocked by moderation.' } });
 *   api.failNext('poll', { status: 429, retryAfter: '2' }, { times: 2 });
 *   // point SORA_API_URL at api.apiUrl with api.apiKey, run the bot, then:
 *   const [create] = api.creates;
 *   expect(create.fields.seconds).toBe('8');
 *   expect(create.image?.bytes.length).toBeGreaterThan(0);
 *   expect(api.count('poll', create.jobId)).toBeGreaterThan(0);
 *   await api.close();
 */

export type FakeJobState = 'queued' | 'in_progress' | 'completed' | 'failed';

/** Where a job's public link goes in its object, as different relays put it. */
export type PublicLinkField = 'soraVideoUrl' | 'output_url' | 'url' | 'video_url' | 'metadata.url' | 'urls';

export interface FakeJobScript {
  /** Default 200. */
  queuedMs: number;
  /** Default 300. */
  processingMs: number;
  /** Default `completed`; an error makes the job end `failed` with it. */
  outcome: 'completed' | { code: string; message: string };
  /** Adds a public link to the result under this field once completed; none when unset. */
  publicLink?: PublicLinkField;
  /** Size of the mp4 served at `/content`. Default 64 KiB. */
  contentBytes: number;
  /** Serves `/content` without a content-length (chunked), so only a streaming cap can catch it. */
  chunkedContent: boolean;
  /** `/content` answers 302 to the public copy on this origin (`http://localhost:<port>`). */
  contentRedirectOrigin?: string;
  /** The drift of some relays: created_at in ms, `pending`/`processing`/`succeeded`, progress as "NN%", `soraVideoUrl`. */
  drift: boolean;
  /**
   * Once done, the job reports this status word instead (e.g. `cancelled`, `expired`), with no
   * link and no content; unset, it ends as `outcome` says.
   */
  endStatus?: string;
}

export type FakeCall = 'create' | 'poll' | 'content' | 'remix' | 'delete' | 'list' | 'public' | 'other';

/** An error reply, a connection reset once the request has been read, or no answer at all. */
export type FakeFault =
  | {
      status: number;
      message?: string;
      code?: string;
      /** Sent as `Retry-After`. */
      retryAfter?: string;
      headers?: Record<string, string>;
    }
  /** For create and remix, the job is made first: the relay got it, the client cannot know. */
  | { reset: true }
  | { hang: true };

export interface RecordedCall {
  call: FakeCall;
  method: string;
  path: string;
  /** The fake's clock when the request arrived. */
  at: number;
  jobId?: string;
  /** Whether any `Authorization` header came, right or wrong. */
  sentAuthorization: boolean;
  authorized: boolean;
  /** The status answered; absent for a reset or a hang. */
  status?: number;
}

export interface RecordedCreate {
  encoding: 'json' | 'multipart';
  /** Every text field as sent (JSON values as they were, so a number `seconds` shows as one). */
  fields: Record<string, unknown>;
  /** The multipart `input_reference` file part. */
  image?: { bytes: Buffer; contentType: string; fileName: string };
  /** `input_reference.image_url` of a JSON create. */
  imageUrl?: string;
  /** The job made, when one was. */
  jobId?: string;
}

export interface FakeJob {
  id: string;
  createdAt: number;
  prompt: string;
  model: string;
  seconds: string;
  size: string;
  remixedFrom?: string;
  script: FakeJobScript;
  deletedAt?: number;
}

export interface FakeVideosApiOptions {
  apiKey?: string;
  defaults?: Partial<FakeJobScript>;
  /** The clock job states follow; `Date.now` by default. */
  now?: () => number;
}

const BASE_DEFAULTS: FakeJobScript = {
  queuedMs: 200,
  processingMs: 300,
  outcome: 'completed',
  contentBytes: 64 * 1024,
  chunkedContent: false,
  drift: false,
};
const DRIFT_STATUS: Record<FakeJobState, string> = {
  queued: 'pending',
  in_progress: 'processing',
  completed: 'succeeded',
  failed: 'failed',
};
const JOB_PATH = /^\/v1\/videos\/([^/]+)(\/content|\/remix)?$/;
const PUBLIC_PATH = /^\/public\/([^/]+)\.mp4$/;

export class FakeVideosApi {
  /** Base URL to give the bot as SORA_API_URL, e.g. `http://127.0.0.1:43210/v1`. */
  readonly apiUrl: string;
  readonly origin: string;
  readonly apiKey: string;
  /** Applied to every job made from now on (after `scriptNextJob`'s patch, which wins). */
  defaults: FakeJobScript;
  readonly requests: RecordedCall[] = [];
  readonly creates: RecordedCreate[] = [];
  /** Every request's address and headers, as they came (see `recordEveryRequest`). */
  readonly seen: SeenRequest[] = [];
  readonly jobs = new Map<string, FakeJob>();
  private readonly now: () => number;
  private readonly nextScripts: Array<Partial<FakeJobScript>> = [];
  private readonly faults = new ArmedFaults<FakeCall, FakeFault>();
  private readonly waiters = new Set<() => void>();
  private sequence = 0;

  constructor(
    private readonly server: Server,
    options: FakeVideosApiOptions,
  ) {
    const { port } = server.address() as AddressInfo;
    recordEveryRequest(server, this.seen);
    this.origin = `http://127.0.0.1:${port}`;
    this.apiUrl = `${this.origin}/v1`;
    this.apiKey = options.apiKey ?? 'sk-fake-videos-0123456789';
    this.defaults = { ...BASE_DEFAULTS, ...options.defaults };
    this.now = options.now ?? Date.now;
    server.on('request', (request: IncomingMessage, response: ServerResponse) => {
      this.route(request, response).catch((error: unknown) => response.destroy(error as Error));
    });
  }

  /** The next job made (by create or remix) gets this patch over `defaults`; queued patches go in order. */
  scriptNextJob(patch: Partial<FakeJobScript>): void {
    this.nextScripts.push(patch);
  }

  /** Changes an existing job's script, e.g. its outcome before it gets there. */
  scriptJob(id: string, patch: Partial<FakeJobScript>): void {
    const job = this.jobs.get(id);
    if (!job) throw new Error(`no fake job ${id}`);
    job.script = { ...job.script, ...patch };
  }

  /** The next `times` calls of this kind (of one job, with `jobId`) get the fault instead of an answer. */
  failNext(call: FakeCall, fault: FakeFault, options: { times?: number; jobId?: string } = {}): void {
    this.faults.arm(call, fault, options.times, options.jobId);
  }

  /** Where a job is at on the fake's clock. */
  stateOf(id: string): { state: FakeJobState; progress: number } {
    const job = this.jobs.get(id);
    if (!job) throw new Error(`no fake job ${id}`);
    return progressAt(job, this.now());
  }

  count(call: FakeCall, jobId?: string): number {
    return this.requests.filter((r) => r.call === call && (jobId === undefined || r.jobId === jobId)).length;
  }

  /** Resolves with the first recorded call (already there or still to come) that matches. */
  waitForCall(predicate: (call: RecordedCall) => boolean): Promise<RecordedCall> {
    return new Promise((resolve) => {
      const check = () => {
        const found = this.requests.find(predicate);
        if (!found) return;
        this.waiters.delete(check);
        resolve(found);
      };
      this.waiters.add(check);
      check();
    });
  }

  /** Forgets jobs, scripts, faults and records, for a fake shared between tests. */
  reset(defaults: Partial<FakeJobScript> = {}): void {
    this.requests.length = 0;
    this.seen.length = 0;
    this.creates.length = 0;
    this.jobs.clear();
    this.nextScripts.length = 0;
    this.faults.clear();
    this.waiters.clear();
    this.defaults = { ...BASE_DEFAULTS, ...defaults };
  }

  async close(): Promise<void> {
    await closeServer(this.server);
  }

  private async route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = new URL(request.url ?? '/', this.origin).pathname;
    const method = request.method ?? 'GET';
    const { call, jobId } = classify(method, path);
    const recorded: RecordedCall = {
      call,
      method,
      path,
      at: this.now(),
      jobId,
      sentAuthorization: request.headers.authorization !== undefined,
      authorized: request.headers.authorization === `Bearer ${this.apiKey}`,
    };
    this.requests.push(recorded);
    response.once('finish', () => {
      recorded.status = response.statusCode;
      this.notify();
    });
    this.notify();
    if (call === 'public') {
      this.servePublic(jobId, response);
      return;
    }
    if (!recorded.authorized) {
      await drain(request);
      const presented = request.headers.authorization ?? '(none)';
      sendError(response, 401, defaultMessage(401, presented), 'invalid_api_key');
      return;
    }
    const fault = this.faults.take(call, jobId);
    if (fault && !('reset' in fault)) {
      await drain(request);
      if ('hang' in fault) return;
      sendFault(response, fault, request.headers.authorization ?? '(none)');
      return;
    }
    await this.answer(call, jobId, request, response, fault !== undefined);
  }

  private async answer(
    call: FakeCall,
    jobId: string | undefined,
    request: IncomingMessage,
    response: ServerResponse,
    resetAfter: boolean,
  ): Promise<void> {
    if (call === 'create') {
      const job = await this.create(request, response);
      if (job && resetAfter) request.socket.destroy();
      else if (job) sendJson(response, 200, this.objectOf(job));
      return;
    }
    const job = jobId === undefined ? undefined : this.jobs.get(jobId);
    if (call === 'remix') {
      const remix = await this.remix(job, request, response);
      if (remix && resetAfter) request.socket.destroy();
      else if (remix) sendJson(response, 200, this.objectOf(remix));
      return;
    }
    await drain(request);
    if (resetAfter) {
      request.socket.destroy();
      return;
    }
    if (call === 'list') {
      const data = [...this.jobs.values()].filter((j) => !j.deletedAt).map((j) => this.objectOf(j));
      sendJson(response, 200, { object: 'list', data });
      return;
    }
    if (!job || job.deletedAt !== undefined) {
      sendError(response, 404, `No video found with id '${jobId}'.`, 'not_found');
      return;
    }
    if (call === 'poll') sendJson(response, 200, this.objectOf(job));
    else if (call === 'content') this.serveContent(job, response);
    else if (call === 'delete') {
      job.deletedAt = this.now();
      sendJson(response, 200, { id: job.id, object: 'video.deleted', deleted: true });
    } else sendError(response, 404, 'No such route.', 'not_found');
  }

  private async create(request: IncomingMessage, response: ServerResponse): Promise<FakeJob | undefined> {
    const body = await readBody(request);
    const recorded = await parseCreate(request.headers['content-type'] ?? '', body);
    this.creates.push(recorded);
    const { prompt, seconds } = recorded.fields;
    if (typeof prompt !== 'string' || prompt.trim() === '') {
      sendError(response, 400, "Missing required parameter: 'prompt'.", 'invalid_request_error');
      return undefined;
    }
    if (seconds !== undefined && typeof seconds !== 'string') {
      sendError(response, 400, "Invalid type for 'seconds': expected a string.", 'invalid_type');
      return undefined;
    }
    const job = this.makeJob({
      prompt,
      model: stringField(recorded.fields.model) ?? 'sora-2',
      seconds: seconds ?? '4',
      size: stringField(recorded.fields.size) ?? '720x1280',
    });
    recorded.jobId = job.id;
    return job;
  }

  private async remix(
    source: FakeJob | undefined,
    request: IncomingMessage,
    response: ServerResponse,
  ): Promise<FakeJob | undefined> {
    const body = (await readJsonObject(await readBody(request))) ?? {};
    if (!source || source.deletedAt !== undefined) {
      sendError(response, 404, 'No video found to remix.', 'not_found');
      return undefined;
    }
    if (progressAt(source, this.now()).state !== 'completed') {
      sendError(response, 400, 'Only a completed video can be remixed.', 'invalid_request_error');
      return undefined;
    }
    const prompt = stringField(body.prompt);
    if (!prompt) {
      sendError(response, 400, "Missing required parameter: 'prompt'.", 'invalid_request_error');
      return undefined;
    }
    return this.makeJob({ ...source, prompt, remixedFrom: source.id });
  }

  private makeJob(fields: Pick<FakeJob, 'prompt' | 'model' | 'seconds' | 'size' | 'remixedFrom'>): FakeJob {
    this.sequence += 1;
    const id = `video_fake${String(this.sequence).padStart(4, '0')}`;
    const script = { ...this.defaults, ...this.nextScripts.shift() };
    const job: FakeJob = {
      id,
      createdAt: this.now(),
      prompt: fields.prompt,
      model: fields.model,
      seconds: fields.seconds,
      size: fields.size,
      remixedFrom: fields.remixedFrom,
      script,
    };
    this.jobs.set(id, job);
    return job;
  }

  /** The job object as the relay would send it now. */
  private objectOf(job: FakeJob): Record<string, unknown> {
    const { state, progress } = progressAt(job, this.now());
    const { drift, outcome } = job.script;
    const doneAt = job.createdAt + job.script.queuedMs + job.script.processingMs;
    const object: Record<string, unknown> = {
      id: job.id,
      object: 'video',
      model: job.model,
      status: drift ? DRIFT_STATUS[state] : state,
      progress: drift ? `${progress}%` : progress,
      created_at: drift ? job.createdAt : Math.floor(job.createdAt / 1000),
      completed_at: state === 'completed' ? Math.floor(doneAt / 1000) : null,
      expires_at: state === 'completed' ? Math.floor(doneAt / 1000) + 3600 : null,
      seconds: job.seconds,
      size: job.size,
      prompt: job.prompt,
      remixed_from_video_id: job.remixedFrom ?? null,
      error: state === 'failed' && outcome !== 'completed' ? { ...outcome } : null,
    };
    if (job.script.endStatus && (state === 'completed' || state === 'failed')) {
      return { ...object, status: job.script.endStatus, completed_at: null, expires_at: null };
    }
    const field = job.script.publicLink ?? (drift ? 'soraVideoUrl' : undefined);
    if (state === 'completed' && field) placeLink(object, field, this.publicUrlOf(job));
    return object;
  }

  private publicUrlOf(job: FakeJob, origin = this.origin): string {
    return `${origin}/public/${job.id}.mp4`;
  }

  private serveContent(job: FakeJob, response: ServerResponse): void {
    if (progressAt(job, this.now()).state !== 'completed') {
      sendError(response, 404, 'Video is not ready yet.', 'video_not_ready');
      return;
    }
    const redirectTo = job.script.contentRedirectOrigin;
    if (redirectTo) {
      response.writeHead(302, { location: this.publicUrlOf(job, redirectTo) }).end();
      return;
    }
    sendVideo(response, job.script);
  }

  private servePublic(jobId: string | undefined, response: ServerResponse): void {
    const job = jobId === undefined ? undefined : this.jobs.get(jobId);
    if (!job || job.deletedAt !== undefined || progressAt(job, this.now()).state !== 'completed') {
      sendError(response, 404, 'No such video.', 'not_found');
      return;
    }
    sendVideo(response, job.script);
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

export async function startFakeVideosApi(options: FakeVideosApiOptions = {}): Promise<FakeVideosApi> {
  const server = await listenOnLoopback();
  return new FakeVideosApi(server, options);
}

/** A clock a test moves by hand, for `startFakeVideosApi({ now: clock.now })`. */
export function manualClock(start = Date.UTC(2026, 0, 1)): {
  now: () => number;
  advance: (ms: number) => void;
} {
  let time = start;
  return { now: () => time, advance: (ms) => (time += ms) };
}

function progressAt(job: FakeJob, now: number): { state: FakeJobState; progress: number } {
  const elapsed = now - job.createdAt;
  const { queuedMs, processingMs, outcome } = job.script;
  if (elapsed < queuedMs) return { state: 'queued', progress: 0 };
  if (elapsed < queuedMs + processingMs) {
    return { state: 'in_progress', progress: Math.floor(((elapsed - queuedMs) / processingMs) * 100) };
  }
  return { state: outcome === 'completed' ? 'completed' : 'failed', progress: 100 };
}

function classify(method: string, path: string): { call: FakeCall; jobId?: string } {
  const publicMatch = PUBLIC_PATH.exec(path);
  if (publicMatch && method === 'GET')
    return { call: 'public', jobId: decodeURIComponent(publicMatch[1] ?? '') };
  if (path === '/v1/videos')
    return { call: method === 'POST' ? 'create' : method === 'GET' ? 'list' : 'other' };
  const match = JOB_PATH.exec(path);
  if (!match) return { call: 'other' };
  const jobId = decodeURIComponent(match[1] ?? '');
  const tail = match[2];
  if (tail === '/content' && method === 'GET') return { call: 'content', jobId };
  if (tail === '/remix' && method === 'POST') return { call: 'remix', jobId };
  if (!tail && method === 'GET') return { call: 'poll', jobId };
  if (!tail && method === 'DELETE') return { call: 'delete', jobId };
  return { call: 'other', jobId };
}

function placeLink(object: Record<string, unknown>, field: PublicLinkField, url: string): void {
  if (field === 'metadata.url') object.metadata = { url };
  else if (field === 'urls') object.urls = [url];
  else object[field] = url;
}

async function parseCreate(contentType: string, body: Buffer): Promise<RecordedCreate> {
  if (/^multipart\/form-data/i.test(contentType)) {
    const form = await new Response(body, { headers: { 'content-type': contentType } }).formData();
    const fields: Record<string, unknown> = {};
    let image: RecordedCreate['image'];
    for (const [name, value] of form.entries()) {
      if (typeof value === 'string') fields[name] = value;
      else if (name === 'input_reference') {
        image = {
          bytes: Buffer.from(await value.arrayBuffer()),
          contentType: value.type,
          fileName: value.name,
        };
      }
    }
    return { encoding: 'multipart', fields, image };
  }
  const fields = readJsonObject(body) ?? {};
  const reference = fields.input_reference as { image_url?: unknown } | undefined;
  return { encoding: 'json', fields, imageUrl: stringField(reference?.image_url) };
}

function sendVideo(response: ServerResponse, script: FakeJobScript): void {
  const bytes = mp4Filler(script.contentBytes);
  const length: Record<string, number> = script.chunkedContent ? {} : { 'content-length': bytes.length };
  response.writeHead(200, { 'content-type': 'video/mp4', ...length });
  response.end(bytes);
}

function sendFault(
  response: ServerResponse,
  fault: Extract<FakeFault, { status: number }>,
  presented: string,
): void {
  const headers = { ...fault.headers, ...(fault.retryAfter ? { 'retry-after': fault.retryAfter } : {}) };
  const message = fault.message ?? defaultMessage(fault.status, presented);
  sendError(response, fault.status, message, fault.code ?? `http_${fault.status}`, headers);
}

/** Like real relays, an auth refusal echoes the credential it got, so redaction gets exercised. */
function defaultMessage(status: number, presented: string): string {
  if (status === 401 || status === 403) return `Incorrect API key provided: ${presented}`;
  if (status === 429) return 'Too many requests. Please slow down.';
  if (status >= 500) return 'The server had an error while processing your request.';
  return 'Invalid request.';
}

function sendError(
  response: ServerResponse,
  status: number,
  message: string,
  code: string,
  headers: Record<string, string> = {},
): void {
  const type =
    status === 401 ? 'invalid_request_error' : status >= 500 ? 'server_error' : 'invalid_request_error';
  sendJson(response, status, { error: { message, type, param: null, code } }, headers);
}

async function drain(request: IncomingMessage): Promise<void> {
  await readBody(request);
}

function stringField(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
