import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BUILD_DIR = new URL('../.build/', import.meta.url);
let built = false;

/**
 * The path of a bench process entry (`bench/<name>.ts`) compiled to JavaScript. The bot and the
 * yardsticks run compiled, as `npm start` runs the bot: no TypeScript loader in a measured process.
 */
export function compiledEntry(name: string): string {
  if (!built) {
    execFileSync('npx', ['tsc', '-p', 'tsconfig.bench.json'], { stdio: 'inherit' });
    built = true;
  }
  return fileURLToPath(new URL(`bench/${name}.js`, BUILD_DIR));
}
