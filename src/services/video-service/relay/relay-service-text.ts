import { type MemberText, memberText } from '../../i18n/member-text.ts';

/**
 * A video service's own words made fit for a member and a log line: whitespace collapsed, request
 * ids and raw HTTP noise dropped, the length bounded. Every step reads a bounded prefix of the text,
 * by hand-written scans or linear patterns, however long and however shaped the text is.
 */

/** The bot's own words when a service failed without saying why. */
export const GENERIC_FAILURE_REASON: MemberText = memberText('failure.service.couldNotMake');
/** How much of a service's failure text is looked at, once its whitespace is collapsed. */
export const MAX_REASON_INPUT_CHARS = 2_048;
const MAX_REASON_CHARS = 300;

const SPACE = 32;
const TAB = 9;
const CARRIAGE_RETURN = 13;
const NO_BREAK_SPACE = 0xa0;
const IDEOGRAPHIC_SPACE = 0x3000;

const UPSTREAM_HTTP_STATUS = /\bHTTP(?:\s+error)?[\s:]+([45]\d\d)\b|\bstatus(?:\s+code)?[\s:=]+([45]\d\d)\b/i;
/** Runs on text whose whitespace is already collapsed: single optional spaces, no `\s*` to backtrack over. */
const REQUEST_ID = / ?[(（[]? ?(?:request|trace)[ _-]?id ?[:：]? ?[\w-]+ ?[)）\]]?/gi;

/**
 * A service's failure text made fit for a member: trimmed, bounded, no request ids or raw HTTP
 * noise. Raw upstream HTTP noise, or nothing at all, becomes the bot's own sentence (translated).
 */
export function memberSafeReason(reason: string): string | MemberText {
  const text = collapseWhitespace(reason, MAX_REASON_INPUT_CHARS);
  const upstream = UPSTREAM_HTTP_STATUS.exec(text);
  if (upstream) return memberText('failure.service.upstream', { status: upstream[1] ?? upstream[2] ?? '' });
  return cleanServiceMessage(text) || GENERIC_FAILURE_REASON;
}

/** Collapses whitespace, drops `(request id: …)` noise and bounds the length. */
export function cleanServiceMessage(text: string): string {
  const collapsed = collapseWhitespace(text, MAX_REASON_INPUT_CHARS);
  return bounded(collapseWhitespace(collapsed.replace(REQUEST_ID, ''), MAX_REASON_CHARS), MAX_REASON_CHARS);
}

/**
 * Runs of whitespace made one space and the ends trimmed, reading no further than needed for
 * `max` characters: a hand-written scan, so a megabyte of spaces costs one pass and nothing more.
 */
export function collapseWhitespace(text: string, max: number): string {
  let result = '';
  let pendingSpace = false;
  for (let index = 0; index < text.length && result.length <= max; index += 1) {
    const character = text.charAt(index);
    if (isWhitespace(character.charCodeAt(0))) {
      pendingSpace = result.length > 0;
      continue;
    }
    if (pendingSpace) result += ' ';
    pendingSpace = false;
    result += character;
  }
  return result;
}

function isWhitespace(code: number): boolean {
  return (
    code === SPACE ||
    (code >= TAB && code <= CARRIAGE_RETURN) ||
    code === NO_BREAK_SPACE ||
    code === IDEOGRAPHIC_SPACE ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0xfeff ||
    (code >= 0x2000 && code <= 0x200a)
  );
}

export function bounded(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1).trimEnd()}…` : text;
}
