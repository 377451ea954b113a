import { createParser, type EventSourceParser, type ParseError } from 'eventsource-parser';
import { Agent, type Dispatcher, request } from 'undici';
import { type Logger, silentLogger } from '../../logging/logger.ts';
import { ServiceTextRedaction } from '../service-text-redaction.ts';
import {
  type ModelCapabilities,
  VIDEO_DURATIONS,
  type VideoEvent,
  type VideoProvider,
  type VideoRequest,
  VideoServiceError,
  type VideoServiceErrorKind,
} from '../video-provider.ts';
import { cleanServiceMessage, collapseWhitespace } from './relay-service-text.ts';
import { RelayStreamInterpreter } from './relay-stream-interpreter.ts';
import { trimTrailing } from './relay-video-links.ts';

export interface RelayVideoProviderOptions {
  /** Base URL such as `https://relay.example.com/v1`; `/chat/completions` is added. */
  apiUrl: string;
  apiKey: string;
  /** Gives up when the service sends no byte (not even a keep-alive comment) for this long. */
  stallTimeoutMs: number;
  /** Gives up when the whole generation takes longer than this. */
  timeoutMs: number;
  logger?: Logger;
  /** An undici dispatcher (agent, pool, mock) for tests and benchmarks. */
  dispatcher?: Dispatcher;
}

const ORIENTATION_HINTS = { landscape: 'landscape 16:9', portrait: 'portrait 9:16' } as const;
/** A few broken frames are skipped; this many in a row means the reply is not a relay stream. */
const MAX_UNDECODABLE_FRAMES = 8;
const MAX_JSON_REPLY_BYTES = 1024 * 1024;
const MAX_ERROR_BODY_BYTES = 8 * 1024;
const MAX_PARSER_BUFFER_CHARS = 4 * 1024 * 1024;
const EXCERPT_CHARS = 200;
const HTML_START = /<[a-z!]/i;
const JSON_MEDIA_TYPE = /\bjson\b/i;

const USER_MESSAGES = {
  auth: "The video service rejected the bot's credentials, or the bot's balance there is empty. Please tell the bot's owner.",
  rateLimited: 'The video service is busy right now. Please try again in a minute.',
  unreachable: 'The bot could not reach the video service. Please try again in a few minutes.',
  connectionLost: 'The connection to the video service was lost while the video was being made.',
  stalled: 'The video service stopped responding while the video was being made.',
  timeout: 'The video took too long to make, so the bot stopped waiting.',
  unreadable: 'The video service sent a reply the bot could not read.',
} as const;

/** The prompt plus the plain-text hints relays understand (`duration: 10 seconds`, `portrait 9:16`). */
export function buildPromptText(request: VideoRequest): string {
  const hints: string[] = [];
  if (request.durationSeconds) hints.push(`duration: ${request.durationSeconds} seconds`);
  if (request.orientation) hints.push(ORIENTATION_HINTS[request.orientation]);
  return hints.length > 0 ? `${request.prompt}\n\n${hints.join(', ')}` : request.prompt;
}

function chatCompletionsBody(request: VideoRequest): string {
  const content: object[] = [{ type: 'text', text: buildPromptText(request) }];
  if (request.imageUrl) content.push({ type: 'image_url', image_url: { url: request.imageUrl } });
  return JSON.stringify({ model: request.model, stream: true, messages: [{ role: 'user', content }] });
}

/**
 * A video service reached through an OpenAI-style relay: one streaming chat completion per video.
 *
 * Cancelling: when the caller's signal aborts, the request is torn down and `generate` throws
 * `signal.reason` itself (a DOMException named AbortError unless the caller gave a reason), never
 * a VideoServiceError, so the caller can tell a cancel from a failure.
 *
 * Whatever the service says reaches the caller through one redaction (ServiceTextRedaction): the
 * key, its bearer form and anything shaped like a credential are masked in every event's text and
 * URLs and in every error's messages, whatever the relay echoed.
 */
const CHAT_CAPABILITIES: ModelCapabilities = {
  durations: VIDEO_DURATIONS,
  orientations: ['landscape', 'portrait'],
  imageInput: true,
  progress: 'text',
  remix: false,
};

export class RelayVideoProvider implements VideoProvider {
  private readonly endpoint: string;
  private readonly logger: Logger;
  private readonly dispatcher: Dispatcher;
  private readonly redaction: ServiceTextRedaction;

