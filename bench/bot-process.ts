import { monitorEventLoopDelay } from 'node:perf_hooks';
import { writeHeapSnapshot } from 'node:v8';
import { startApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';

/**
 * The real bot (the same `startApp` as `npm start`) in a process of its own, so that its memory and
 * CPU are measured apart from the stand-ins. It reports on itself over the IPC channel of `fork`:
 * CPU time, resident memory (sampled, and the kernel's lifetime peak), event-loop delay, and a
 * count of the warnings and errors it logged.
 */

export type BotCommand =
  | { cmd: 'reset'; sampleMs?: number }
  | { cmd: 'report' }
  | { cmd: 'heap-snapshot'; file: string }
  | { cmd: 'stop' };

export interface BotReport {
  type: 'report';
  /** Since the last reset. */
  wallMs: number;
  cpuUserMs: number;
  cpuSystemMs: number;
  rssNow: number;
  /** Highest sampled RSS since the last reset. */
  rssPeakSampled: number;
  /** The kernel's peak RSS over the whole life of the process (`ru_maxrss`). */
  rssPeakLifetime: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  loopDelayMs: { p50: number; p99: number; max: number; mean: number };
  /** Warning and error log lines since start, by event name. */
  logged: Record<string, number>;
  sampleLines: string[];
}

export type BotMessage = { type: 'ready'; startupMs: number; rss: number } | BotReport | { type: 'done' };

const started = performance.now();
const logged: Record<string, number> = {};
const sampleLines: string[] = [];
const MAX_SAMPLE_LINES = 10;

const app = await startApp(loadConfig(process.env), {
  writeLog: (line) => {
    const event = /"event":"([^"]+)"/.exec(line)?.[1] ?? 'unknown';
    logged[event] = (logged[event] ?? 0) + 1;
    if (sampleLines.length < MAX_SAMPLE_LINES) sampleLines.push(line.slice(0, 500));
  },
});

const loopDelay = monitorEventLoopDelay({ resolution: 5 });
loopDelay.enable();
let since = { at: performance.now(), cpu: process.cpuUsage() };
let rssPeak = process.memoryUsage.rss();
let sampler = startSampler(100);

function startSampler(everyMs: number): NodeJS.Timeout {
  const timer = setInterval(() => {
    const rss = process.memoryUsage.rss();
    if (rss > rssPeak) rssPeak = rss;
  }, everyMs);
  timer.unref();
  return timer;
}

function send(message: BotMessage): void {
  process.send?.(message);
}

function report(): BotReport {
  const cpu = process.cpuUsage(since.cpu);
  const memory = process.memoryUsage();
  const ms = (ns: number) => ns / 1e6;
  return {
    type: 'report',
    wallMs: performance.now() - since.at,
    cpuUserMs: cpu.user / 1000,
    cpuSystemMs: cpu.system / 1000,
    rssNow: memory.rss,
    rssPeakSampled: Math.max(rssPeak, memory.rss),
    rssPeakLifetime: process.resourceUsage().maxRSS * 1024,
    heapTotal: memory.heapTotal,
    heapUsed: memory.heapUsed,
    external: memory.external,
    arrayBuffers: memory.arrayBuffers,
    loopDelayMs: {
      p50: ms(loopDelay.percentile(50)),
      p99: ms(loopDelay.percentile(99)),
      max: ms(loopDelay.max),
      mean: ms(loopDelay.mean),
    },
    logged: { ...logged },
    sampleLines: [...sampleLines],
  };
}

process.on('message', (message: BotCommand) => {
  switch (message.cmd) {
    case 'reset':
      loopDelay.reset();
      since = { at: performance.now(), cpu: process.cpuUsage() };
      rssPeak = process.memoryUsage.rss();
      clearInterval(sampler);
      sampler = startSampler(message.sampleMs ?? 100);
      return;
    case 'report':
      send(report());
      return;
    case 'heap-snapshot':
      writeHeapSnapshot(message.file);
      send({ type: 'done' });
      return;
    case 'stop':
      clearInterval(sampler);
      loopDelay.disable();
      app.stop().finally(() => process.exit(0));
      return;
  }
});

// The bench that started this process is gone: nothing will ever stop it otherwise.
process.on('disconnect', () => process.exit(1));

send({ type: 'ready', startupMs: performance.now() - started, rss: process.memoryUsage.rss() });
