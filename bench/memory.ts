import { mkdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { withCluster } from './cluster.ts';
import { type BotProcess, withBot } from './support/bot.ts';
import { growth, type ParsedSnapshot, parseHeapSnapshot } from './support/heap-snapshot.ts';
import { printTable, RESULTS_DIR, round, saveResult, toMiB } from './support/report.ts';
import {
  dispatchAll,
  evenSteps,
  InteractionLog,
  pacedProgressStream,
  type StandIns,
  videoCommands,
} from './support/stand-ins.ts';

/**
 * Bench 11: where the memory of running jobs goes. The single process (BOT_ROLE=all, no Redis) and
 * a worker (beside one gateway, sharing a redis-server) each get BENCH_MEMORY_JOBS running jobs (1,000
 * by default), as in benches 2 and 9. A heap snapshot of the bot process is written idle (before the
 * first job), running (every job's stream open and a few progress events in) and after (every job
 * delivered), to bench/results/heap/ for DevTools; the bench compares them by holder: self bytes and
 * objects per job, and the first-retainer chain of one object of each of the biggest holders.
 * Writing a snapshot collects garbage first, so these are live objects only.
 */

const JOBS = Number(process.env.BENCH_MEMORY_JOBS ?? 1_000);
const STREAM_SECONDS = Number(process.env.BENCH_MEMORY_STREAM_SECONDS ?? 60);
/** After every stream is open: a few progress events and a paced edit for every job. */
const SETTLE_MS = 8_000;
const WAVE = { size: 100, everyMs: 200 };
const HEAP_DIR = `${RESULTS_DIR}heap/`;
const ENV = {
  MAX_CONCURRENT_JOBS: String(JOBS),
  WORKER_CONCURRENCY: String(JOBS),
  STORE_TIMEOUT_MS: '30000',
};
const TOP = 20;
/** BENCH_MEMORY_SNAPSHOTS=0: RSS figures only, no snapshot in the way. */
const SNAPSHOTS = process.env.BENCH_MEMORY_SNAPSHOTS !== '0';
/** RSS-only mode: how long to wait after the last delivery before reading RSS once more (issue 24: 10 min). */
const AFTER_MS = Number(process.env.BENCH_MEMORY_AFTER_SECONDS ?? 0) * 1_000;
/** Which setups to run: `single`, `worker` or both (the default). */
const SETUPS = process.env.BENCH_MEMORY_SETUPS?.split(',') ?? ['single', 'worker'];

type Phase = 'idle' | 'running' | 'after';

export async function runMemoryBench(): Promise<object> {
  mkdirSync(HEAP_DIR, { recursive: true });
  const setups = [];
  if (SETUPS.includes('single')) {
    setups.push(await withBot({ env: ENV }, (standIns, bot) => measure('single', standIns, bot)));
  }
  if (SETUPS.includes('worker')) {
    setups.push(
      await withCluster(
        {},
        [
          { label: 'gateway', role: 'gateway', env: ENV, gateway: 'any' },
          { label: 'worker', role: 'worker', env: ENV, gateway: false },
        ],
        (standIns, members) => measure('worker', standIns, (members[1] as { bot: BotProcess }).bot),
      ),
    );
  }
  const result = {
    description: `${JOBS} jobs, each streaming a progress event every second for ${STREAM_SECONDS} s then a 64 KiB video. Heap snapshots of the bot process (single = BOT_ROLE=all without Redis; worker = BOT_ROLE=worker beside a gateway) idle, with every stream open plus ${SETTLE_MS / 1000} s, and after the last delivery. Per job = (running − idle) / jobs.`,
    jobs: JOBS,
    setups,
  };
  saveResult(SNAPSHOTS ? 'memory' : AFTER_MS > 0 ? 'memory-rss-after' : 'memory-rss', result);
  return result;
}

async function measure(setup: string, { discord, service }: StandIns, bot: BotProcess) {
  const videoUrl = service.addVideo('small.mp4', 64 * 1024);
  service.defaultScenario = pacedProgressStream({
    steps: evenSteps(STREAM_SECONDS),
    everyMs: 1_000,
    videoUrl,
  }).scenario;
  const interactions = videoCommands(discord, JOBS, `memory-${setup}`);
  const log = new InteractionLog(discord);
  await sleep(500);
  const figures: Partial<Record<Phase, { rssMiB: number; heapUsedMiB: number; file: string }>> = {};
  const snapshot = async (phase: Phase) => {
    const file = `${HEAP_DIR}${setup}-${phase}.heapsnapshot`;
    await bot.heapSnapshot(file);
    const report = await bot.report();
    figures[phase] = { rssMiB: toMiB(report.rssNow), heapUsedMiB: toMiB(report.heapUsed), file };
  };
  const startJobs = async () => {
    bot.reset();
    for (let start = 0; start < JOBS; start += WAVE.size) {
      dispatchAll(discord, interactions.slice(start, start + WAVE.size));
      if (start + WAVE.size < JOBS) await sleep(WAVE.everyMs);
    }
  };
  if (!SNAPSHOTS) {
    // RSS alone: writing a snapshot allocates, and would raise every RSS figure after it.
    await startJobs();
    await log.waitForDeliveries(JOBS, (STREAM_SECONDS + 120) * 1_000);
    const report = await bot.report();
    await sleep(AFTER_MS);
    const later = await bot.report();
    const rssMiB = {
      idle: toMiB(bot.idleRss),
      peak: toMiB(Math.max(report.rssPeakSampled, report.rssPeakLifetime)),
      afterLastDelivery: toMiB(report.rssNow),
      ...(AFTER_MS > 0 ? { [`after${AFTER_MS / 1000}s`]: toMiB(later.rssNow) } : {}),
    };
    console.log(
      `\n11. RSS only, ${setup}: idle ${rssMiB.idle} MiB, peak ${rssMiB.peak} MiB with ${JOBS} running jobs, ${rssMiB.afterLastDelivery} MiB after the last delivery${AFTER_MS > 0 ? `, ${toMiB(later.rssNow)} MiB ${AFTER_MS / 1000} s later` : ''}; delivered ${log.delivered}/${JOBS}`,
    );
    return { setup, delivered: log.delivered, rssMiB };
  }
  await snapshot('idle');
  await startJobs();
  while (service.requests.length < JOBS) await sleep(100);
  await sleep(SETTLE_MS);
  const peakBeforeSnapshot = await bot.report();
  await snapshot('running');
  await log.waitForDeliveries(JOBS, (STREAM_SECONDS + 120) * 1_000);
  await snapshot('after');

  const idle = parseHeapSnapshot(figures.idle?.file as string);
  let running: ParsedSnapshot | undefined = parseHeapSnapshot(figures.running?.file as string);
  const perJob = growth(idle, running, TOP).map((row) => ({
    holder: row.holder,
    objectsPerJob: round(row.countDelta / JOBS, 1),
    bytesPerJob: Math.round(row.bytesDelta / JOBS),
  }));
  const heapPerJob = Math.round((running.totalBytes - idle.totalBytes) / JOBS);
  const chains = perJob.slice(0, 8).map((row) => (running as ParsedSnapshot).retainerChain(row.holder));
  running = undefined;
  const after = parseHeapSnapshot(figures.after?.file as string);
  const leftOver = growth(idle, after, 8)
    .filter((row) => row.bytesDelta > 0)
    .map((row) => ({ holder: row.holder, objects: row.countDelta, bytes: row.bytesDelta }));
  const leftOverBytes = after.totalBytes - idle.totalBytes;

  printTable(
    `11. Heap by holder, ${setup}: per running job (${JOBS} jobs; heap ${toMiB(idle.totalBytes)} → ${toMiB(idle.totalBytes + heapPerJob * JOBS)} MiB, ${round(heapPerJob / 1024, 1)} KiB/job)`,
    perJob.map((row) => ({
      holder: row.holder,
      'objects/job': row.objectsPerJob,
      'bytes/job': row.bytesPerJob,
    })),
  );
  console.log('  first-retainer chains (one object each):');
  for (const chain of chains) console.log(`    ${chain}`);
  console.log(
    `  RSS idle ${figures.idle?.rssMiB} MiB, running ${toMiB(peakBeforeSnapshot.rssNow)} MiB (peak ${toMiB(Math.max(peakBeforeSnapshot.rssPeakSampled, peakBeforeSnapshot.rssPeakLifetime))}), after ${figures.after?.rssMiB} MiB; V8 heap reserved ${toMiB(peakBeforeSnapshot.heapTotal)} MiB of which used ${toMiB(peakBeforeSnapshot.heapUsed)}, external ${toMiB(peakBeforeSnapshot.external)} MiB; heap left after the last delivery: ${round(leftOverBytes / 1024, 0)} KiB; delivered ${log.delivered}/${JOBS}`,
  );
  return {
    setup,
    delivered: log.delivered,
    rssMiB: {
      idle: figures.idle?.rssMiB,
      running: toMiB(peakBeforeSnapshot.rssNow),
      peak: toMiB(Math.max(peakBeforeSnapshot.rssPeakSampled, peakBeforeSnapshot.rssPeakLifetime)),
      after: figures.after?.rssMiB,
    },
    heapMiB: { idle: toMiB(idle.totalBytes), after: toMiB(after.totalBytes) },
    /** Where the RSS of the running jobs sits: V8's reserved heap against its live part, and memory outside it. */
    runningProcessMiB: {
      heapTotal: toMiB(peakBeforeSnapshot.heapTotal),
      heapUsed: toMiB(peakBeforeSnapshot.heapUsed),
      external: toMiB(peakBeforeSnapshot.external),
      arrayBuffers: toMiB(peakBeforeSnapshot.arrayBuffers),
    },
    heapKiBPerJob: round(heapPerJob / 1024, 1),
    perJob,
    chains,
    leftOver,
  };
}
