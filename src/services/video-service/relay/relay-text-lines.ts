import type { ServiceTextRedaction } from '../service-text-redaction.ts';

/**
 * One text channel of a relay stream (`content` or `reasoning_content`) cut into bounded lines, with
 * the task echo (a fenced JSON block repeating the member's prompt) dropped before anyone reads it.
 */

export const MAX_LINE_CHARS = 16_384;

/** A longer line keeps this much of its start (where the markers are) and of its end (where the link is). */
export const LINE_END_CHARS = MAX_LINE_CHARS / 2 - 1;

export const LINE_BREAK = /\r\n?/g;

export const JSON_FENCE = /^json/i;

export const JSON_LINE_START = /^(?:[{}[\]",]|-?\d|true|false|null|$)/;

export type Fence = 'none' | 'unknown' | 'echo' | 'code';

/**
 * One text channel (`content` or `reasoning_content`) cut into lines. The task echo (a fenced JSON
 * block repeating the member's prompt) is dropped here, so a `❌` or `50%` in a prompt never reads
 * as the service speaking; other fenced blocks (```html with the `<video>` tag) pass through.
 */
export class TextChannel {
  /** Whether the unfinished line is a progress line, once the interpreter has looked; reset per line. */
  partialIsProgress: boolean | undefined;
  private partial = '';
  private fence: Fence = 'none';

  constructor(
    private readonly redaction: ServiceTextRedaction,
    private readonly onLine: (line: string) => void,
  ) {}

  /** The unfinished last line, unless it sits inside the task echo. */
  get partialLine(): string | undefined {
    return this.fence === 'echo' || this.fence === 'unknown' ? undefined : this.partial;
  }

  append(chunk: string): void {
    const text = chunk.includes('\r') ? chunk.replace(LINE_BREAK, '\n') : chunk;
    let newline = text.indexOf('\n');
    if (newline === -1) {
      this.partial = this.unfinished(this.redaction.withoutSecretsAppended(this.partial, text));
      return;
    }
    let line = this.partial + text.slice(0, newline);
    this.partialIsProgress = undefined;
    for (;;) {
      this.take(line);
      const start = newline + 1;
      newline = text.indexOf('\n', start);
      if (newline === -1) {
        this.partial = this.unfinished(this.redaction.withoutSecrets(text.slice(start)));
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

  /**
   * Only the end of an unfinished line is kept (its progress number is there). Secrets go first:
   * a secret still arriving sits at the very end, so the cut never splits one.
   */
  private unfinished(clean: string): string {
    return clean.length > MAX_LINE_CHARS ? clean.slice(-MAX_LINE_CHARS) : clean;
  }

  private take(rawLine: string): void {
    const line = this.redaction.cutToSize(rawLine, boundedLine);
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

export function fenceFor(language: string): Fence {
  if (JSON_FENCE.test(language)) return 'echo';
  return language === '' ? 'unknown' : 'code';
}

export function looksLikeJsonLine(trimmed: string): boolean {
  return JSON_LINE_START.test(trimmed);
}

/** A line too long to be anything but noise keeps its start and its end, whatever it holds between. */
export function boundedLine(line: string): string {
  if (line.length <= MAX_LINE_CHARS) return line;
  return `${line.slice(0, LINE_END_CHARS)} … ${line.slice(-LINE_END_CHARS)}`;
}
