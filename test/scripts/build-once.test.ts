import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const checkout = path.resolve(import.meta.dirname, '..', '..');
const script = path.join(checkout, 'scripts', 'build-once.mjs');

interface Run {
  code: number | null;
  output: string;
}

/** Runs the script as `npm start`'s prestart would, from the root of the given copy. */
function runBuildOnce(root: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
    });
    child.stderr.on('data', (chunk) => {
      output += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

/** A pid that no process has: one of a child that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', '0']);
  return child.pid ?? 2 ** 22 + 1;
}

const built = (run: Run) => run.output.includes('build-once: built');
const skipped = (run: Run) => run.output.includes('build-once: skipped');

/**
 * A small project laid out like the bot's (src/, tsconfig.json, tsconfig.build.json,
 * package-lock.json; the checkout's node_modules linked in for tsc), so the test neither touches
 * the real checkout's dist/ nor depends on the bot's sources compiling at this moment.
 */
function writeProject(root: string): void {
  const tsconfig = {
    compilerOptions: { target: 'ES2022', module: 'NodeNext', strict: true, types: ['node'] },
    include: ['src'],
  };
  const build = { extends: './tsconfig.json', compilerOptions: { outDir: 'dist', rootDir: 'src' } };
  mkdirSync(path.join(root, 'src', 'lib'), { recursive: true });
  writeFileSync(path.join(root, 'package.json'), JSON.stringify({ name: 'fixture', type: 'module' }));
  writeFileSync(path.join(root, 'package-lock.json'), JSON.stringify({ lockfileVersion: 3 }));
  writeFileSync(path.join(root, 'tsconfig.json'), JSON.stringify(tsconfig));
  writeFileSync(path.join(root, 'tsconfig.build.json'), JSON.stringify(build));
  writeFileSync(
    path.join(root, 'src', 'lib', 'greet.ts'),
    "export const greet = (name: string): string => 'hi ' + name;\n",
  );
  writeFileSync(
    path.join(root, 'src', 'index.ts'),
    "import { greet } from './lib/greet.js';\nconsole.log(greet('x'));\n",
  );
  symlinkSync(path.join(checkout, 'node_modules'), path.join(root, 'node_modules'), 'dir');
}

describe('scripts/build-once.mjs', () => {
  let root: string;

  beforeAll(() => {
    root = mkdtempSync(path.join(tmpdir(), 'sora-bot-build-once-'));
    writeProject(root);
  });

  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it('builds once when started three times at once, and the others skip', { timeout: 180_000 }, async () => {
    const runs = await Promise.all([runBuildOnce(root), runBuildOnce(root), runBuildOnce(root)]);
    for (const run of runs) expect(run.code, run.output).toBe(0);
    expect(runs.filter(built)).toHaveLength(1);
    expect(runs.filter(skipped)).toHaveLength(2);
  });

  it('takes over a lock left by a process that died', { timeout: 180_000 }, async () => {
    const lockDir = path.join(root, 'dist', '.build-once.lock');
    mkdirSync(lockDir, { recursive: true });
    writeFileSync(path.join(lockDir, 'owner'), String(deadPid()));
    const run = await runBuildOnce(root);
    expect(run.code, run.output).toBe(0);
    expect(run.output).toContain('took over the build lock');
    expect(existsSync(lockDir)).toBe(false);
  });

  it('skips when dist is newer than every input, and builds again after a source change', {
    timeout: 180_000,
  }, async () => {
    const again = await runBuildOnce(root);
    expect(again.code, again.output).toBe(0);
    expect(skipped(again)).toBe(true);

    const future = new Date(Date.now() + 60_000);
    utimesSync(path.join(root, 'src', 'index.ts'), future, future);
    const rebuilt = await runBuildOnce(root);
    expect(rebuilt.code, rebuilt.output).toBe(0);
    expect(built(rebuilt)).toBe(true);
    expect(existsSync(path.join(root, 'dist', 'lib', 'greet.js'))).toBe(true);
  });
});
