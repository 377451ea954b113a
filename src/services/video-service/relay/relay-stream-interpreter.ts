import { type MemberText, memberText } from '../../i18n/member-text.ts';
import { ServiceTextRedaction } from '../service-text-redaction.ts';
import type { VideoEvent } from '../video-provider.ts';
import { isAboutProgress, lastPercentToken, ProgressLineShape, progressToken } from './relay-percent.ts';
import {
  bounded,
  collapseWhitespace,
  GENERIC_FAILURE_REASON,
  MAX_REASON_INPUT_CHARS,
  memberSafeReason,
} from './relay-service-text.ts';
import { boundedLine, TextChannel } from './relay-text-lines.ts';
import { findLinks, outputLink, urlsIn, VideoLinks } from './relay-video-links.ts';
import {
  CONTENT_POLICY_HEADING,
  FAILED,
  FAILURE_PREFIX,
  GENERATING,
  IDENTIFIER_LINE,
  MAYBE_FAILED,
  MIGHT_BE_OUTCOME,
  PROMPT_LINE,
  QUEUED,
  RETRYING,
  SUCCEEDED,
} from './relay-vocabulary.ts';

/**
 * Reads what a video relay streams over chat completions and says what it means as VideoEvents.
 *
 * Relays differ by the upstream they run, not by brand (see test/fixtures/streams): markdown lines
 * in `content` (progress `进度：36.0%`, a `[点击这里](…mp4)` link), token-by-token text where later
 * progress arrives as bare `44..`, progress only in `reasoning_content` with an html `<video>` tag
 * at the end, signed URLs with no extension. So the text of each channel is read line by line,
 * whatever the chunk boundaries; the unfinished last line is only peeked at for progress. Nothing
 * but that last line is kept, so the cost per chunk stays flat however long the stream runs.
 *
 * Everything here reads what a third party wrote: every line is stripped of secrets, cut to
 * MAX_LINE_CHARS and stripped of credential-shaped text before any pattern looks at it, and every
 * pattern is one that matches in linear time (test/services/redos.test.ts checks them all).
 */

/** Also exported from here, where the other video-service clients (videos-api) import them. */
export { cleanServiceMessage, memberSafeReason } from './relay-service-text.ts';

export const NO_VIDEO_REASON: MemberText = memberText('failure.noVideo');
const CONTENT_FILTER_REASON: MemberText = memberText('failure.service.contentFilter');

const NO_EVENTS: readonly VideoEvent[] = Object.freeze([]);
/** Where a line says what it is about (`> 🏃 进度`, `**Video Generation Progress**`, `> 排队中`). */
const LINE_HEAD_CHARS = 64;
/** Enough of the text before a chunk to complete a number split across chunks (`100.0%`). */
const TOKEN_OVERLAP_CHARS = 12;
const MAX_NOTE_CHARS = 160;

const SPACE = 32;
const TAB = 9;
const QUOTE_MARK = 62; // `>`
const HEADING_MARK = 35; // `#`
const IDEOGRAPHIC_SPACE = 0x3000;

const HAS_LETTER = /\p{L}/u;

