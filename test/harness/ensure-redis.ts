import { execFileSync, execSync } from 'node:child_process';

/**
 * Vitest global setup: the store tests need Debian's `redis-server`. On a fresh Debian machine
 * where the tests run as root (CI, a dev container) it is installed once here, so `npm test` works
 * on a fresh clone; anywhere else a missing server is reported with how to install it.
 */
export default function ensureRedisServer(): void {
  if (hasRedisServer()) return;
  const canInstall = process.getuid?.() === 0 && commandExists('apt-get');
  if (!canInstall) return;
  console.log('redis-server is missing; installing Debian package redis-server for the store tests…');
  execSync('apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server', {
    stdio: 'inherit',
  });
}

function hasRedisServer(): boolean {
  return commandExists('redis-server');
}

function commandExists(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
