#!/usr/bin/env node
/**
 * The build before `npm start`, safe when several `npm start` run at once from one checkout.
 *
 * Only one process builds at a time (an exclusive lock directory, taken over when its owner died
 * or it is older than any build takes). `dist/` is rebuilt only when something under `src/`, a
 * tsconfig or package-lock.json changed since the last build; otherwise the build is skipped, so
 * the processes that waited for the lock find the fresh build and go straight on.
 *
 * Run from the checkout root (npm does): `node scripts/build-once.mjs`. Prints one line saying
 * whether it built or skipped; exits with tsc's code when the build fails.
 */
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';

const root = process.cwd();
const distDir = path.join(root, 'dist');
const stampFile = path.join(distDir, '.build-once-stamp');
// Inside dist/ (git-ignored, and per checkout even when node_modules is shared or linked).
const lockDir = path.join(distDir, '.build-once.lock');
const STALE_LOCK_MS = 10 * 60_000;
const RETRY_MS = 200;

main();

function main() {
  acquireLock();
  let exitCode = 0;
  try {
    if (isUpToDate()) {
      console.log('build-once: skipped (dist is up to date)');
    } else {
      exitCode = build();
      console.log(exitCode === 0 ? 'build-once: built' : `build-once: build failed (tsc exit ${exitCode})`);
    }
  } finally {
    releaseLock();
  }
  process.exitCode = exitCode;
}

function build() {
  // The stamp takes the build's start time, so a file saved during the build still counts as newer.
  const startedAt = new Date();
  const tsc = path.join(root, 'node_modules', '.bin', 'tsc');
  const result = spawnSync(tsc, ['-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  const code = result.status ?? 1;
  if (code === 0) {
    writeFileSync(stampFile, `${startedAt.toISOString()}\n`);
    utimesSync(stampFile, startedAt, startedAt);
  }
  return code;
}

function isUpToDate() {
  if (!existsSync(stampFile) || !existsSync(path.join(distDir, 'index.js'))) return false;
  const builtAt = statSync(stampFile).mtimeMs;
  return newestInputMtime() < builtAt;
}

/** Directories count too: deleting or renaming a source file changes its directory's time. */
function newestInputMtime() {
  let newest = 0;
  const visit = (entry) => {
    const stats = statSync(entry);
    newest = Math.max(newest, stats.mtimeMs);
    if (stats.isDirectory()) for (const name of readdirSync(entry)) visit(path.join(entry, name));
  };
  visit(path.join(root, 'src'));
  for (const name of readdirSync(root)) {
    if (/^tsconfig.*\.json$/.test(name) || name === 'package-lock.json') visit(path.join(root, name));
  }
  return newest;
}

function acquireLock() {
  mkdirSync(path.dirname(lockDir), { recursive: true });
  for (;;) {
    if (tryLock()) {
      process.once('SIGINT', () => exitReleasing(130));
      process.once('SIGTERM', () => exitReleasing(143));
      return;
    }
    if (takeOverIfStale()) continue;
    sleep(RETRY_MS);
  }
}

/** The lock appears with its owner already inside: renaming a full directory onto an existing one fails. */
function tryLock() {
  const staging = `${lockDir}.${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging);
  writeFileSync(path.join(staging, 'owner'), String(process.pid));
  try {
    renameSync(staging, lockDir);
    return true;
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    // Someone holds the lock (or held it a moment ago and has just let go): try again.
    if (['EEXIST', 'ENOTEMPTY', 'EPERM', 'EACCES'].includes(error.code)) return false;
    throw error;
  }
}

/**
 * A lock whose owner died (or that is older than any build takes) is moved aside, atomically, so of
 * several waiters only one takes it over; a live lock moved aside by a lost race is put back.
 */
function takeOverIfStale() {
  const owner = staleOwner(lockDir);
  if (owner === undefined) return false;
  const aside = `${lockDir}.stale.${process.pid}`;
  try {
    renameSync(lockDir, aside);
  } catch {
    return false;
  }
  if (staleOwner(aside) === owner) {
    console.log(`build-once: took over the build lock of process ${owner || 'unknown'}, which is gone`);
    rmSync(aside, { recursive: true, force: true });
  } else {
    try {
      renameSync(aside, lockDir);
    } catch {
      rmSync(aside, { recursive: true, force: true });
    }
  }
  return true;
}

/** The pid of a lock's owner when the lock is stale (0 when unreadable), else undefined. */
function staleOwner(dir) {
  try {
    const owner = Number(readFileSync(path.join(dir, 'owner'), 'utf8')) || 0;
    const age = Date.now() - statSync(dir).mtimeMs;
    return age > STALE_LOCK_MS || !isAlive(owner) ? owner : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid) {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

/** Only our own lock: one taken over from us (we overran the stale timeout) is no longer ours. */
function releaseLock() {
  try {
    if (Number(readFileSync(path.join(lockDir, 'owner'), 'utf8')) !== process.pid) return;
  } catch {
    return;
  }
  rmSync(lockDir, { recursive: true, force: true });
}

function exitReleasing(code) {
  releaseLock();
  process.exit(code);
}

function sleep(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
