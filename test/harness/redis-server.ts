import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * A throwaway Redis for tests: Debian's `redis-server` on a free loopback port, in its own temp
 * directory, with nothing persisted. Missing `redis-server` is a failure, not a skip, because CI
 * installs it (`apt-get install -y redis-server`) and a silent skip would hide the Redis backend.
 */

export interface RedisServer {
  url: string;
  stop(): Promise<void>;
  /** Kills the server at once (SIGKILL), as a crash or a lost machine would. */
  kill(): Promise<void>;
  /** Starts it again on the same port and directory (with `persist`, its data comes back). */
  restart(): Promise<void>;
}

export interface RedisServerOptions {
  /** Write every change to an append-only file, so a killed and restarted server keeps its data. */
  persist?: boolean;
}

const READY_TIMEOUT_MS = 10_000;

export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  assertInstalled();
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), 'sora-bot-redis-'));
  const persistence = options.persist
    ? ['--appendonly', 'yes', '--appendfsync', 'always']
    : ['--appendonly', 'no'];
  const args = ['--save', '', ...persistence, '--port', String(port), '--bind', '127.0.0.1', '--dir', dir];
  let server = await launch(args, port);
  return {
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      await terminate(server, 'SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
    async kill() {
      await terminate(server, 'SIGKILL');
    },
    async restart() {
      await terminate(server, 'SIGKILL');
      server = await launch(args, port);
    },
  };
}

async function launch(args: string[], port: number): Promise<ChildProcess> {
  const server = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  server.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  server.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  try {
    await waitForPong(port, server);
  } catch (error) {
    await terminate(server, 'SIGKILL');
    throw new Error(`redis-server did not start on port ${port}: ${(error as Error).message}\n${output}`);
  }
  return server;
}

function assertInstalled(): void {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
  } catch {
    throw new Error(
      'redis-server is not installed, and the Redis store tests need it. Install it with ' +
        '`apt-get update && apt-get install -y redis-server` (CI does this in .ci/run).',
    );
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

async function waitForPong(port: number, server: ChildProcess): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (server.exitCode !== null) throw new Error(`it exited with code ${server.exitCode}`);
    if (await answersPing(port)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`no PONG within ${READY_TIMEOUT_MS} ms`);
}

function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let reply = '';
    socket.setTimeout(1_000, () => socket.destroy());
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk;
      if (reply.includes('\r\n')) socket.end();
    });
    socket.on('close', () => resolve(reply.startsWith('+PONG')));
    socket.on('error', () => {});
  });
}

function terminate(server: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (server.exitCode !== null || server.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    server.once('exit', () => resolve());
    server.kill(signal);
  });
}
