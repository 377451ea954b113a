import { createHash } from 'node:crypto';
import { type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http';

/**
 * HTTP plumbing for the fake Discord: reading JSON and multipart bodies, Discord-shaped errors,
 * route patterns with `:params`, rate-limit headers, and scripted faults (`failNext`).
 */

export interface UploadedFile {
  /** The multipart field, e.g. `files[0]`. */
  field: string;
  name: string;
  size: number;
  contentType: string;
  bytes: Buffer;
}

export interface ParsedBody {
  /** Parsed JSON body, or the `payload_json` part of a multipart body; undefined when empty. */
  json: unknown;
  files: UploadedFile[];
}

export async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function parseBody(raw: Buffer, contentType: string | undefined): Promise<ParsedBody> {
  if (raw.length === 0) return { json: undefined, files: [] };
  if (contentType?.startsWith('multipart/form-data')) {
    const form = await new Request('http://fake.invalid/', {
      method: 'POST',
      headers: { 'content-type': contentType },
      body: raw,
    }).formData();
    const files: UploadedFile[] = [];
    let json: unknown;
    for (const [field, value] of form.entries()) {
      if (typeof value === 'string') {
        if (field === 'payload_json') json = JSON.parse(value);
        continue;
      }
      const bytes = Buffer.from(await value.arrayBuffer());
      files.push({ field, name: value.name, size: bytes.length, contentType: value.type, bytes });
    }
    return { json, files };
  }
  const text = raw.toString('utf8');
  try {
    return { json: JSON.parse(text), files: [] };
  } catch {
    throw new DiscordError(400, 50109, 'The request body contains invalid JSON.');
  }
}

/** A non-2xx answer: thrown by handlers, turned into the response by the router. */
export class HttpFailure extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(`HTTP ${status}`);
  }
}

/** An error answered as Discord does: `{message, code}` (plus `errors` for 50035). */
export class DiscordError extends HttpFailure {
  constructor(
    status: number,
    readonly code: number,
    message: string,
    errors?: unknown,
  ) {
    super(status, { message, code, ...(errors ? { errors } : {}) });
    this.message = message;
  }
}

/** Known codes and the messages Discord sends with them. */
export const ERROR_MESSAGES: Record<number, string> = {
  0: 'General error',
  10003: 'Unknown Channel',
  10007: 'Unknown Member',
  10008: 'Unknown Message',
  10013: 'Unknown User',
  10015: 'Unknown Webhook',
  10062: 'Unknown interaction',
  20012: 'You are not authorized to perform this action on this application',
  40005: 'Request entity too large',
  40060: 'Interaction has already been acknowledged.',
  50001: 'Missing Access',
  50005: 'Cannot edit a message authored by another user',
  50006: 'Cannot send an empty message',
  50013: 'Missing Permissions',
  50027: 'Invalid Webhook Token',
  50035: 'Invalid Form Body',
};

export function discordError(status: number, code: number, message?: string): DiscordError {
  return new DiscordError(status, code, message ?? ERROR_MESSAGES[code] ?? `${status}: fake error`);
}

/** 400 50035 with one field error, the shape Discord uses for validation failures. */
export function formError(field: string, errorCode: string, message: string): DiscordError {
  return new DiscordError(400, 50035, 'Invalid Form Body', {
    [field]: { _errors: [{ code: errorCode, message }] },
  });
}

export interface RouteMatch {
  /** The route pattern that matched, e.g. `/webhooks/:applicationId/:token/messages/@original`. */
  route: string;
  params: Record<string, string>;
}

/** Matches `/a/:b/c` against a decoded path split on `/`. */
export function matchPattern(pattern: string, path: string): Record<string, string> | undefined {
  const want = pattern.split('/');
  const got = path.split('/');
  if (want.length !== got.length) return undefined;
  const params: Record<string, string> = {};
  for (const [index, part] of want.entries()) {
    const value = got[index] ?? '';
    if (part.startsWith(':')) {
      if (!value) return undefined;
      params[part.slice(1)] = value;
    } else if (part !== value) {
      return undefined;
    }
  }
  return params;
}

/** A route for logging when nothing matched: ids replaced by `:id`. */
export function genericRoute(path: string): string {
  return path.replace(/\/\d{17,20}(?=\/|$)/g, '/:id');
}

export interface RateLimitHeaderOptions {
  limit: number;
  remaining: number;
  resetAfterSeconds: number;
  bucket: string;
}

export function rateLimitHeaders(options: RateLimitHeaderOptions): Record<string, string> {
  return {
    'x-ratelimit-limit': String(options.limit),
    'x-ratelimit-remaining': String(Math.max(0, options.remaining)),
    'x-ratelimit-reset-after': options.resetAfterSeconds.toFixed(3),
    'x-ratelimit-reset': ((Date.now() + options.resetAfterSeconds * 1000) / 1000).toFixed(3),
    'x-ratelimit-bucket': options.bucket,
  };
}

