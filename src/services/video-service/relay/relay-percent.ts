import { BARE_PROGRESS_TOKEN, PERCENT_ONLY, PROGRESS_WORD } from './relay-vocabulary.ts';

/** Finding the percentage in a progress line, by hand where it runs on nearly every chunk. */

const SPACE = 32;

export const DIGIT_0 = 48;

export const DIGIT_9 = 57;

export const DOT = 46;

export const PERCENT = 37;

export const PLAIN_NUMBER = /^\d{1,3}(?:\.\d+)?$/;

/** The percentage a finished line reports, if it is about progress. */
export function progressToken(line: string, continuesProgress: boolean): PercentToken | undefined {
  if (!mayHoldPercent(line) || !isAboutProgress(line, continuesProgress)) return undefined;
  return lastPercentToken(line, 0, true);
}

/** Whether a line is about progress; `continuesProgress` lets a bare `44..` follow a progress line. */
export function isAboutProgress(text: string, continuesProgress: boolean): boolean {
  return (
    PROGRESS_WORD.test(text) ||
    PERCENT_ONLY.test(text) ||
    (continuesProgress && BARE_PROGRESS_TOKEN.test(text.trimStart()))
  );
}

/** A cheap test before the regexes: a percentage needs `%`, `..` or a number at the end of the line. */
export function mayHoldPercent(text: string): boolean {
  return text.includes('%') || text.includes('..') || isDigit(text.charCodeAt(text.length - 1));
}

export interface PercentToken {
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
export function lastPercentToken(text: string, from: number, lineEnded: boolean): PercentToken | undefined {
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
export class ProgressLineShape {
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

export function isDigit(code: number): boolean {
  return code >= DIGIT_0 && code <= DIGIT_9;
}