  constructor(private readonly options: RelayVideoProviderOptions) {
    this.redaction = new ServiceTextRedaction([options.apiKey, `Bearer ${options.apiKey}`]);
    const base = trimTrailing(options.apiUrl, '/');
    this.endpoint = base.endsWith('/chat/completions') ? base : `${base}/chat/completions`;
    this.logger = options.logger ?? silentLogger;
    // Never undici's process-wide dispatcher: discord.js uses it with its own undici version,
    // and whichever version creates it first owns it.
    this.dispatcher = options.dispatcher ?? new Agent();
  }

  /** The chat shape names options in the prompt text; relays make 5 to 15 s in either orientation. */
  capabilities(): ModelCapabilities {
    return CHAT_CAPABILITIES;
  }

  async *generate(
    videoRequest: VideoRequest,
    signal: AbortSignal,
  ): AsyncGenerator<VideoEvent, void, undefined> {
    signal.throwIfAborted();
    const watchdog = new Watchdog(signal, this.options.stallTimeoutMs, this.options.timeoutMs);
    const interpreter = new RelayStreamInterpreter({
      redaction: this.redaction,
      prompt: videoRequest.prompt,
    });
    const stream = new RelayEventStream(interpreter, this.redaction);
    this.logger.debug('video_service_request', {
      model: videoRequest.model,
      hasImage: !!videoRequest.imageUrl,
    });
    try {
      const response = await request(this.endpoint, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${this.options.apiKey}`,
          'content-type': 'application/json',
          accept: 'text/event-stream',
        },
        body: chatCompletionsBody(videoRequest),
        signal: watchdog.signal,
        dispatcher: this.dispatcher,
        // The watchdog's stall and overall timers govern waiting, whatever undici's defaults.
        headersTimeout: 0,
        bodyTimeout: 0,
      });
      watchdog.touch();
      if (response.statusCode >= 400) throw await this.httpError(response);
      const events = isJson(response.headers['content-type'])
        ? stream.readDocument(response.body, watchdog)
        : stream.readEventStream(response.body, watchdog);
      for await (const event of events) {
        watchdog.consumerBusy = true;
        yield this.redactEvent(event);
        watchdog.consumerBusy = false;
        watchdog.touch();
      }
    } catch (error) {
      throw this.redactError(this.explain(error, watchdog, stream.started, signal));
    } finally {
      watchdog.dispose();
    }
  }

  private async httpError(response: Dispatcher.ResponseData): Promise<VideoServiceError> {
    const status = response.statusCode;
    const body = this.redaction.withoutSecrets(await readBounded(response.body, MAX_ERROR_BODY_BYTES));
    const said = serviceMessageOf(body);
    const { kind, userMessage } = describeHttpFailure(status, said);
    return new VideoServiceError({
      kind,
      userMessage,
      status,
      beforeAnyEvent: true,
      logMessage: `video service answered HTTP ${status}: ${excerpt(body)}`,
    });
  }

  private redactEvent(event: VideoEvent): VideoEvent {
    const clean = (text: string) => this.redaction.text(text);
    if (event.type === 'note') return { type: 'note', text: clean(event.text) };
    if (event.type === 'failed') return { type: 'failed', reason: clean(event.reason) };
    if (event.type === 'succeeded') return { type: 'succeeded', urls: event.urls.map(clean) };
    return event;
  }

  /** A VideoServiceError with its messages redacted; anything else (a cancel reason) as it is. */
  private redactError(error: unknown): unknown {
    if (!(error instanceof VideoServiceError)) return error;
    return new VideoServiceError({
      kind: error.kind,
      userMessage: this.redaction.text(error.userMessage),
      logMessage: this.redaction.text(error.message),
      status: error.status,
      beforeAnyEvent: error.beforeAnyEvent,
      cause: error.cause,
    });
  }

  /** Maps whatever ended the request to what the caller expects: the cancel reason or a VideoServiceError. */
  private explain(error: unknown, watchdog: Watchdog, started: boolean, signal: AbortSignal): unknown {
    if (watchdog.stopCause === 'cancelled') return signal.reason;
    if (error instanceof VideoServiceError) return error;
    const beforeAnyEvent = !started;
    const cause = watchdog.stopCause;
    if (cause) {
      const { stallTimeoutMs, timeoutMs } = this.options;
      const logMessage = `video service ${cause} (limits: ${stallTimeoutMs} ms of silence, ${timeoutMs} ms in all)`;
      return new VideoServiceError({
        kind: cause,
        userMessage: USER_MESSAGES[cause],
        logMessage,
        beforeAnyEvent,
      });
    }
    const code = (error as { code?: unknown } | undefined)?.code;
    if (typeof code !== 'string') return error;
    return new VideoServiceError({
      kind: 'network',
      userMessage: started ? USER_MESSAGES.connectionLost : USER_MESSAGES.unreachable,
      logMessage: `video service connection failed (${code}): ${(error as Error).message}`,
      beforeAnyEvent,
      cause: error,
    });
  }
}

/**
 * One reply body turned into VideoEvents: SSE frames are decoded and fed to the interpreter, and the
 * reading stops at the first outcome, at `[DONE]` or when the reply turns out to be garbage.
 */
class RelayEventStream {
  /** True once the service sent a decodable frame: from then on a retry might pay for a second video. */
  started = false;
  private done = false;
  private undecodableInRow = 0;
  private unreadableLines = 0;
  private overflowed = false;
  private firstUnreadable: string | undefined;
  private batch: VideoEvent[] = [];
  private readonly parser: EventSourceParser;

  constructor(
    private readonly interpreter: RelayStreamInterpreter,
    private readonly redaction: ServiceTextRedaction,
  ) {
    this.parser = createParser({
      onEvent: (message) => this.onData(message.data),
      onError: (error) => this.onUnreadable(error),
      maxBufferSize: MAX_PARSER_BUFFER_CHARS,
    });
  }

  async *readEventStream(
    body: Dispatcher.ResponseData['body'],
    watchdog: Watchdog,
  ): AsyncGenerator<VideoEvent> {
    const decoder = new TextDecoder();
    for await (const bytes of body as AsyncIterable<Uint8Array>) {
      watchdog.touch();
      this.parser.feed(decoder.decode(bytes, { stream: true }));
      this.failIfGarbage();
      const events = this.takeBatch();
      for (const event of events) {
        yield event;
        if (isOutcome(event)) return;
      }
      if (this.done) break;
    }
    if (!this.done) {
      this.parser.feed(decoder.decode());
      this.parser.reset({ consume: true });
    }
    const events = this.takeBatch();
    for (const event of events) {
      yield event;
      if (isOutcome(event)) return;
    }
    if (!this.started) throw this.unreadable('the reply held no event-stream frame');
    yield this.interpreter.finish();
  }

  /** A relay that ignored `stream: true` and answered one JSON document. */
  async *readDocument(body: Dispatcher.ResponseData['body'], watchdog: Watchdog): AsyncGenerator<VideoEvent> {
    const text = await readBounded(body, MAX_JSON_REPLY_BYTES);
    watchdog.touch();
    let document: unknown;
    try {
      document = JSON.parse(text);
    } catch {
      this.firstUnreadable = text;
      throw this.unreadable('the JSON reply did not parse');
    }
    this.started = true;
    const events = this.interpreter.push(document);
    yield* events;
    if (!events.some(isOutcome)) yield this.interpreter.finish();
  }

  private onData(data: string): void {
    if (this.done) return;
    if (data === '[DONE]') {
      this.started = true;
      this.done = true;
      return;
    }
    let payload: unknown = data;
    try {
      payload = JSON.parse(data);
      this.started = true;
      this.undecodableInRow = 0;
    } catch {
      this.undecodableInRow += 1;
      this.firstUnreadable ??= data;
    }
    const events = this.interpreter.push(payload);
    if (events.length > 0) this.batch.push(...events);
  }

  private onUnreadable(error: ParseError): void {
    this.unreadableLines += 1;
    this.firstUnreadable ??= error.line ?? error.message;
    if (error.type === 'max-buffer-size-exceeded') this.overflowed = true;
  }

  private failIfGarbage(): void {
    if (this.overflowed) throw this.unreadable('an event larger than the parser buffer');
    if (this.undecodableInRow > MAX_UNDECODABLE_FRAMES) {
      throw this.unreadable(`${this.undecodableInRow} undecodable data frames in a row`);
    }
    if (!this.started && this.unreadableLines > MAX_UNDECODABLE_FRAMES) {
      throw this.unreadable(`${this.unreadableLines} lines that are not server-sent events`);
    }
  }

  private takeBatch(): VideoEvent[] {
    const events = this.batch;
    if (events.length > 0) this.batch = [];
    return events;
  }

  private unreadable(what: string): VideoServiceError {
    const first = this.firstUnreadable;
    const sample = first === undefined ? '' : `; first: ${this.redaction.cutToSize(first, excerpt)}`;
    return new VideoServiceError({
      kind: 'protocol',
      userMessage: USER_MESSAGES.unreadable,
      logMessage: `video service reply unreadable: ${what}${sample}`,
      beforeAnyEvent: !this.started,
    });
  }
}

type StopCause = 'cancelled' | Extract<VideoServiceErrorKind, 'stalled' | 'timeout'>;

/** One abort signal for the request, fired by the caller, by silence, or by the overall deadline. */
class Watchdog {
  readonly signal: AbortSignal;
  stopCause: StopCause | undefined;
  /** While the caller handles an event, bytes are not read, so silence then is not the service's. */
  consumerBusy = false;
  private readonly controller = new AbortController();
  private readonly stallTimer: NodeJS.Timeout;
  private readonly deadlineTimer: NodeJS.Timeout;
  private readonly onCallerAbort = () => this.stop('cancelled');

  constructor(
    private readonly caller: AbortSignal,
    stallTimeoutMs: number,
    timeoutMs: number,
  ) {
    this.signal = this.controller.signal;
    caller.addEventListener('abort', this.onCallerAbort, { once: true });
    // Unref'd: the open request keeps the process alive, these timers alone should not.
    this.stallTimer = setTimeout(() => {
      if (!this.consumerBusy) this.stop('stalled');
    }, stallTimeoutMs).unref();
    this.deadlineTimer = setTimeout(() => this.stop('timeout'), timeoutMs).unref();
  }

  /** Bytes arrived (or the caller is back): the stall clock starts again. */
  touch(): void {
    this.stallTimer.refresh();
  }

  dispose(): void {
    this.clearTimers();
    this.caller.removeEventListener('abort', this.onCallerAbort);
  }

  private clearTimers(): void {
    clearTimeout(this.stallTimer);
    clearTimeout(this.deadlineTimer);
  }

  private stop(cause: StopCause): void {
    if (this.stopCause) return;
    this.stopCause = cause;
    this.clearTimers();
    this.controller.abort(cause === 'cancelled' ? this.caller.reason : new Error(`video service ${cause}`));
  }
}

function describeHttpFailure(
  status: number,
  said: string | undefined,
): { kind: VideoServiceErrorKind; userMessage: string } {
  if (status === 401 || status === 403) return { kind: 'auth', userMessage: USER_MESSAGES.auth };
  if (status === 429) return { kind: 'rate_limited', userMessage: USER_MESSAGES.rateLimited };
  if (status >= 500) {
    const detail = said ? ` (it said: ${said})` : '';
    return {
      kind: 'unavailable',
      userMessage: `The video service is having trouble right now${detail}. Please try again later.`,
    };
  }
  const detail = said ? `: ${said}` : '.';
  return { kind: 'rejected', userMessage: `The video service refused this request${detail}` };
}

/** The service's own words from an error body: `{error:{message}}`, `{detail}`, `{message}` or plain text. */
function serviceMessageOf(body: string): string | undefined {
  let said: unknown = body;
  try {
    const parsed = JSON.parse(body) as Record<string, unknown> | null;
    const error = parsed?.error as Record<string, unknown> | string | undefined;
    said =
      typeof error === 'object' && error !== null
        ? error.message
        : (error ?? parsed?.detail ?? parsed?.message);
    if (Array.isArray(said)) said = (said[0] as { msg?: unknown } | undefined)?.msg;
  } catch {
    if (HTML_START.test(body)) return undefined;
  }
  return typeof said === 'string' ? cleanServiceMessage(said) || undefined : undefined;
}

async function readBounded(body: Dispatcher.ResponseData['body'], maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= maxBytes) break;
  }
  return Buffer.concat(chunks).subarray(0, maxBytes).toString('utf8');
}

function isJson(contentType: string | string[] | undefined): boolean {
  return typeof contentType === 'string' && JSON_MEDIA_TYPE.test(contentType.slice(0, EXCERPT_CHARS));
}

function isOutcome(event: VideoEvent): boolean {
  return event.type === 'succeeded' || event.type === 'failed';
}

function excerpt(text: string): string {
  const flat = collapseWhitespace(text, EXCERPT_CHARS);
  return flat.length > EXCERPT_CHARS ? `${flat.slice(0, EXCERPT_CHARS)}…` : flat;
}
