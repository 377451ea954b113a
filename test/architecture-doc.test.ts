import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const DOC = readFileSync(join(ROOT, 'docs/architecture.md'), 'utf8');

function foldersUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .flatMap((entry) => {
      const path = join(dir, entry.name);
      return [path, ...foldersUnder(path)];
    });
}

/**
 * A folder is in the doc when the doc names its path from the repo root (`src/services/jobs/`) or,
 * inside a folder that is, its own name (`relay/` in the video-service row).
 */
function described(folder: string): boolean {
  const path = relative(ROOT, folder).split('\\').join('/');
  if (DOC.includes(`\`${path}/\``)) return true;
  const parent = path.slice(0, path.lastIndexOf('/'));
  const name = path.slice(path.lastIndexOf('/') + 1);
  return parent !== 'src' && described(join(ROOT, parent)) && DOC.includes(`\`${name}/\``);
}

describe('docs/architecture.md', () => {
  it('names every folder under src/', () => {
    const missing = foldersUnder(join(ROOT, 'src')).filter((folder) => !described(folder));
    expect(missing.map((folder) => relative(ROOT, folder))).toEqual([]);
  });
});
