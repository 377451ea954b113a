import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * Every text a member reads goes through the translator. This looks in the folders that write to
 * members for string literals that read like an English sentence (a capital, then words with
 * spaces) or start with an emoji headline, outside comments, thrown errors and log lines.
 */

const ROOT = path.resolve(import.meta.dirname, '../../../src');
const SCANNED = [
  'commands',
  'services/progress-message',
  'services/quotas',
  'services/intake',
  'services/jobs',
  'services/settings',
];

/** Literals that look like sentences but are not member-facing, each with its reason. */
const ALLOWED: { file: string; text: string; why: string }[] = [
  {
    file: 'services/settings/video-settings.ts',
    text: 'is not one of the offered models',
    why: 'RangeError for a caller, never shown',
  },
  {
    file: 'services/settings/video-settings.ts',
    text: "is not one of the bot's languages",
    why: 'RangeError for a caller, never shown',
  },
];

const SENTENCE = /[A-Z][\p{Ll}'’]*(?:[ ,;:]+[\p{L}'’*]+){2,}/u;
const EMOJI_HEADLINE = /^\s*(?:-# )?\p{Extended_Pictographic}\uFE0F?\s*\p{L}/u;

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return filesUnder(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

/** The source without comments, so doc comments (which are sentences) do not count. */
function withoutComments(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

/** Lines that are not member-facing by what they do: errors thrown, log lines. */
const NOT_MEMBER_FACING = /throw new \w*Error\(|\b(logger|log)\.\w+\(|new Error\(|Error\(`/;

function literalsOf(source: string): { text: string; line: string }[] {
  const found: { text: string; line: string }[] = [];
  for (const line of withoutComments(source).split('\n')) {
    if (NOT_MEMBER_FACING.test(line)) continue;
    for (const match of line.matchAll(/'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"|`((?:[^`\\]|\\.)*)`/g)) {
      const text = match[1] ?? match[2] ?? match[3] ?? '';
      // Interpolations are code, not text.
      const plain = text.replace(/\$\{[^}]*\}/g, ' ');
      found.push({ text: plain, line: line.trim() });
    }
  }
  return found;
}

describe('member-facing strings', () => {
  it('all go through the translator', () => {
    const problems: string[] = [];
    for (const folder of SCANNED) {
      for (const file of filesUnder(path.join(ROOT, folder))) {
        const relative = path.relative(ROOT, file).split(path.sep).join('/');
        for (const { text, line } of literalsOf(readFileSync(file, 'utf8'))) {
          if (!SENTENCE.test(text) && !EMOJI_HEADLINE.test(text)) continue;
          if (ALLOWED.some((allowed) => allowed.file === relative && text.includes(allowed.text))) continue;
          problems.push(`${relative}: ${line}`);
        }
      }
    }
    expect(problems).toEqual([]);
  });
});
