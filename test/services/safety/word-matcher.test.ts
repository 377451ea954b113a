import { readdirSync, readFileSync } from 'node:fs';
import { checkSync } from 'recheck';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { WordMatcher, wordsOf } from '../../../src/services/safety/word-matcher.ts';

describe('refused words', () => {
  const matcher = new WordMatcher(['foo', 'Red Balloon', 'straße', '暴力']);

  it.each([
    ['full-width', 'a ＦＯＯ in the park'],
    ['accented', 'the fóo walks'],
    ['mixed case', 'FoO!'],
    ['a phrase across punctuation and spaces', 'a RED,   balloon'],
    ['a phrase with an accent', 'red ballóon'],
    ['ß written as ss', 'the strasse'],
    ['a word in a script without spaces', '这是暴力的视频'],
  ])('finds the %s form', (_form, prompt) => {
    expect(matcher.find(prompt)).toBeDefined();
  });

  it.each([
    ['inside another word', 'food and foobar'],
    ['half a phrase', 'a red kite and a balloon'],
    ['the phrase words apart', 'red big balloon'],
  ])('lets through a prompt with the word %s', (_case, prompt) => {
    expect(matcher.find(prompt)).toBeUndefined();
  });

  it('names the entry it found, as the admin typed it (for logs only)', () => {
    expect(matcher.find('one red balloon')).toBe('Red Balloon');
  });

  it('splits text into folded words', () => {
    expect(wordsOf('Ｈéllo,  WORLD—ﬁne')).toEqual(['hello', 'world', 'fine']);
  });
});

describe('the word matcher on a hostile prompt', () => {
  it('takes a number of steps linear in the prompt, whatever the entries', () => {
    // Entries that share long prefixes with the prompt: a naive search would re-walk each one
    // from every word (quadratic); the automaton looks at each word a bounded number of times.
    const entries = Array.from({ length: 200 }, (_, index) => `${'a '.repeat(50 + index)}b${index}`);
    const words = 20_000;
    const prompt = 'a '.repeat(words);
    const matcher = new WordMatcher(entries);
    expect(matcher.find(prompt)).toBeUndefined();
    expect(matcher.steps).toBeLessThanOrEqual(2 * words);
    const twice = new WordMatcher(entries);
    twice.find(prompt + prompt);
    expect(twice.steps).toBeLessThanOrEqual(4 * words);
  });
});

/** The matcher's own regular expressions: literals only, each rated safe by recheck. */
describe('regular expressions of the safety module', () => {
  const folder = new URL('../../../src/services/safety/', import.meta.url);
  const files = readdirSync(folder).filter((name) => name.endsWith('.ts'));
  const found = files.flatMap((file) => {
    const text = readFileSync(new URL(file, folder), 'utf8');
    const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
    const literals: Array<{ file: string; pattern: string; flags: string; constructed: boolean }> = [];
    const visit = (node: ts.Node) => {
      if (node.kind === ts.SyntaxKind.RegularExpressionLiteral) {
        const literal = node.getText(source);
        const end = literal.lastIndexOf('/');
        literals.push({
          file,
          pattern: literal.slice(1, end),
          flags: literal.slice(end + 1),
          constructed: false,
        });
      }
      const callee = ts.isNewExpression(node) || ts.isCallExpression(node) ? node.expression : undefined;
      if (callee && ts.isIdentifier(callee) && callee.text === 'RegExp')
        literals.push({ file, pattern: '', flags: '', constructed: true });
      ts.forEachChild(node, visit);
    };
    visit(source);
    return literals;
  });

  it('are never built at run time (no member input ever becomes a pattern)', () => {
    expect(found.filter((each) => each.constructed)).toEqual([]);
    expect(found.length).toBeGreaterThan(2);
  });

  it('are all rated safe by recheck', { timeout: 120_000 }, () => {
    const notSafe = found
      .map((each) => ({ ...each, status: checkSync(each.pattern, each.flags).status }))
      .filter((each) => each.status !== 'safe');
    expect(notSafe).toEqual([]);
  });
});
