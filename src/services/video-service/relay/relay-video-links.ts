import { REDACTED } from '../service-text-redaction.ts';

/**
 * Which links on a relay's line could be the video, and in what order a downloader should try
 * them. A link's worth comes first from where it stood (the success line beats a line before it;
 * progress lines, prompt echoes and quoted text never count, the interpreter does not pass them),
 * then from what it looks like (a clean copy before a watermarked one, a video file before a
 * player page).
 */

/**
 * `file`: the path ends in a video extension. `player`: named as the video by its context (a
 * `<video>` tag, a play link, a line holding nothing but the URL). `other`: any other link, used
 * only after a success marker when nothing better came.
 */
export type LinkKind = 'file' | 'player' | 'other';

/** `result`: on or after the success marker, in a `<video>` tag or a structured output. `loose`: before any marker. */
export type LinkPlace = 'result' | 'loose';

export interface FoundLink {
  url: string;
  kind: LinkKind;
  /** A watermarked copy, a thumbnail clip, a low-resolution variant, or a URL the redaction broke. */
  secondBest: boolean;
}

const MAX_LINKS = 20;
/** How much of the text before a bare URL counts as its label (`watermarked: https://…`). */
const BARE_LABEL_CHARS = 32;

const VIDEO_TAG = /<(?:video|source)\b[^<>]*>/gi;
const SRC_ATTRIBUTE = /\bsrc[ \t]*=[ \t]*(?:"([^"<>]*)"|'([^'<>]*)')/i;
/** Labels and targets may not nest brackets or parentheses: that keeps the scan linear. */
const MARKDOWN_IMAGE = /!\[[^[\]]*\]\([^()]*\)/g;
const MARKDOWN_LINK = /\[([^[\]]*)\]\(([^()\s]+)\)/g;
const BARE_URL = /https?:\/\/[^\s<>"'`)\]]+/g;
/** Quoted prose (a prompt read back, `"a cat at https://…"`); a quoted bare URL is kept. */
const QUOTED_PROSE = /"[^"\s]*\s[^"]*"|“[^“”]*”/g;
const LEADING_QUOTE_MARKS = /^[\s>]+/;
const VIDEO_FILE = /\.(?:mp4|mov|webm|m4v)$/i;
const IMAGE_FILE = /\.(?:png|jpe?g|gif|webp|avif|svg|bmp)$/i;
/** Family B's task pages (`asyncdata.net/web/task_…`, `/source/task_…`) are not the video. */
const PREVIEW_PAGE = /asyncdata\.net\/(?:web|source)\/|\/(?:web|source)\/task_/i;
const PREVIEW_LABEL = /预览|原始数据|preview|raw data/i;
const PLAY_LABEL = /点击|播放|查看|下载|视频|click|play|watch|view|download|video/i;
const CLEAN_LABEL = /无水印|去水印|no[ -]watermark|without watermark|watermark[ -]free|unwatermarked/i;
const SECOND_BEST_LABEL = /水印|watermark|缩略|thumbnail|低清|low[ -]?res|\bgif\b/i;
const SECOND_BEST_PATH = /(?:^|[/_.-])(?:preview|thumb(?:nail)?|watermark(?:ed)?|wm|lowres)(?:[/_.-]|$)/i;
const WEB_URL = /^https?:\/\//i;
const QUERY_OR_FRAGMENT = /[?#]/;
const ENCODED_AMPERSAND = /&amp;/g;
const TRAILING_PUNCTUATION = '.,;:!?。，；！？';

interface RankedLink extends FoundLink {
  place: LinkPlace;
  order: number;
}

const KIND_RANK: Record<LinkKind, number> = { file: 2, player: 1, other: 0 };

/** Every video link seen, each once, ranked best first. */
export class VideoLinks {
  private readonly links: RankedLink[] = [];
  private readonly seen = new Set<string>();

  /** `ignored`: links that are not the service's to give (those in the member's own prompt). */
  constructor(private readonly ignored: ReadonlySet<string> = new Set()) {}

  /** A link worth downloading came; `other` links do not count. */
  get hasCandidate(): boolean {
    return this.links.some((link) => link.kind !== 'other');
  }

  /** The best link is a clean video on the result: nothing later can beat it, so reading may stop. */
  get decisive(): boolean {
    const best = this.ranked()[0];
    return best !== undefined && best.place === 'result' && !best.secondBest && best.kind !== 'other';
  }

  add(link: FoundLink, place: LinkPlace): void {
    if (this.seen.has(link.url) || this.ignored.has(link.url) || this.seen.size >= MAX_LINKS) return;
    this.seen.add(link.url);
    this.links.push({ ...link, place, order: this.links.length });
  }

  /** Best first; `other` links only when nothing better came, and only from the result. */
  urls(): string[] {
    const ranked = this.ranked();
    const usable = this.hasCandidate
      ? ranked.filter((link) => link.kind !== 'other')
      : ranked.filter((link) => link.place === 'result');
    return usable.map((link) => link.url);
  }

  private ranked(): RankedLink[] {
    return [...this.links].sort(
      (a, b) =>
        Number(b.place === 'result') - Number(a.place === 'result') ||
        Number(a.secondBest) - Number(b.secondBest) ||
        KIND_RANK[b.kind] - KIND_RANK[a.kind] ||
        a.order - b.order,
    );
  }
}

/** The links of one line (already cut to size), in the order they stand. */
export function findLinks(raw: string): FoundLink[] {
  const found: FoundLink[] = [];
  const keep = (url: string, context: LinkKind, label: string) => {
    const link = linkOf(url, context, label);
    if (link) found.push(link);
  };
  let rest = raw.replace(VIDEO_TAG, (tag) => {
    const src = SRC_ATTRIBUTE.exec(tag);
    const url = src?.[1] ?? src?.[2];
    if (url !== undefined) keep(url.replace(ENCODED_AMPERSAND, '&'), 'player', '');
    return ' ';
  });
  rest = rest.replace(MARKDOWN_IMAGE, ' ').replace(MARKDOWN_LINK, (_link, label: string, url: string) => {
    if (!PREVIEW_LABEL.test(label)) keep(url, PLAY_LABEL.test(label) ? 'player' : 'other', label);
    return ' ';
  });
  rest = rest.replace(QUOTED_PROSE, ' ');
  const standalone = rest.replace(LEADING_QUOTE_MARKS, '').trim();
  for (const match of rest.matchAll(BARE_URL)) {
    const url = trimTrailing(match[0], TRAILING_PUNCTUATION);
    const label = rest.slice(Math.max(0, match.index - BARE_LABEL_CHARS), match.index);
    keep(url, url === standalone ? 'player' : 'other', label);
  }
  return found;
}

/** A structured result (`delta.output: [{ url, type: 'video' }]`) as a link, if it can be the video. */
export function outputLink(url: string): FoundLink | undefined {
  return linkOf(url, 'player', '');
}

/** Every web link in a text, as `findLinks` would spell it: for the member's prompt. */
export function urlsIn(text: string): Set<string> {
  const urls = new Set<string>();
  for (const match of text.matchAll(BARE_URL)) urls.add(trimTrailing(match[0], TRAILING_PUNCTUATION));
  return urls;
}

/** What a URL is worth as the video, or undefined for images, task pages and non-web links. */
function linkOf(url: string, context: LinkKind, label: string): FoundLink | undefined {
  if (!WEB_URL.test(url) || PREVIEW_PAGE.test(url)) return undefined;
  const path = url.split(QUERY_OR_FRAGMENT, 1)[0] ?? url;
  if (IMAGE_FILE.test(path)) return undefined;
  const kind = VIDEO_FILE.test(path) ? 'file' : context;
  return { url, kind, secondBest: isSecondBest(url, path, label) };
}

function isSecondBest(url: string, path: string, label: string): boolean {
  if (url.includes(REDACTED.slice(0, -1))) return true;
  if (CLEAN_LABEL.test(label)) return false;
  return SECOND_BEST_LABEL.test(label) || SECOND_BEST_PATH.test(path);
}

/** `text` without the run of `characters` at its end; a loop, where a `[…]+$` pattern would scan quadratically. */
export function trimTrailing(text: string, characters: string): string {
  let end = text.length;
  while (end > 0 && characters.includes(text.charAt(end - 1))) end -= 1;
  return end === text.length ? text : text.slice(0, end);
}
