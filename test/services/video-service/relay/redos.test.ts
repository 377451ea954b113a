import { readdirSync, readFileSync } from 'node:fs';
import { checkSync } from 'recheck';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * Every regular expression that reads what a relay sends must match in linear time: one crafted
 * line must not block the event loop of the whole bot. The patterns are taken from the source
 * files themselves (every regex literal the TypeScript parser finds), so a new one cannot slip past,
 * and each goes through recheck, which rates it safe, vulnerable or unknown.
 */

const VIDEO_SERVICE = new URL('../../../../src/services/video-service/', import.meta.url);
/** The relay client's modules and the redaction every service text passes. */
const FILES = [
  ...readdirSync(new URL('relay/', VIDEO_SERVICE))
    .filter((name) => name.endsWith('.ts'))
    .map((name) => `relay/${name}`),
  'service-text-redaction.ts',
].sort();
const RECHECK_TIMEOUT_MS = 120_000;

interface RegexLiteral {
  file: string;
  line: number;
  source: string;
  flags: string;
}

function regexLiteralsOf(file: string): { literals: RegexLiteral[]; constructed: number } {
  const text = readFileSync(new URL(file, VIDEO_SERVICE), 'utf8');
  const sourceFile = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const literals: RegexLiteral[] = [];
  let constructed = 0;
  const visit = (node: ts.Node) => {
    if (node.kind === ts.SyntaxKind.RegularExpressionLiteral) {
      const literal = node.getText(sourceFile);
      const end = literal.lastIndexOf('/');
      const line = sourceFile.getLineAndCharacterOfPosition(node.getStart(sourceFile)).line + 1;
      literals.push({ file, line, source: literal.slice(1, end), flags: literal.slice(end + 1) });
    }
    const callee = ts.isNewExpression(node) || ts.isCallExpression(node) ? node.expression : undefined;
    if (callee && ts.isIdentifier(callee) && callee.text === 'RegExp') constructed += 1;
    ts.forEachChild(node, visit);
  };
  visit(sourceFile);
  return { literals, constructed };
}

const scanned = FILES.map(regexLiteralsOf);
const literals = scanned.flatMap((file) => file.literals);

describe('regular expressions that read relay text', () => {
  it('are found in the relay modules and the redaction module', () => {
    expect(FILES).toEqual(
      expect.arrayContaining([
        'relay/relay-service-text.ts',
        'relay/relay-stream-interpreter.ts',
        'relay/relay-video-provider.ts',
        'relay/relay-video-links.ts',
        'service-text-redaction.ts',
      ]),
    );
    expect(literals.length).toBeGreaterThan(40);
  });

  it('are all literals, so every one of them is checked here (no RegExp built at run time)', () => {
    expect(scanned.map((file) => file.constructed)).toEqual(FILES.map(() => 0));
  });

  it(
    'are all rated safe by recheck',
    () => {
      const notSafe = literals
        .map((literal) => ({ literal, result: checkSync(literal.source, literal.flags) }))
        .filter(({ result }) => result.status !== 'safe')
        .map(({ literal, result }) => {
          const attack = result.status === 'vulnerable' ? ` (attack: ${result.attack.pattern})` : '';
          return `${literal.file}:${literal.line} /${literal.source}/${literal.flags}: ${result.status}${attack}`;
        });
      expect(notSafe).toEqual([]);
    },
    RECHECK_TIMEOUT_MS,
  );
});
