import type { VideoEvent } from './video-provider.ts';

/**
 * Reads what a video relay streams over chat completions and says what it means as VideoEvents.
 *
 * Relays differ by the upstream they run, not by brand (see test/fixtures/streams): markdown lines
 * in `content` (progress `进度：36.0%`, a `[点击这里](…mp4)` link), token-by-token text where later
 * progress arrives as bare `44..`, progress only in `reasoning_content` with an html `<video>` tag
 * at the end, signed URLs with no extension. So the text of each channel is read line by line,
 * whatever the chunk boundaries; the unfinished last line is only peeked at for progress. Nothing
 * but that last line is kept, so the cost per chunk stays flat however long the stream runs.
 */

export const NO_VIDEO_REASON = 'The service returned no video.';
const GENERIC_FAILURE_REASON = 'The service could not make this video.';
const CONTENT_FILTER_REASON = "The video service's content filter blocked this video.";

const NO_EVENTS: readonly VideoEvent[] = Object.freeze([]);
const MAX_LINE_CHARS = 16_384;
/** Where a line says what it is about (`> 🏃 进度`, `**Video Generation Progress**`, `> 排队中`). */
const LINE_HEAD_CHARS = 64;
/** Enough of the text before a chunk to complete a number split across chunks (`100.0%`). */
const TOKEN_OVERLAP_CHARS = 12;
const MAX_REASON_CHARS = 300;
const MAX_NOTE_CHARS = 160;
const MAX_LINKS = 20;

const DIGIT_0 = 48;
const DIGIT_9 = 57;
const DOT = 46;
const SPACE = 32;
const PERCENT = 37;
const TAB = 9;
const QUOTE_MARK = 62; // `>`
const HEADING_MARK = 35; // `#`
const IDEOGRAPHIC_SPACE = 0x3000;

const QUEUED = /⌛|任务正在队列中|排队|queuing|queueing|in the queue|\bqueued\b/i;
const GENERATING = /生成中|正在生成|\bgenerating\b|\brendering\b/i;
const PROGRESS_WORD = /进度|progress|🏃|生成中|generating|rendering|processing|running|处理中/i;
const PERCENT_ONLY = /^\W*\d{1,3}(?:\.\d+)?\s*%\W*$/;
const BARE_PROGRESS_TOKEN = /^\d{1,3}(?:\.\d+)?(?:\.{2,}|%)?(?:\s|$)/;

/** Any outcome marker, link or retry could be on the line: one cheap test spares the others on progress lines. */
const MIGHT_BE_OUTCOME =
  /[❌✅<]|失败|错误|出错|成功|完成|重试|:\/\/|polic|guardrail|moderation|success|succeeded|complete|finished|retry|fail|error/i;
const SUCCEEDED =
  /✅|成功|已完成|生成完成|generated successfully|generat(?:ion|ing) complete|\b(?:completed|succeeded|successful(?:ly)?|finished)\b|<video/i;
/** sora2api prints `**生成失败，正在重试**` before a retry: a note, not the end. */
const RETRYING = /正在重试|第\s*\d+\s*次重试|\bretrying\b/i;
const FAILED =
  /❌|生成失败|生成错误|content policy violation|guardrails|violates? (?:our|the|its) (?:content )?polic|moderation/i;
/** Wins only when the stream ends with no video. */
const MAYBE_FAILED = /\b(?:failed|failure|error)\b|失败|错误|出错/i;
/** Leading words that only say "failed"; the separator keeps `Failed to upload…` whole. */
const FAILURE_PREFIX =
  /^(?:(?:视频)?生成(?:失败|错误)|(?:video )?generation failed|task failed|failed|failure|error|失败原因|原因|reason)\s*(?:[,，:：]\s*|$)/i;
