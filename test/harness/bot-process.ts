import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { FakeDiscord } from '../fakes/fake-discord/fake-discord.ts';
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

export interface StartBotOptions {
  /** The shard whose READY to wait for, when sharded. */
  shard?: number;
  /**
   * false for a process without a gateway connection (`BOT_ROLE=worker`): it never IDENTIFYs, so
   * only its `bot_ready` line is waited for. Default true.
   */
  gateway?: boolean;
}

/**
 * Starts the bot and resolves once it is ready: logged in to the fake Discord (on `shard`, when
 * sharded) and `bot_ready` logged. A process that exits first fails the start with its stderr.
 */
export async function startBotProcess(
  discord: FakeDiscord,
  env: NodeJS.ProcessEnv,
  options: StartBotOptions = {},
): Promise<BotProcess> {
  const gatewayReady =
    options.gateway === false ? undefined : discord.nextReady({ timeoutMs: 30_000, shard: options.shard });
  const bot = spawnBotProcess(env);
  const exitedEarly = bot.exited.then(({ code, signal }) => {
    throw new Error(
      `the bot exited (code ${code}, signal ${signal}) before it was ready:\n${bot.stderr.join('')}`,
    );
  });
  // Either side may lose the race; neither may become an unhandled rejection.
  exitedEarly.catch(() => undefined);
  gatewayReady?.catch(() => undefined);
  await Promise.race([
    (async () => {
      await gatewayReady;
      await waitForLog(bot.lines, (entry) => entry.event === 'bot_ready', {
        timeoutMs: 30_000,
        what: 'bot_ready',
      });
    })(),
    exitedEarly,
  ]);
  return bot;
}

/** Starts the bot without waiting for anything: for a start that is meant to fail. */
export function spawnBotProcess(env: NodeJS.ProcessEnv): BotProcess {
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
  return bot;
}

/** For afterEach: no bot process outlives its test. */
export async function killBotProcesses(): Promise<void> {
  for (const bot of running) {
    bot.child.kill('SIGKILL');
    await bot.exited;
  }
}
