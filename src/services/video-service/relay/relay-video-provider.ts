import { Agent, type Dispatcher, errors, request } from 'undici';
import { redactParams } from '../../i18n/member-text.ts';
import { type Logger, silentLogger } from '../../logging/logger.ts';
import { surelyNeverSent } from '../never-sent.ts';
import { ServiceTextRedaction } from '../service-text-redaction.ts';
import {
  type ModelCapabilities,
  type VideoEvent,
  type VideoProvider,
  type VideoRequest,
  VideoServiceError,
} from '../video-provider.ts';
import { CHAT_CAPABILITIES } from './relay-capabilities.ts';
import { RelayEventStream } from './relay-event-stream.ts';
import { httpErrorOf, RELAY_MEMBER_TEXTS, RELAY_USER_MESSAGES } from './relay-http-errors.ts';
import { chatCompletionsBody } from './relay-request.ts';
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

const JSON_MEDIA_TYPE = /\bjson\b/i;
const CONTENT_TYPE_HEAD_CHARS = 200;

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

  /** The chat shape names options in the prompt text; relays make 5 to 15 s, landscape or portrait. */
  capabilities(): ModelCapabilities {
    return CHAT_CAPABILITIES;
  }

  async *generate(
    videoRequest: VideoRequest,
    signal: AbortSignal,
  ): AsyncGenerator<VideoEvent, void, undefined> {
    signal.throwIfAborted();
    const deadline = AbortSignal.timeout(this.options.timeoutMs);
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
        signal: AbortSignal.any([signal, deadline]),
        dispatcher: this.dispatcher,
        // Silence is a stall, whether before the headers or between two bytes of the stream.
        headersTimeout: this.options.stallTimeoutMs,
        bodyTimeout: this.options.stallTimeoutMs,
      });
      if (response.statusCode >= 400) throw await httpErrorOf(response, this.redaction);
      const events = isJson(response.headers['content-type'])
        ? stream.readDocument(response.body)
        : stream.readEventStream(response.body);
      for await (const event of events) yield this.redactEvent(event);
    } catch (error) {
      throw this.redactError(this.explain(error, { cancelled: signal, deadline }, stream.started));
    }
  }

  private redactEvent(event: VideoEvent): VideoEvent {
    const clean = (text: string) => this.redaction.text(text);
    if (event.type === 'note') return { type: 'note', text: clean(event.text) };
    if (event.type === 'failed') return { type: 'failed', reason: this.redaction.reason(event.reason) };
    if (event.type === 'succeeded') return { type: 'succeeded', urls: event.urls.map(clean) };
    return event;
  }

  /** A VideoServiceError with its messages redacted; anything else (a cancel reason) as it is. */
  private redactError(error: unknown): unknown {
    if (!(error instanceof VideoServiceError)) return error;
    return new VideoServiceError({
      kind: error.kind,
      userMessage: this.redaction.text(error.userMessage),
      memberText: error.memberText && redactParams(error.memberText, (text) => this.redaction.text(text)),
      logMessage: this.redaction.text(error.message),
      status: error.status,
      beforeAnyEvent: error.beforeAnyEvent,
      cause: error.cause,
    });
  }

  /** Maps whatever ended the request to what the caller expects: the cancel reason or a VideoServiceError. */
  private explain(
    error: unknown,
    signals: { cancelled: AbortSignal; deadline: AbortSignal },
    started: boolean,
  ): unknown {
    if (signals.cancelled.aborted) return signals.cancelled.reason;
    if (error instanceof VideoServiceError) return error;
    // Only a request that never left the bot is surely unbilled: once sent, a relay that then went
    // silent, ran out of time or hung up may already have started (and charged for) the video.
    const beforeAnyEvent = !started && surelyNeverSent(error);
    const { stallTimeoutMs, timeoutMs } = this.options;
    if (signals.deadline.aborted) {
      return new VideoServiceError({
        kind: 'timeout',
        userMessage: RELAY_USER_MESSAGES.timeout,
        memberText: RELAY_MEMBER_TEXTS.timeout,
        logMessage: `video service took longer than ${timeoutMs} ms in all`,
        beforeAnyEvent,
      });
    }
    if (error instanceof errors.HeadersTimeoutError || error instanceof errors.BodyTimeoutError) {
      return new VideoServiceError({
        kind: 'stalled',
        userMessage: RELAY_USER_MESSAGES.stalled,
        memberText: RELAY_MEMBER_TEXTS.stalled,
        logMessage: `video service sent nothing for ${stallTimeoutMs} ms`,
        beforeAnyEvent,
      });
    }
    const code = (error as { code?: unknown } | undefined)?.code;
    if (typeof code !== 'string') return error;
    return new VideoServiceError({
      kind: 'network',
      userMessage: started ? RELAY_USER_MESSAGES.connectionLost : RELAY_USER_MESSAGES.unreachable,
      memberText: started ? RELAY_MEMBER_TEXTS.connectionLost : RELAY_MEMBER_TEXTS.unreachable,
      logMessage: `video service connection failed (${code}): ${(error as Error).message}`,
      beforeAnyEvent,
      cause: error,
    });
  }
}

function isJson(contentType: string | string[] | undefined): boolean {
  return (
    typeof contentType === 'string' && JSON_MEDIA_TYPE.test(contentType.slice(0, CONTENT_TYPE_HEAD_CHARS))
  );
}
