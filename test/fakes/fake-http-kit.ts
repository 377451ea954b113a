import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The small pieces every stand-in for a video service needs (the Videos API, OpenRouter, Gemini,
 * fal, Replicate, the chat relay): a
 * loopback server, bodies read and written as JSON, an mp4 to serve, faults armed for the next
 * calls of a kind, and recorded calls a test can wait on.
 */

/** An error reply, a connection reset once the request has been read, or no answer at all. */
export type FakeFault =
  | {
      status: number;
      /** The JSON body; the stand-in's own wording of the status when absent. */
      body?: unknown;
      /** Sent as `Retry-After`. */
      retryAfter?: string;
    }
  /** For a create, the job is made first: the service got it, the client cannot know. */
  | { reset: true }
  | { hang: true };

export interface RecordedRequest<Call extends string> {
  call: Call;
  method: string;
  path: string;
  /** The stand-in's clock when the request arrived. */
  at: number;
  /** The job (fal request, Replicate prediction) the call is about. */
  jobId?: string;
  /** The `Authorization` header as it came, if any. */
  authorization?: string;
  authorized: boolean;
  /** The status answered; absent for a reset or a hang. */
  status?: number;
}

/** Faults armed for the next calls of a kind (of one job, when armed with its id), each used up in turn. */
export class ArmedFaults<Call extends string, Fault> {
  private readonly armed: Array<{ call: Call; fault: Fault; remaining: number; jobId?: string }> = [];

  arm(call: Call, fault: Fault, times = 1, jobId?: string): void {
    this.armed.push({ call, fault, remaining: times, jobId });
  }

  /** The first fault armed for this call that is not used up, counted as used once more. */
  take(call: Call, jobId?: string): Fault | undefined {
    const armed = this.armed.find(
      (f) => f.call === call && f.remaining > 0 && (f.jobId === undefined || f.jobId === jobId),
    );
    if (!armed) return undefined;
    armed.remaining -= 1;
    return armed.fault;
  }

  clear(): void {
    this.armed.length = 0;
  }
}

/** The requests a stand-in saw, the faults armed on it, and waiting for a call to arrive. */
export class CallLog<Call extends string> {
  readonly requests: RecordedRequest<Call>[] = [];
  private readonly faults = new ArmedFaults<Call, FakeFault>();
  private readonly waiters = new Set<() => void>();

  record(request: RecordedRequest<Call>, response: ServerResponse): void {
    this.requests.push(request);
    response.once('finish', () => {
      request.status = response.statusCode;
      this.notify();
    });
    this.notify();
  }

  /** The next `times` calls of this kind (of one job, with `jobId`) get the fault instead of an answer. */
  failNext(call: Call, fault: FakeFault, options: { times?: number; jobId?: string } = {}): void {
    this.faults.arm(call, fault, options.times, options.jobId);
  }

  takeFault(call: Call, jobId: string | undefined): FakeFault | undefined {
    return this.faults.take(call, jobId);
  }

  count(call: Call, jobId?: string): number {
    return this.requests.filter((r) => r.call === call && (jobId === undefined || r.jobId === jobId)).length;
  }

