import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { FakeDiscord } from './fake-discord/fake-discord.ts';
import { waitForLog } from './fault-kit.ts';

/**
 * The bot as it really runs: `node --import tsx src/index.ts` in a child process (what `npm start`
 * does, without the npm and tsx wrappers that would stand between a signal and the bot), so a test
 * can kill it with a signal and start it again.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface BotProcess {
  child: ChildProcess;
  /** stdout, one entry per line: the bot's JSON log. */
  lines: string[];
  stderr: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const running = new Set<BotProcess>();

/** Starts the bot and resolves once it has logged in to the fake Discord (on `shard`, when sharded). */
export async function startBotProcess(
  discord: FakeDiscord,
  env: NodeJS.ProcessEnv,
  options: { shard?: number } = {},
): Promise<BotProcess> {
  const ready = discord.nextReady({ timeoutMs: 30_000, shard: options.shard });
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/index.ts'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const stderr: string[] = [];
  let partial = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => stderr.push(chunk));
  const exited = once(child, 'exit').then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
  }));
  const bot = { child, lines, stderr, exited };
  running.add(bot);
  void exited.then(() => running.delete(bot));
  await ready;
  await waitForLog(lines, (entry) => entry.event === 'bot_ready', { timeoutMs: 30_000, what: 'bot_ready' });
  return bot;
}

/** For afterEach: no bot process outlives its test. */
export async function killBotProcesses(): Promise<void> {
  for (const bot of running) {
    bot.child.kill('SIGKILL');
    await bot.exited;
  }
}