/** Permissive headers for ordinary responses: plenty remaining, so @discordjs/rest never queues. */
export function permissiveHeaders(route: string): Record<string, string> {
  return rateLimitHeaders({ limit: 50, remaining: 49, resetAfterSeconds: 1, bucket: bucketOf(route) });
}

export function bucketOf(key: string): string {
  return createHash('sha1').update(key).digest('hex').slice(0, 16);
}

export interface TooManyRequests {
  retryAfterSeconds: number;
  global?: boolean;
  scope?: 'user' | 'global' | 'shared';
  bucket?: string;
  limit?: number;
  code?: number;
}

/** A 429 as Discord sends it: Retry-After, the X-RateLimit headers and a JSON body. */
export function tooManyRequests(options: TooManyRequests): HttpFailure {
  const global = options.global ?? false;
  return new HttpFailure(
    429,
    {
      message: 'You are being rate limited.',
      retry_after: options.retryAfterSeconds,
      global,
      ...(options.code !== undefined ? { code: options.code } : {}),
    },
    {
      'retry-after': String(options.retryAfterSeconds),
      ...rateLimitHeaders({
        limit: options.limit ?? 5,
        remaining: 0,
        resetAfterSeconds: options.retryAfterSeconds,
        bucket: options.bucket ?? 'fakebucket',
      }),
      'x-ratelimit-scope': options.scope ?? (global ? 'global' : 'user'),
      ...(global ? { 'x-ratelimit-global': 'true' } : {}),
    },
  );
}

export function writeJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (response.headersSent || response.destroyed) return;
  if (status === 204 || body === undefined) {
    response.writeHead(status, headers);
    response.end();
    return;
  }
  const text = JSON.stringify(body);
  response.writeHead(status, {
    ...headers,
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(text)),
  });
  response.end(text);
}

/** A scripted failure or delay for the next matching request(s). */
export interface FaultSpec {
  method?: string;
  /** A substring of the decoded path (e.g. `/messages/@original`), an exact route pattern, or a RegExp on the path. */
  route: string | RegExp;
  /** Status to answer with; omit to only delay and then answer normally. */
  status?: number;
  code?: number;
  message?: string;
  /** How many matching requests to affect (default 1). */
  times?: number;
  /** For 429: seconds in `Retry-After` and `retry_after` (default 0.3). */
  retryAfter?: number;
  global?: boolean;
  scope?: 'user' | 'global' | 'shared';
  /** Wait this long before answering (use it to trip the REST `timeout`). */
  delayMs?: number;
  /** Only requests that upload files (true) or only those that do not (false). */
  withFiles?: boolean;
  /** Only requests whose message content (JSON `content`, or `data.content` of a callback, or a card's Text Displays) contains this. */
  contentIncludes?: string;
}

export interface Fault extends FaultSpec {
  remaining: number;
  /** How many requests this fault has answered so far. */
  hits: number;
}

export function faultMatches(
  fault: Fault,
  method: string,
  path: string,
  route: string,
  hasFiles: boolean,
  body?: unknown,
): boolean {
  if (fault.remaining <= 0) return false;
  if (fault.withFiles !== undefined && fault.withFiles !== hasFiles) return false;
  if (fault.contentIncludes !== undefined && !contentOf(body).includes(fault.contentIncludes)) return false;
  if (fault.method && fault.method.toUpperCase() !== method) return false;
  if (fault.route instanceof RegExp) return fault.route.test(path);
  return route === fault.route || path === fault.route || path.includes(fault.route);
}

function contentOf(body: unknown): string {
  const message = body as
    | { content?: unknown; components?: unknown; data?: { content?: unknown; components?: unknown } }
    | undefined;
  const content = message?.content ?? message?.data?.content;
  if (typeof content === 'string') return content;
  // A Components V2 message has its text in Text Displays.
  return textDisplaysOf(message?.components ?? message?.data?.components).join('\n');
}

function textDisplaysOf(components: unknown): string[] {
  if (!Array.isArray(components)) return [];
  return components.flatMap((component: { type?: unknown; content?: unknown; components?: unknown }) => [
    ...(component?.type === 10 && typeof component.content === 'string' ? [component.content] : []),
    ...textDisplaysOf(component?.components),
  ]);
}

export function faultFailure(fault: Fault): HttpFailure {
  const status = fault.status ?? 500;
  if (status === 429) {
    return tooManyRequests({
      retryAfterSeconds: fault.retryAfter ?? 0.3,
      global: fault.global,
      scope: fault.scope,
      code: fault.code,
    });
  }
  const code = fault.code ?? 0;
  const message =
    fault.message ?? (code ? ERROR_MESSAGES[code] : undefined) ?? `${status}: ${STATUS_CODES[status]}`;
  return new DiscordError(status, code, message);
}
