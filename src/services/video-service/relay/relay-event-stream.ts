import { createParser, type EventSourceParser, type ParseError } from 'eventsource-parser';
import type { Dispatcher } from 'undici';
import { excerpt } from '../service-error-text.ts';
import type { ServiceTextRedaction } from '../service-text-redaction.ts';
import { type VideoEvent, VideoServiceError } from '../video-provider.ts';
import { RELAY_MEMBER_TEXTS, RELAY_USER_MESSAGES, readBounded } from './relay-http-errors.ts';
import type { RelayStreamInterpreter } from './relay-stream-interpreter.ts';

/** A few broken frames are skipped; this many in a row means the reply is not a relay stream. */
const MAX_UNDECODABLE_FRAMES = 8;
const MAX_JSON_REPLY_BYTES = 1024 * 1024;
const MAX_PARSER_BUFFER_CHARS = 4 * 1024 * 1024;

/**
 * One reply body turned into VideoEvents: SSE frames are decoded and fed to the interpreter, and the
 * reading stops at the first outcome, at `[DONE]` or when the reply turns out to be garbage.
 */
export class RelayEventStream {
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

  async *readEventStream(body: Dispatcher.ResponseData['body']): AsyncGenerator<VideoEvent> {
    const decoder = new TextDecoder();
    for await (const bytes of body as AsyncIterable<Uint8Array>) {
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
  async *readDocument(body: Dispatcher.ResponseData['body']): AsyncGenerator<VideoEvent> {
    const text = await readBounded(body, MAX_JSON_REPLY_BYTES);
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
      userMessage: RELAY_USER_MESSAGES.unreadable,
      memberText: RELAY_MEMBER_TEXTS.unreadable,
      logMessage: `video service reply unreadable: ${what}${sample}`,
      beforeAnyEvent: !this.started,
    });
  }
}

export function isOutcome(event: VideoEvent): boolean {
  return event.type === 'succeeded' || event.type === 'failed';
}
