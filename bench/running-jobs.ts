import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { withBot } from './support/bot.ts';
import { printTable, round, saveResult, spread, toMiB, verdict } from './support/report.ts';
import {
  dispatchAll,
  evenSteps,
  InteractionLog,
  pacedProgressStream,
  videoCommands,
} from './support/stand-ins.ts';

/**
 * Bench 2: what running jobs cost. 100, 500 and 1,000 `/video` jobs stream at once from the fake
 * relay (a progress event every second for 60 s, then a 64 KiB video), all delivered. A fresh bot
 * process per size, so its lifetime peak RSS is the peak of that size.
 */

const SIZES = process.env.BENCH_RUNNING_JOBS_SIZES?.split(',').map(Number) ?? [100, 500, 1_000];
const STREAM_SECONDS = 60;
/** Jobs are started in waves, as members would send them, not in one gateway frame burst. */
const WAVE = { size: 100, everyMs: 200 };
const TARGET = { rssMiB: 150, atSize: 1_000 };

export async function runRunningJobsBench(): Promise<object> {
  const rows = [];
  for (const size of SIZES) rows.push(await runningJobs(size));
  const atTarget = rows.find((row) => row.jobs === TARGET.atSize);
  const result = {
    description: `Each job streams ${STREAM_SECONDS} progress events 1 s apart, then a 64 KiB video is delivered. One fresh bot process per size; the window runs from the first dispatch to the last delivery. PROGRESS_EDIT_INTERVAL_MS=5000.`,
    targets: TARGET,
    verdict: atTarget && { rss: verdict(atTarget.bot.rssPeakMiB, TARGET.rssMiB) },
    rows,
  };
  printTable(
    `2. Cost of running jobs (${STREAM_SECONDS} s streams, a progress event per second)`,
    rows.map((row) => ({
      jobs: row.jobs,
      'peak RSS MiB': row.bot.rssPeakMiB,
      'idle RSS MiB': row.bot.idleRssMiB,
      'KiB/job': row.bot.kibPerJob,
      'CPU s': row.bot.cpuSeconds,
      'CPU s per job-min': row.bot.cpuSecondsPerJobMinute,
      'loop delay p99 ms': row.bot.loopDelayP99Ms,
      'edits/job': row.editsPerJob,
      delivered: `${row.delivered}/${row.jobs}`,
    })),
  );
  console.log(
    `  target: ${TARGET.atSize} running jobs in ≤ ${TARGET.rssMiB} MiB RSS (${result.verdict?.rss}); idle RSS is the bot after start-up, before any job (compiled, as npm start runs it)`,
  );
  saveResult('running-jobs', result);
  return result;
}

/** One size on a fresh single-process bot (BOT_ROLE=all, no Redis); the cluster bench reuses it. */
export function runningJobs(size: number, streamSeconds = STREAM_SECONDS, env: Record<string, string> = {}) {
  return withBot(
    { env: { MAX_CONCURRENT_JOBS: String(size), ...env } },
    async ({ discord, service }, bot) => {
      const videoUrl = service.addVideo('small.mp4', 64 * 1024);
      service.defaultScenario = pacedProgressStream({
        steps: evenSteps(streamSeconds),
        everyMs: 1_000,
        videoUrl,
      }).scenario;
      const standInLoop = monitorEventLoopDelay({ resolution: 5 });
      const interactions = videoCommands(discord, size, `running${size}`);
      const log = new InteractionLog(discord);
      await sleep(500);
      bot.reset();
      standInLoop.enable();
      for (let start = 0; start < size; start += WAVE.size) {
        dispatchAll(discord, interactions.slice(start, start + WAVE.size));
        if (start + WAVE.size < size) await sleep(WAVE.everyMs);
      }
      await log.waitForDeliveries(size, (streamSeconds + 120) * 1_000);
      const report = await bot.report();
      standInLoop.disable();
      const durations = interactions.map(
        (ix) => (log.timeline(ix).deliveredAt ?? Date.now()) - ix.dispatchedAt,
      );
      const jobMinutes = durations.reduce((sum, ms) => sum + ms, 0) / 60_000;
      const cpuSeconds = (report.cpuUserMs + report.cpuSystemMs) / 1000;
      const rssPeak = Math.max(report.rssPeakLifetime, report.rssPeakSampled);
      return {
        jobs: size,
        answered: interactions.filter((ix) => log.timeline(ix).callbackAt !== undefined).length,
        delivered: log.delivered,
        jobDurationMs: spread(durations),
        jobMinutes: round(jobMinutes, 1),
        editsPerJob: round(log.editRequests / size, 1),
        rateLimited: log.rateLimited,
        bot: {
          idleRssMiB: toMiB(bot.idleRss),
          rssPeakMiB: toMiB(rssPeak),
          kibPerJob: round((rssPeak - bot.idleRss) / 1024 / size, 0),
          cpuSeconds: round(cpuSeconds, 1),
          cpuSecondsPerJobMinute: round(cpuSeconds / jobMinutes, 3),
          loopDelayP99Ms: round(report.loopDelayMs.p99),
          loopDelayMaxMs: round(report.loopDelayMs.max),
          heapUsedMiBAtEnd: toMiB(report.heapUsed),
          logged: report.logged,
        },
        standIns: {
          loopDelayP99Ms: round(standInLoop.percentile(99) / 1e6),
          rssMiB: toMiB(process.memoryUsage.rss()),
        },
      };
    },
  );
}