/** What `visibleText` takes away; the same linear shapes as the link scanner's. */
const MARKDOWN_IMAGE = /!\[[^[\]]*\]\([^()]*\)/g;
const MARKDOWN_LINK = /\[([^[\]]*)\]\(([^()\s]+)\)/g;
const HTML_TAG = /<[^<>]*>/g;
const EMPHASIS = /\*\*|__|`/g;
const WEB_LINK = /https?:\/\/[^\s<>"'`)\]]+/g;
const LEADING_NON_WORD = /^[^\p{L}\p{N}]+/u;
const WORD_CHARACTER = /[\p{L}\p{N}]/u;
const JSON_LIKE_PAYLOAD = /^\s*[{[]/;
const HEAD_BEYOND_NUMBER = /[^\d. ]/;
/** What may end a failure reason; anything else trailing (`❌`, `~~~`) is trimmed. */
const REASON_END = '.!?)）。';

export interface RelayStreamInterpreterOptions {
  /** Masks the service key (and credential-shaped text) in everything read. */
  redaction?: ServiceTextRedaction;
  /** The prompt the member sent: links in it are theirs, never the video. */
  prompt?: string;
}

type Phase = 'starting' | 'queued' | 'generating';

export class RelayStreamInterpreter {
  private readonly redaction: ServiceTextRedaction;
  private readonly content: TextChannel;
  private readonly reasoning: TextChannel;
  private readonly links: VideoLinks;
  private readonly progressShape = new ProgressLineShape();
  private emitted: VideoEvent[] | undefined;
  private outcome: VideoEvent | undefined;
  private phase: Phase = 'starting';
  private percent: number | undefined;
  private successMarkerSeen = false;
  /** The line before was progress, so a bare `44..` line continues it. */
  private afterProgressLine = false;
  /** A failure heading (`**Content Policy Violation**`) whose reason is on the next line. */
  private failureHeading: string | MemberText | undefined;
  /** The latest failure that does not end the stream by itself; reported if no video comes. */
  private failureHint: string | MemberText | undefined;
  /** Inside a sora2api retry block: failures there are the failed attempt's, not the job's. */
  private retrying = false;
  private lastNote: string | undefined;

  constructor(options: RelayStreamInterpreterOptions = {}) {
    this.redaction = options.redaction ?? new ServiceTextRedaction([]);
    this.content = new TextChannel(this.redaction, (line) => this.readLine(line));
    this.reasoning = new TextChannel(this.redaction, (line) => this.readLine(line));
    this.links = new VideoLinks(urlsIn(options.prompt ?? ''));
  }

  /** Takes one SSE data payload: the parsed JSON, or the raw string when it was not JSON. */
  push(payload: unknown): readonly VideoEvent[] {
    if (this.outcome) return NO_EVENTS;
    if (typeof payload === 'string') {
      if (!JSON_LIKE_PAYLOAD.test(payload.slice(0, LINE_HEAD_CHARS))) this.readText(this.content, payload);
    } else if (isRecord(payload)) {
      this.readChunk(payload);
    }
    const events = this.emitted ?? NO_EVENTS;
    this.emitted = undefined;
    return events;
  }

  /** The final event, once the stream has ended; repeats the decided outcome if there was one. */
  finish(): VideoEvent {
    if (!this.outcome) {
      this.reasoning.flush();
      this.content.flush();
    }
    this.emitted = undefined;
    this.outcome ??= this.verdict();
    return this.outcome;
  }

  private readChunk(chunk: Record<string, unknown>): void {
    if (chunk.error) {
      const message = errorMessageOf(chunk.error);
      this.fail(message === undefined ? GENERIC_FAILURE_REASON : this.serviceReason(message));
      return;
    }
    const choice = Array.isArray(chunk.choices) ? chunk.choices[0] : undefined;
    if (!isRecord(choice)) return;
    const delta = isRecord(choice.delta) ? choice.delta : undefined;
    const message = isRecord(choice.message) ? choice.message : undefined;
    this.readText(this.reasoning, delta?.reasoning_content);
    this.readText(this.content, delta?.content);
    this.readText(this.content, message?.content);
    this.readOutputs(delta?.output);
    if (choice.finish_reason === 'content_filter') this.failureHint ??= CONTENT_FILTER_REASON;
    // The completion is over: a link that was waiting for something better is the best there is.
    else if (typeof choice.finish_reason === 'string' && !this.outcome && this.links.hasCandidate) {
      this.succeed();
    }
  }

  /** A failure text from the service, secrets masked before it is cut to size. */
  private serviceReason(message: string): string {
    return this.redaction.cutToSize(message, (text) => collapseWhitespace(text, MAX_REASON_INPUT_CHARS));
  }

  private readText(channel: TextChannel, value: unknown): void {
    const text = textOf(value);
    if (!text || this.outcome) return;
    channel.append(text);
    if (!this.outcome) this.peek(channel, text);
  }

  /** Structured results some sora2api forks add: `delta.output: [{ url, type: 'video' }]`. */
  private readOutputs(value: unknown): void {
    if (!Array.isArray(value) || this.outcome) return;
    for (const output of value) {
      if (!isRecord(output) || typeof output.url !== 'string') continue;
      if (output.type !== undefined && output.type !== 'video') continue;
      const link = outputLink(this.redaction.cutToSize(output.url, boundedLine));
      if (link) this.links.add(link, 'result');
    }
    if (this.links.decisive) this.succeed();
  }

  /**
   * Progress and queue state on a line still arriving token by token. What the line is about is
   * read from its head, again only while the head is still growing with more than digits and dots;
   * numbers are looked for only in what this chunk added.
   */
  private peek(channel: TextChannel, added: string): void {
    const partial = channel.partialLine;
    if (!partial) return;
    const headGrew =
      partial.length - added.length < LINE_HEAD_CHARS &&
      HEAD_BEYOND_NUMBER.test(added.slice(0, LINE_HEAD_CHARS));
    if (channel.partialIsProgress === undefined || headGrew) {
      channel.partialIsProgress = this.readPartialHead(partial.slice(0, LINE_HEAD_CHARS));
    }
    if (!channel.partialIsProgress) return;
    const from = Math.max(0, partial.length - added.length - TOKEN_OVERLAP_CHARS);
    const token = lastPercentToken(partial, from, false);
    if (token) this.reportProgress(token.percent);
  }

  /** Reports the state the head of an unfinished line names; true when the line carries progress. */
  private readPartialHead(head: string): boolean {
    if (head.includes('://')) return false;
    if (QUEUED.test(head)) this.reportQueued();
    else if (GENERATING.test(head)) this.reportProgress(undefined);
    return isAboutProgress(head, this.afterProgressLine);
  }

  private readLine(raw: string): void {
    if (this.outcome || raw.length === 0) return;
    if (this.failureHeading === undefined && this.readPlainProgress(raw)) return;
    const outcomeLike = MIGHT_BE_OUTCOME.test(raw);
    const text = visibleText(raw);
    if (!text && !raw.includes('://')) return;
    if (this.failureHeading !== undefined) {
      this.fail(failureReason(text) || this.failureHeading);
      return;
    }
    const continuesProgress = this.afterProgressLine;
    this.afterProgressLine = false;
    const words = withoutWebLinks(text);
    if (outcomeLike && RETRYING.test(text)) {
      this.retrying = true;
      this.note(text);
    } else if (outcomeLike && FAILED.test(text) && !this.retrying) {
      this.readFailure(text);
    } else if (!(outcomeLike && this.readLinks(raw, words)) && !this.readProgress(words, continuesProgress)) {
      this.readStatus(words, outcomeLike);
    }
  }

  /**
   * Most lines are plain progress, so they are read first, as they come: a line shaped like the last
   * progress line but for its number at once, any other line only when nothing on it could be an outcome.
   */
  private readPlainProgress(raw: string): boolean {
    let percent = this.progressShape.percentOf(raw);
    if (percent === undefined) {
      if (MIGHT_BE_OUTCOME.test(raw)) return false;
      const token = progressToken(raw, this.afterProgressLine);
      if (!token) return false;
      this.progressShape.remember(raw, token);
      percent = token.percent;
    }
    this.afterProgressLine = true;
    this.reportProgress(percent);
    return true;
  }

  private readProgress(text: string, continuesProgress: boolean): boolean {
    const token = progressToken(text, continuesProgress);
    if (!token) return false;
    this.afterProgressLine = true;
    this.reportProgress(token.percent);
    return true;
  }

  /** A line that is neither an outcome nor a percentage: a state, a hint of failure, or a note. */
  private readStatus(text: string, outcomeLike: boolean): void {
    if (QUEUED.test(text)) this.reportQueued();
    else if (GENERATING.test(text)) this.reportProgress(undefined);
    else if (outcomeLike && (FAILED.test(text) || MAYBE_FAILED.test(text))) {
      this.failureHint = failureReason(text) || GENERIC_FAILURE_REASON;
    } else if (!IDENTIFIER_LINE.test(text) && !PROMPT_LINE.test(text) && HAS_LETTER.test(text)) {
      this.note(text);
    }
  }

  /**
   * Collects the video links of a line; true when the line held a link or a success marker. Links
   * on a progress or queue line (a preview clip) or in the prompt read back are never the video;
   * links on or after the success marker outrank any before it.
   */
  private readLinks(raw: string, text: string): boolean {
    const marked = SUCCEEDED.test(raw);
    if (marked) this.successMarkerSeen = true;
    if (!raw.includes('://')) return marked;
    if (!marked && isStatusOrEcho(text)) return false;
    const place = this.successMarkerSeen ? 'result' : 'loose';
    for (const link of findLinks(raw)) this.links.add(link, place);
    if (this.links.decisive) this.succeed();
    return true;
  }

  private readFailure(text: string): void {
    const reason = failureReason(text);
    if (reason && !CONTENT_POLICY_HEADING.test(reason)) this.fail(reason);
    else this.failureHeading = reason || GENERIC_FAILURE_REASON;
  }

  private verdict(): VideoEvent {
    const urls = this.links.urls();
    if (urls.length > 0) return { type: 'succeeded', urls };
    const reason = this.failureHeading ?? this.failureHint;
    return { type: 'failed', reason: reason === undefined ? NO_VIDEO_REASON : safeReason(reason) };
  }

  private succeed(): void {
    this.decide({ type: 'succeeded', urls: this.links.urls() });
  }

  private fail(reason: string | MemberText): void {
    this.decide({ type: 'failed', reason: safeReason(reason) });
  }

  private decide(outcome: VideoEvent): void {
    this.outcome = outcome;
    this.emit(outcome);
  }

  private reportQueued(): void {
    this.retrying = false;
    if (this.phase === 'queued') return;
    this.phase = 'queued';
    this.emit({ type: 'queued' });
  }

  /** Emits when the percentage rises, or when generation starts (with or without a number). */
  private reportProgress(percent: number | undefined): void {
    this.retrying = false;
    const rises = percent !== undefined && (this.percent === undefined || percent > this.percent);
    if (!rises && this.phase === 'generating') return;
    if (rises) this.percent = percent;
    this.phase = 'generating';
    this.emit(
      this.percent === undefined ? { type: 'progress' } : { type: 'progress', percent: this.percent },
    );
  }

  private note(text: string): void {
    const short = bounded(text, MAX_NOTE_CHARS);
    if (short === this.lastNote) return;
    this.lastNote = short;
    this.emit({ type: 'note', text: short });
  }

  private emit(event: VideoEvent): void {
    if (this.emitted) this.emitted.push(event);
    else this.emitted = [event];
  }
}

/** Progress, queue and generating lines, and the prompt read back: their links are never the video. */
function isStatusOrEcho(words: string): boolean {
  return (
    PROMPT_LINE.test(words) || QUEUED.test(words) || GENERATING.test(words) || isAboutProgress(words, false)
  );
}

/** The words of a line, its URLs taken out: a `…/processing/v2.mp4` is neither progress nor a number. */
function withoutWebLinks(text: string): string {
  return text.includes('://') ? text.replace(WEB_LINK, ' ').trim() : text;
}

/** The text a member would see: no quote markers, markdown emphasis, link targets or html tags. */
function visibleText(raw: string): string {
  let text = raw;
  if (text.includes('](')) text = text.replace(MARKDOWN_IMAGE, '').replace(MARKDOWN_LINK, '$1');
  if (text.includes('<')) text = text.replace(HTML_TAG, '');
  if (text.includes('**') || text.includes('__') || text.includes('`')) text = text.replace(EMPHASIS, '');
  let start = 0;
  while (start < text.length && isQuoteOrSpace(text.charCodeAt(start))) start += 1;
  return (start > 0 ? text.slice(start) : text).trim();
}

function isQuoteOrSpace(code: number): boolean {
  return (
    code === QUOTE_MARK ||
    code === HEADING_MARK ||
    code === SPACE ||
    code === TAB ||
    code === IDEOGRAPHIC_SPACE
  );
}

/** The reason inside a failure line: `❌ 生成失败: <reason>` → `<reason>`; empty for a bare heading. */
function failureReason(text: string): string {
  let reason = trimTrailingNonWords(text.replace(LEADING_NON_WORD, ''));
  for (let previous = ''; previous !== reason; ) {
    previous = reason;
    reason = reason.replace(FAILURE_PREFIX, '').replace(LEADING_NON_WORD, '');
  }
  return reason;
}

/** Drops what trails the last letter, digit or sentence end; a loop, since `[^…]+$` would scan quadratically. */
function trimTrailingNonWords(text: string): string {
  let end = text.length;
  while (end > 0) {
    const last = text.codePointAt(end - 1) ?? 0;
    const isLowSurrogate = last >= 0xdc00 && last <= 0xdfff && end >= 2;
    const start = isLowSurrogate ? end - 2 : end - 1;
    const character = String.fromCodePoint(text.codePointAt(start) ?? 0);
    if (WORD_CHARACTER.test(character) || REASON_END.includes(character)) break;
    end = start;
  }
  return text.slice(0, end);
}

function errorMessageOf(error: unknown): string | undefined {
  if (typeof error === 'string') return error;
  if (isRecord(error) && typeof error.message === 'string') return error.message;
  return undefined;
}

function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (!Array.isArray(value)) return '';
  return value.map((part) => (isRecord(part) && typeof part.text === 'string' ? part.text : '')).join('');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The service's words made fit to show; the bot's own (a text to translate) as they are. */
function safeReason(reason: string | MemberText): string | MemberText {
  return typeof reason === 'string' ? memberSafeReason(reason) : reason;
}