  /** Resolves with the first recorded call (already there or still to come) that matches. */
  waitForCall(predicate: (call: RecordedRequest<Call>) => boolean): Promise<RecordedRequest<Call>> {
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

  reset(): void {
    this.requests.length = 0;
    this.faults.clear();
    this.waiters.clear();
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

/**
 * What the stand-ins of job-based services (fal, Replicate) share: a loopback server whose
 * requests go to `route`, the log of calls with its armed faults, and the stand-in's clock.
 */
export abstract class FakeJobService<Call extends string> {
  /** `http://127.0.0.1:<port>`. */
  readonly origin: string;
  protected readonly log = new CallLog<Call>();
  protected readonly now: () => number;

  constructor(
    private readonly server: Server,
    now: (() => number) | undefined,
  ) {
    const { port } = server.address() as AddressInfo;
    this.origin = `http://127.0.0.1:${port}`;
    this.now = now ?? Date.now;
    server.on('request', (request: IncomingMessage, response: ServerResponse) => {
      this.route(request, response).catch((error: unknown) => response.destroy(error as Error));
    });
  }

  get requests(): readonly RecordedRequest<Call>[] {
    return this.log.requests;
  }

  /** The next `times` calls of this kind (of one job, with `jobId`) get the fault instead of an answer. */
  failNext(call: Call, fault: FakeFault, options: { times?: number; jobId?: string } = {}): void {
    this.log.failNext(call, fault, options);
  }

  count(call: Call, jobId?: string): number {
    return this.log.count(call, jobId);
  }

  waitForCall(predicate: (call: RecordedRequest<Call>) => boolean): Promise<RecordedRequest<Call>> {
    return this.log.waitForCall(predicate);
  }

  close(): Promise<void> {
    return closeServer(this.server);
  }

  /** Records one arriving call; `authorized` when it carried exactly `expectedAuthorization`. */
  protected record(
    request: IncomingMessage,
    response: ServerResponse,
    call: Call,
    jobId: string | undefined,
    expectedAuthorization: string,
  ): RecordedRequest<Call> {
    const authorization = request.headers.authorization;
    const recorded: RecordedRequest<Call> = {
      call,
      method: request.method ?? 'GET',
      path: new URL(request.url ?? '/', this.origin).pathname,
      at: this.now(),
      jobId,
      authorization,
      authorized: authorization === expectedAuthorization,
    };
    this.log.record(recorded, response);
    return recorded;
  }

  protected abstract route(request: IncomingMessage, response: ServerResponse): Promise<void>;
}

export async function listenOnLoopback(): Promise<Server> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

export async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
}

export function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  response.end(text);
}

export async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export function readJsonObject(body: Buffer): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** Serves an mp4 of `size` bytes. */
export function sendVideo(response: ServerResponse, size: number): void {
  const bytes = mp4Filler(size);
  response.writeHead(200, { 'content-type': 'video/mp4', 'content-length': bytes.length });
  response.end(bytes);
}

/** An `ftyp` box followed by an `mdat` box of zeros: enough to pass a magic-bytes check. */
export function mp4Filler(size: number): Buffer {
  const bytes = Buffer.alloc(Math.max(size, 0));
  const header = Buffer.alloc(32);
  header.writeUInt32BE(24, 0);
  header.write('ftypisom', 4, 'latin1');
  header.writeUInt32BE(0x200, 12);
  header.write('isomiso2', 16, 'latin1');
  header.writeUInt32BE(Math.max(size - 24, 8), 24);
  header.write('mdat', 28, 'latin1');
  header.copy(bytes, 0, 0, Math.min(size, header.length));
  return bytes;
}

/** Applies an armed fault that answers (status) or never answers (hang); false for a reset, done by the caller. */
export async function answerFault(
  request: IncomingMessage,
  response: ServerResponse,
  fault: FakeFault,
  wording: (status: number) => unknown,
): Promise<boolean> {
  if ('reset' in fault) return false;
  await readBody(request);
  if ('hang' in fault) return true;
  const headers: Record<string, string> = fault.retryAfter ? { 'retry-after': fault.retryAfter } : {};
  sendJson(response, fault.status, fault.body ?? wording(fault.status), headers);
  return true;
}

/** What a request carried outside its body: where a key could travel (a header, the query string). */
export interface SeenRequest {
  url: string;
  headers: IncomingHttpHeaders;
}

/**
 * Records every request the server gets into `seen`, before any routing, so a test can check that
 * no other provider's key ever reached this stand-in in any header or address.
 */
export function recordEveryRequest(server: Server, seen: SeenRequest[]): void {
  server.prependListener('request', (request: IncomingMessage) => {
    seen.push({ url: request.url ?? '/', headers: { ...request.headers } });
  });
}
