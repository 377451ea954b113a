import { type ChildProcess, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FakeDiscordOptions } from '../../test/fakes/fake-discord/fake-discord.ts';
import type { BotCommand, BotMessage, BotReport } from '../bot-process.ts';
import { compiledEntry } from './compiled.ts';
import { type StandIns, startStandIns } from './stand-ins.ts';

export type { BotReport } from '../bot-process.ts';

const BOT_ENTRY = compiledEntry('bot-process');
export const BENCH_API_KEY = 'sk-bench-0123456789';

/**
 * The bot in a child process (`bench/bot-process.ts`, compiled), started against the
 * stand-ins. BENCH_BOT_NODE_FLAGS adds node flags to it, e.g. `--cpu-prof --cpu-prof-dir=prof`.
 */
export class BotProcess {
  private readonly waiting: Array<(message: BotMessage) => void> = [];

  private constructor(
    private readonly child: ChildProcess,
    private readonly dataDir: string,
    readonly startupMs: number,
    readonly idleRss: number,
  ) {}

  /**
   * `entry` is the real bot unless a bench brings its own yardstick (which then only answers `stop`).
   * `options.gateway`: which gateway READY to wait for besides the process's own ready message: any
   * shard (the default), one shard, or none (`false`, for a worker, which has no gateway).
   */
  static async start(
    standIns: StandIns,
    env: Record<string, string> = {},
    entry = BOT_ENTRY,
    options: BotStartOptions = {},
  ): Promise<BotProcess> {
    const gateway = options.gateway ?? 'any';
    const label = options.label ?? 'bench bot';
    const dataDir = await mkdtemp(path.join(tmpdir(), 'sora-bot-bench-'));
    const extraFlags = process.env.BENCH_BOT_NODE_FLAGS?.split(/\s+/).filter(Boolean) ?? [];
    const child = fork(entry, [], {
      execArgv: [...(entry === BOT_ENTRY ? npmStartFlags() : []), ...extraFlags],
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? tmpdir(),
        TMPDIR: tmpdir(),
        DISCORD_TOKEN: standIns.discord.botToken,
        DISCORD_API_URL: standIns.discord.apiUrl,
        SORA_API_KEY: BENCH_API_KEY,
        SORA_API_URL: standIns.service.apiUrl,
        ALLOW_PRIVATE_VIDEO_URLS: 'true',
        LOG_LEVEL: 'warn',
        DEFAULT_MAX_RUNNING_PER_MEMBER: '0',
        MAX_CONCURRENT_JOBS: '2000',
        DATA_DIR: dataDir,
        ...env,
      },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const ready =
      gateway === false
        ? undefined
        : standIns.discord.nextReady({ timeoutMs: 60_000, shard: gateway === 'any' ? undefined : gateway });
    // Awaited below; until then a failed start must not leave it rejecting unhandled.
    ready?.catch(() => {});
    const first = await new Promise<BotMessage>((resolve, reject) => {
      child.once('message', resolve);
      child.once('exit', (code) =>
        reject(new Error(`${label} exited with code ${code} before it was ready`)),
      );
    });
    await ready;
    if (first.type !== 'ready') throw new Error(`${label}: expected ready, got ${first.type}`);
    const bot = new BotProcess(child, dataDir, first.startupMs, first.rss);
    child.on('message', (message: BotMessage) => bot.waiting.shift()?.(message));
    return bot;
  }

  /** Starts a measuring window: CPU, event-loop delay and sampled peak RSS count from here. */
  reset(sampleMs?: number): void {
    this.send({ cmd: 'reset', sampleMs });
  }

  async report(): Promise<BotReport> {
    const reply = await this.ask({ cmd: 'report' });
    if (reply.type !== 'report') throw new Error(`bench bot: expected a report, got ${reply.type}`);
    return reply;
  }

  async heapSnapshot(file: string): Promise<void> {
    await this.ask({ cmd: 'heap-snapshot', file });
  }

  async stop(): Promise<void> {
    const exited = new Promise<void>((resolve) => {
      if (this.child.exitCode !== null) resolve();
      else this.child.once('exit', () => resolve());
    });
    const killer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    this.send({ cmd: 'stop' });
    await exited;
    clearTimeout(killer);
    await rm(this.dataDir, { recursive: true, force: true });
  }

  private send(command: BotCommand): void {
    this.child.send(command);
  }

  private ask(command: BotCommand): Promise<BotMessage> {
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.send(command);
    });
  }
}

export interface BotStartOptions {
  /** The gateway READY to wait for: any shard (default), this shard, or none (a worker). */
  gateway?: 'any' | number | false;
  /** Names the process in errors. */
  label?: string;
}

/**
 * The node flags `npm start` gives the bot (package.json), so the bench measures the process an
 * operator runs: its heap settings decide most of the RSS of running jobs (bench/README.md).
 */
function npmStartFlags(): string[] {
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    scripts: { start: string };
  };
  return manifest.scripts.start.split(/\s+/).filter((word) => word.startsWith('--'));
}

/** Fresh stand-ins and a bot process against them for `run`; both are stopped afterwards, whatever happens. */
export async function withBot<T>(
  setup: { discord?: FakeDiscordOptions; env?: Record<string, string>; entry?: string },
  run: (standIns: StandIns, bot: BotProcess) => Promise<T>,
): Promise<T> {
  const standIns = await startStandIns(setup.discord);
  try {
    const bot = await BotProcess.start(standIns, setup.env, setup.entry);
    try {
      return await run(standIns, bot);
    } finally {
      await bot.stop();
    }
  } finally {
    await standIns.close();
  }
}