const CONTENT_POLICY_HEADING = /^content policy violation$/i;
const UPSTREAM_HTTP_STATUS = /\bHTTP(?:\s+error)?[\s:]+([45]\d\d)\b|\bstatus(?:\s+code)?[\s:=]+([45]\d\d)\b/i;
const REQUEST_ID = /\s*[(（[]?\s*(?:request|trace)[ _-]?id\s*[:：]?\s*[\w-]+\s*[)）\]]?/gi;
/** Lines that only name the task, e.g. `> ID: \`task_…\`` or `> sid: s_…`. */
const IDENTIFIER_LINE = /^(?:task[ _]?)?s?id\s*[:：]/i;
const HAS_LETTER = /\p{L}/u;
const PLAIN_NUMBER = /^\d{1,3}(?:\.\d+)?$/;

const VIDEO_TAG_SRC = /<(?:video|source)\b[^>]*?\bsrc\s*=\s*(["'])(.*?)\1[^>]*>/gi;
const MARKDOWN_IMAGE = /!\[[^\]]*\]\([^)]*\)/g;
const MARKDOWN_LINK = /\[([^\]]*)\]\(([^)\s]+)\)/g;
const BARE_URL = /https?:\/\/[^\s<>"'`)\]]+/g;
const TRAILING_PUNCTUATION = /[.,;:!?。，；！？]+$/;
const VIDEO_FILE = /\.(?:mp4|mov|webm|m4v)$/i;
const IMAGE_FILE = /\.(?:png|jpe?g|gif|webp|avif|svg|bmp)$/i;
/** Family B's task pages (`asyncdata.net/web/task_…`, `/source/task_…`) are not the video. */
const PREVIEW_PAGE = /asyncdata\.net\/(?:web|source)\/|\/(?:web|source)\/task_/i;
const PREVIEW_LABEL = /预览|原始数据|preview|raw data/i;
const PLAY_LABEL = /点击|播放|查看|下载|视频|click|play|watch|view|download|video/i;

/**
 * `file`: the path ends in a video extension. `player`: named as the video by its context (a
 * `<video>` tag, a play link, a line holding nothing but the URL). `other`: any other link, used
 * only after a success marker when nothing better came.
 */
type LinkKind = 'file' | 'player' | 'other';
interface FoundLink {
  url: string;
  kind: LinkKind;
}

type Phase = 'starting' | 'queued' | 'generating';

export class RelayStreamInterpreter {
  private readonly content = new TextChannel((line) => this.readLine(line));
  private readonly reasoning = new TextChannel((line) => this.readLine(line));
  private readonly links = new VideoLinks();
  private readonly progressShape = new ProgressLineShape();
  private emitted: VideoEvent[] | undefined;
  private outcome: VideoEvent | undefined;
  private phase: Phase = 'starting';
  private percent: number | undefined;
  private successMarkerSeen = false;
  /** The line before was progress, so a bare `44..` line continues it. */
  private afterProgressLine = false;
  /** A failure heading (`**Content Policy Violation**`) whose reason is on the next line. */
  private failureHeading: string | undefined;
  /** The latest failure that does not end the stream by itself; reported if no video comes. */
  private failureHint: string | undefined;
  /** Inside a sora2api retry block: failures there are the failed attempt's, not the job's. */
  private retrying = false;
  private lastNote: string | undefined;

  /** Takes one SSE data payload: the parsed JSON, or the raw string when it was not JSON. */
  push(payload: unknown): readonly VideoEvent[] {
    if (this.outcome) return NO_EVENTS;
    if (typeof payload === 'string') {
      if (!/^\s*[{[]/.test(payload)) this.readText(this.content, payload);
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
      this.fail(errorMessageOf(chunk.error) ?? GENERIC_FAILURE_REASON);
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
      const kind = classifyUrl(output.url, 'player');
      if (kind) this.links.add({ url: output.url, kind });
    }
    if (this.links.hasVideo) this.succeed();
  }

  /**
   * Progress and queue state on a line still arriving token by token. What the line is about is
   * read from its head, again only while the head is still growing with more than digits and dots;
   * numbers are looked for only in what this chunk added.
   */
  private peek(channel: TextChannel, added: string): void {
    const partial = channel.partialLine;
    if (!partial) return;
    const headGrew = partial.length - added.length < LINE_HEAD_CHARS && /[^\d. ]/.test(added);
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
    if (outcomeLike && RETRYING.test(text)) {
      this.retrying = true;
      this.note(text);
    } else if (outcomeLike && FAILED.test(text) && !this.retrying) {
      this.readFailure(text);
    } else if (!(outcomeLike && this.readLinks(raw)) && !this.readProgress(text, continuesProgress)) {
      this.readStatus(text, outcomeLike);
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
    } else if (!IDENTIFIER_LINE.test(text) && HAS_LETTER.test(text)) this.note(text);
  }

  /** Collects the video links of a line; true when the line held a link or a success marker. */
  private readLinks(raw: string): boolean {
    const marked = SUCCEEDED.test(raw);
    if (marked) this.successMarkerSeen = true;
    if (!raw.includes('://')) return marked;
    const found = findLinks(raw);
    for (const link of found) this.links.add(link);
    const namedAsVideo = found.some((link) => link.kind === 'player');
    if (this.links.hasVideo && (this.successMarkerSeen || namedAsVideo)) this.succeed();
    return true;
  }

  private readFailure(text: string): void {
    const reason = failureReason(text);
    if (reason && !CONTENT_POLICY_HEADING.test(reason)) this.fail(reason);
    else this.failureHeading = reason || GENERIC_FAILURE_REASON;
  }

  private verdict(): VideoEvent {
    const urls = this.links.urls(this.successMarkerSeen);
    if (urls.length > 0) return { type: 'succeeded', urls };
    const reason = this.failureHeading ?? this.failureHint;
    return { type: 'failed', reason: reason === undefined ? NO_VIDEO_REASON : memberSafeReason(reason) };
  }

  private succeed(): void {
    this.decide({ type: 'succeeded', urls: this.links.urls(this.successMarkerSeen) });
  }

  private fail(reason: string): void {
    this.decide({ type: 'failed', reason: memberSafeReason(reason) });
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

type Fence = 'none' | 'unknown' | 'echo' | 'code';

/**
 * One text channel (`content` or `reasoning_content`) cut into lines. The task echo (a fenced JSON
 * block repeating the member's prompt) is dropped here, so a `❌` or `50%` in a prompt never reads
 * as the service speaking; other fenced blocks (```html with the `<video>` tag) pass through.
 */
class TextChannel {
  /** Whether the unfinished line is a progress line, once the interpreter has looked; reset per line. */
  partialIsProgress: boolean | undefined;
  private partial = '';
  private fence: Fence = 'none';

  constructor(private readonly onLine: (line: string) => void) {}

  /** The unfinished last line, unless it sits inside the task echo. */
  get partialLine(): string | undefined {
    return this.fence === 'echo' || this.fence === 'unknown' ? undefined : this.partial;
  }

  append(chunk: string): void {
    const text = chunk.includes('\r') ? chunk.replace(/\r\n?/g, '\n') : chunk;
    let newline = text.indexOf('\n');
    if (newline === -1) {
      this.partial = boundedTail(this.partial + text);
      return;
    }
    let line = this.partial + text.slice(0, newline);
    this.partialIsProgress = undefined;
    for (;;) {
      this.take(line);
      const start = newline + 1;
      newline = text.indexOf('\n', start);
      if (newline === -1) {
        this.partial = boundedTail(text.slice(start));
        return;
      }
      line = text.slice(start, newline);
    }
  }

  /** The stream ended: the unfinished line is all there will be. */
  flush(): void {
    const line = this.partial;
    this.partial = '';
    if (line) this.take(line);
  }

  private take(line: string): void {
    if (this.fence === 'none' && !line.includes('```')) {
      this.onLine(line);
      return;
    }
    const trimmed = line.trimStart();
    if (trimmed.startsWith('```')) {
      this.fence = this.fence === 'none' ? fenceFor(trimmed.slice(3).trim()) : 'none';
      return;
    }
    if (this.fence === 'unknown') this.fence = looksLikeJsonLine(trimmed) ? 'echo' : 'code';
    // A line that cannot be JSON means the relay never closed its echo fence.
    if (this.fence === 'echo' && !looksLikeJsonLine(trimmed)) this.fence = 'none';
    if (this.fence !== 'echo') this.onLine(line);
  }
}

function fenceFor(language: string): Fence {
  if (/^json/i.test(language)) return 'echo';
  return language === '' ? 'unknown' : 'code';
}

function looksLikeJsonLine(trimmed: string): boolean {
  return /^(?:[{}[\]",]|-?\d|true|false|null|$)/.test(trimmed);
}

/** Every video link seen, each once, in the order a downloader should try them. */
class VideoLinks {
  private readonly byKind: Record<LinkKind, string[]> = { file: [], player: [], other: [] };
  private readonly seen = new Set<string>();

  get hasVideo(): boolean {
    return this.byKind.file.length + this.byKind.player.length > 0;
  }

  add(link: FoundLink): void {
    if (this.seen.has(link.url) || this.seen.size >= MAX_LINKS) return;
    this.seen.add(link.url);
    this.byKind[link.kind].push(link.url);
  }

  urls(acceptOtherLinks: boolean): string[] {
    if (this.hasVideo) return [...this.byKind.file, ...this.byKind.player];
    return acceptOtherLinks ? [...this.byKind.other] : [];
  }
}

function findLinks(raw: string): FoundLink[] {
  const found: FoundLink[] = [];
  const keep = (url: string, kind: LinkKind) => {
    const accepted = classifyUrl(url, kind);
    if (accepted) found.push({ url, kind: accepted });
  };
  let rest = raw.replace(VIDEO_TAG_SRC, (_tag, _quote, src: string) => {
    keep(src.replace(/&amp;/g, '&'), 'player');
    return ' ';
  });
  rest = rest.replace(MARKDOWN_IMAGE, ' ').replace(MARKDOWN_LINK, (_link, label: string, url: string) => {
    if (!PREVIEW_LABEL.test(label)) keep(url, PLAY_LABEL.test(label) ? 'player' : 'other');
    return ' ';
  });
  const standalone = rest.replace(/^[\s>]+/, '').trim();
  for (const match of rest.matchAll(BARE_URL)) {
    const url = match[0].replace(TRAILING_PUNCTUATION, '');
    keep(url, url === standalone ? 'player' : 'other');
  }
  return found;
}

/** What a URL is worth as the video, or undefined for images, task pages and non-web links. */
function classifyUrl(url: string, context: LinkKind): LinkKind | undefined {
  if (!/^https?:\/\//i.test(url) || PREVIEW_PAGE.test(url)) return undefined;
  const path = url.split(/[?#]/, 1)[0] ?? url;
  if (IMAGE_FILE.test(path)) return undefined;
  return VIDEO_FILE.test(path) ? 'file' : context;
}

/** The percentage a finished line reports, if it is about progress. */
function progressToken(line: string, continuesProgress: boolean): PercentToken | undefined {
  if (!mayHoldPercent(line) || !isAboutProgress(line, continuesProgress)) return undefined;
  return lastPercentToken(line, 0, true);
}

/** Whether a line is about progress; `continuesProgress` lets a bare `44..` follow a progress line. */
function isAboutProgress(text: string, continuesProgress: boolean): boolean {
  return (
    PROGRESS_WORD.test(text) ||
    PERCENT_ONLY.test(text) ||
    (continuesProgress && BARE_PROGRESS_TOKEN.test(text.trimStart()))
  );
}

/** A cheap test before the regexes: a percentage needs `%`, `..` or a number at the end of the line. */
function mayHoldPercent(text: string): boolean {
  return text.includes('%') || text.includes('..') || isDigit(text.charCodeAt(text.length - 1));
}

interface PercentToken {
  /** Where the number starts and ends in the text. */
  start: number;
  end: number;
  percent: number;
}

/**
 * The last percentage in `text` from `from` on, clamped to 0–100: a number of up to three digits
 * (`36`, `12.4`) ended by `%`, by the `..` family B puts between bare tokens, or, on a finished
 * line (`lineEnded`), by the end of the line. A hand-written scan: this runs on nearly every chunk.
 */
function lastPercentToken(text: string, from: number, lineEnded: boolean): PercentToken | undefined {
  const length = text.length;
  let lastStart = -1;
  let lastEnd = -1;
  let index = from;
  while (index < length) {
    const start = index;
    while (index < length && isDigit(text.charCodeAt(index))) index += 1;
    if (index === start) {
      index += 1;
      continue;
    }
    const wholeDigits = index - start;
    if (index + 1 < length && text.charCodeAt(index) === DOT && isDigit(text.charCodeAt(index + 1))) {
      index += 2;
      while (index < length && isDigit(text.charCodeAt(index))) index += 1;
    }
    let next = index;
    while (next < length && text.charCodeAt(next) === SPACE) next += 1;
    const terminator = next < length ? text.charCodeAt(next) : -1;
    const ended =
      terminator === PERCENT ||
      (terminator === DOT && next + 1 < length && text.charCodeAt(next + 1) === DOT) ||
      (lineEnded && terminator === -1);
    if (ended && wholeDigits <= 3) {
      lastStart = start;
      lastEnd = index;
    }
  }
  if (lastStart < 0) return undefined;
  return { start: lastStart, end: lastEnd, percent: Math.min(100, Number(text.slice(lastStart, lastEnd))) };
}

/**
 * The last plain progress line with its number cut out. Relays repeat one line with a rising number
 * (`> 🏃 进度：36.0%`), and the same line with another number can only be progress again.
 */
class ProgressLineShape {
  private prefix: string | undefined;
  private suffix = '';

  /** The percentage of `line` if it is the remembered line with another number in it. */
  percentOf(line: string): number | undefined {
    const { prefix, suffix } = this;
    if (prefix === undefined || line.length <= prefix.length + suffix.length) return undefined;
    if (!line.startsWith(prefix) || !line.endsWith(suffix)) return undefined;
    const number = line.slice(prefix.length, line.length - suffix.length);
    return PLAIN_NUMBER.test(number) ? Math.min(100, Number(number)) : undefined;
  }

  remember(line: string, token: PercentToken): void {
    this.prefix = line.slice(0, token.start);
    this.suffix = line.slice(token.end);
  }
}

function isDigit(code: number): boolean {
  return code >= DIGIT_0 && code <= DIGIT_9;
}

/** The text a member would see: no quote markers, markdown emphasis, link targets or html tags. */
function visibleText(raw: string): string {
  let text = raw;
  if (text.includes('](')) text = text.replace(MARKDOWN_IMAGE, '').replace(MARKDOWN_LINK, '$1');
  if (text.includes('<')) text = text.replace(/<[^>]*>/g, '');
  if (text.includes('**') || text.includes('__') || text.includes('`')) text = text.replace(/\*\*|__|`/g, '');
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
  let reason = text.replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}.!?)）。]+$/gu, '');
  for (let previous = ''; previous !== reason; ) {
    previous = reason;
    reason = reason.replace(FAILURE_PREFIX, '').replace(/^[^\p{L}\p{N}]+/u, '');
  }
  return reason;
}

/** A service's failure text made fit for a member: trimmed, bounded, no request ids or raw HTTP noise. */
export function memberSafeReason(text: string): string {
  const upstream = UPSTREAM_HTTP_STATUS.exec(text);
  if (upstream) {
    const status = upstream[1] ?? upstream[2];
    return `The video service failed upstream (HTTP ${status}). Please try again later, or tell the bot's owner if it keeps happening.`;
  }
  return cleanServiceMessage(text) || GENERIC_FAILURE_REASON;
}

/** Collapses whitespace, drops `(request id: …)` noise and bounds the length. */
export function cleanServiceMessage(text: string): string {
  return bounded(text.replace(REQUEST_ID, '').replace(/\s+/g, ' ').trim(), MAX_REASON_CHARS);
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

function bounded(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1).trimEnd()}…` : text;
}

function boundedTail(text: string): string {
  return text.length > MAX_LINE_CHARS ? text.slice(-MAX_LINE_CHARS) : text;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
