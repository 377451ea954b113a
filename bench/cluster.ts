import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type {
  FakeDiscord,
  FakeDiscordOptions,
  RequestRecord,
} from '../test/fakes/fake-discord/fake-discord.ts';
import { startRedisServer } from '../test/harness/redis-server.ts';
import { runningJobs } from './running-jobs.ts';
import { BotProcess, type BotReport } from './support/bot.ts';
import { compiledEntry } from './support/compiled.ts';
import { printTable, round, saveResult, spread, toMiB, verdict } from './support/report.ts';
import {
  dispatchAll,
  evenSteps,
  InteractionLog,
  pacedProgressStream,
  type StandIns,
  startStandIns,
  type VideoInteraction,
  videoCommands,
} from './support/stand-ins.ts';

/**
 * Bench 9: the bot as several processes (BOT_ROLE=gateway / worker, sharing a real redis-server).
 *
 * 1. What a worker costs with 1,000 running jobs (one gateway, one worker), beside the single
 *    process (BOT_ROLE=all, no Redis) running the same 1,000 jobs in the same run.
 * 2. A 200-request burst across two gateways (shards 0 and 1, alternating guilds) with two workers:
 *    answer (defer) and delivery times, measured as bench 1 measures them.
 * 3. Throughput: 200 jobs of a 2 s stream through one worker, then two (WORKER_CONCURRENCY=50 each).
 *
 * Every bot process is the compiled `bench/bot-process.ts` and reports its own CPU and RSS.
 * BENCH_CLUSTER_QUICK=1 runs a small version of each part (for trying the bench out, not for figures).
 */

const QUICK = process.env.BENCH_CLUSTER_QUICK === '1';
const RUNNING = { jobs: QUICK ? 100 : 1_000, streamSeconds: QUICK ? 10 : 60 };
/** Jobs are started in waves, as in bench 2. */
const WAVE = { size: 100, everyMs: 200 };
const BURST = { jobs: QUICK ? 40 : 200, warmup: 6 };
const THROUGHPUT = { jobs: QUICK ? 60 : 200, workerConcurrency: 50, workers: [1, 2] };
/** The burst and throughput streams: ten progress events 200 ms apart (about 2 s), as in bench 1. */
const SHORT_STREAM = { steps: 10, everyMs: 200 };
/**
 * A diagnostic beside the real settings: DISCORD_REQUESTS_PER_SECOND so high that the cluster's
 * shared REST window (and discord.js's own limiter) never holds a request back.
 */
/**
 * Part 1 only: the store's per-call timeout (default 2 s) counts the time a call waits behind this
 * process's other store calls, and 1,000 admissions in 2 s wait longer than that on SQLite: most
 * would be refused as "store unavailable" (see bench/README.md). Part 1 measures running jobs, so
 * every process there gets a long timeout; parts 2 and 3 keep the default.
 */
const RUNNING_ENV = { STORE_TIMEOUT_MS: '30000' };
const LIFTED = { DISCORD_REQUESTS_PER_SECOND: '100000' };
const TARGETS = { workerRssMiB: 150, atJobs: 1_000, deferP99Ms: 50, deliveryP99Ms: 4_000 };
/** Past this, or this long without a delivery, a part reports what it has rather than failing the whole bench. */
const DELIVERY_SLACK_MS = 120_000;
const STALL_MS = 30_000;

const BOT_ENTRY = compiledEntry('bot-process');

type Role = 'all' | 'gateway' | 'worker';

export interface ProcessSpec {
  label: string;
  role: Role;
  env: Record<string, string>;
  /** Which gateway READY to wait for: `false` for a worker (it has no gateway). */
  gateway: 'any' | number | false;
}

interface Member {
  spec: ProcessSpec;
  bot: BotProcess;
}

export async function runClusterBench(): Promise<object> {
  const single = await runningJobs(RUNNING.jobs, RUNNING.streamSeconds, RUNNING_ENV);
  const running = await clusterRunningJobs();
  const burst = await clusterBurst();
  const burstLifted = await clusterBurst(LIFTED);
  const throughput = [];
  for (const workers of THROUGHPUT.workers) throughput.push(await clusterThroughput(workers));
  throughput.push(await clusterThroughput(Math.max(...THROUGHPUT.workers), LIFTED));

  const worker = running.processes.find((each) => each.role === 'worker');
  const result = {
    description: [
      'Bot processes: the compiled bench/bot-process.ts (startApp), each reporting its own CPU (process.cpuUsage) and RSS (sampled every 100 ms, and ru_maxrss). Cluster parts share a fresh redis-server per part; BOT_ROLE=gateway processes hold the shards, BOT_ROLE=worker processes run the jobs over REST.',
      `Part 1: ${RUNNING.jobs} jobs, each streaming a progress event every second for ${RUNNING.streamSeconds} s then a 64 KiB video, started in waves of ${WAVE.size} every ${WAVE.everyMs} ms; single = BOT_ROLE=all without Redis (bench 2's helper); cluster = 1 gateway + 1 worker with WORKER_CONCURRENCY=MAX_CONCURRENT_JOBS=${RUNNING.jobs}. Window: first dispatch → last delivery.`,
      `Part 2: ${BURST.jobs} /video at once over two gateways (SHARD_COUNT=2, one shard each; guilds alternate, so ${BURST.jobs / 2} per shard) and two workers; answer = dispatch → defer callback, delivery = dispatch → the PATCH with the video. Stream: ${SHORT_STREAM.steps} events ${SHORT_STREAM.everyMs} ms apart.`,
      `Part 3: ${THROUGHPUT.jobs} /video at once through one gateway to 1 or 2 workers with WORKER_CONCURRENCY=${THROUGHPUT.workerConcurrency}; jobs per minute = jobs / (first dispatch → last delivery).`,
      'REST req/s: requests to the fake Discord other than interaction callbacks and CDN reads, per wall-clock second of the window (max, and mean over the window).',
    ],
    quick: QUICK,
    targets: TARGETS,
    verdict: {
      workerRss:
        worker && RUNNING.jobs === TARGETS.atJobs ? verdict(worker.rssPeakMiB, TARGETS.workerRssMiB) : 'n/a',
      deferP99: verdict(burst.answerMs.p99, TARGETS.deferP99Ms),
      deliveryP99: verdict(burst.deliveryMs.p99, TARGETS.deliveryP99Ms),
    },
    runningJobs: { single, cluster: running },
    burst,
    burstLifted,
    throughput,
  };

  printTable(
    `9.1 Running jobs, several processes (${RUNNING.jobs} jobs, ${RUNNING.streamSeconds} s streams, a progress event per second)`,
    [
      {
        setup: 'single (all, no Redis)',
        process: 'all',
        'peak RSS MiB': single.bot.rssPeakMiB,
        'idle RSS MiB': single.bot.idleRssMiB,
        'KiB/job': single.bot.kibPerJob,
        'CPU s': single.bot.cpuSeconds,
        'CPU s per job-min': single.bot.cpuSecondsPerJobMinute,
        'loop delay p99 ms': single.bot.loopDelayP99Ms,
        'edits/job': single.editsPerJob,
        'job s p50': round(single.jobDurationMs.p50 / 1000, 1),
        'job s max': round(single.jobDurationMs.max / 1000, 1),
        delivered: `${single.delivered}/${single.jobs}`,
      },
      ...running.processes.map((each) => ({
        setup: 'gateway + worker',
        process: each.label,
        'peak RSS MiB': each.rssPeakMiB,
        'idle RSS MiB': each.idleRssMiB,
        'KiB/job': each.kibPerJob,
        'CPU s': each.cpuSeconds,
        'CPU s per job-min': each.cpuSecondsPerJobMinute,
        'loop delay p99 ms': each.loopDelayP99Ms,
        'edits/job': running.editsPerJob,
        'job s p50': round(running.jobDurationMs.p50 / 1000, 1),
        'job s max': round(running.jobDurationMs.max / 1000, 1),
        delivered: `${running.delivered}/${running.jobs}`,
      })),
    ],
  );
  console.log(
    `  cluster: at most ${running.peakOpenStreams} relay streams open at once; REST req/s max ${running.rest.maxPerSecond}, mean ${running.rest.meanPerSecond}; target: worker ≤ ${TARGETS.workerRssMiB} MiB at ${TARGETS.atJobs} jobs (${result.verdict.workerRss})`,
  );

  printTable(
    `9.2 Burst over two gateways and two workers (${BURST.jobs} at once, ms from the gateway dispatch)`,
    [burst, burstLifted].map((burst) => ({
      'REST limit': burst.restLimit,
      'at once': burst.jobs,
      'answer p50': burst.answerMs.p50,
      'answer p99': burst.answerMs.p99,
      'answer max': burst.answerMs.max,
      'delivery p50': burst.deliveryMs.p50,
      'delivery p99': burst.deliveryMs.p99,
      'delivery max': burst.deliveryMs.max,
      'REST req/s max': burst.rest.maxPerSecond,
      delivered: `${burst.delivered}/${burst.jobs}`,
      'stand-ins loop delay p99': burst.standIns.loopDelayP99Ms,
    })),
  );
  printTable(
    '    per process',
    [burst, burstLifted]
      .flatMap((run) => run.processes.map((each) => ({ run, each })))
      .map(({ run, each }) => ({
        'REST limit': run.restLimit,
        process: each.label,
        'CPU s': each.cpuSeconds,
        'loop delay p99 ms': each.loopDelayP99Ms,
        'peak RSS MiB': each.rssPeakMiB,
      })),
  );
  console.log(
    `  targets: answer p99 ≤ ${TARGETS.deferP99Ms} ms (${result.verdict.deferP99}), delivery p99 ≤ ${TARGETS.deliveryP99Ms} ms (${result.verdict.deliveryP99})`,
  );

  printTable(
    `9.3 Throughput (${THROUGHPUT.jobs} jobs of a 2 s stream, WORKER_CONCURRENCY=${THROUGHPUT.workerConcurrency} per worker)`,
    throughput.map((row) => ({
      'REST limit': row.restLimit,
      workers: row.workers,
      'window s': row.windowSeconds,
      'jobs/min': row.jobsPerMinute,
      'ideal jobs/min': row.idealJobsPerMinute,
      'delivery p50 ms': row.deliveryMs.p50,
      'delivery max ms': row.deliveryMs.max,
      'REST req/s max': row.rest.maxPerSecond,
      'REST req/s mean': row.rest.meanPerSecond,
      'gateway CPU s': row.processes.find((each) => each.role === 'gateway')?.cpuSeconds,
      'worker CPU s': row.processes
        .filter((each) => each.role === 'worker')
        .map((each) => each.cpuSeconds)
        .join(' + '),
      delivered: `${row.delivered}/${row.jobs}`,
    })),
  );
  console.log(
    `  ideal: every slot busy, each job taking the fastest single job's time (${THROUGHPUT.workerConcurrency} × workers / fastest × 60 s)`,
  );
  const logged = [
    ['9.1 single', single.bot.logged],
    ...running.processes.map((each) => [`9.1 ${each.label}`, each.logged]),
    ...[burst, burstLifted].flatMap((run) =>
      run.processes.map((each) => [`9.2 ${run.restLimit} ${each.label}`, each.logged]),
    ),
    ...throughput.flatMap((run) =>
      run.processes.map((each) => [`9.3 ${run.restLimit} ×${run.workers} ${each.label}`, each.logged]),
    ),
  ].filter(([, events]) => Object.keys(events as object).length > 0);
  console.log(
    logged.length === 0
      ? '  no process logged a warning or an error'
      : `  warnings and errors logged:\n${logged.map(([who, events]) => `    ${who}: ${JSON.stringify(events)}`).join('\n')}`,
  );
  saveResult('cluster', result);
  return result;
}

// --- Part 1 ---------------------------------------------------------------------------------

async function clusterRunningJobs() {
  const jobs = RUNNING.jobs;
  const env = { MAX_CONCURRENT_JOBS: String(jobs), WORKER_CONCURRENCY: String(jobs), ...RUNNING_ENV };
  return withCluster(
    {},
    [
      { label: 'gateway', role: 'gateway', env, gateway: 'any' },
      { label: 'worker', role: 'worker', env, gateway: false },
    ],
    async ({ discord, service }, members) => {
      const videoUrl = service.addVideo('small.mp4', 64 * 1024);
      service.defaultScenario = pacedProgressStream({
        steps: evenSteps(RUNNING.streamSeconds),
        everyMs: 1_000,
        videoUrl,
      }).scenario;
      const interactions = videoCommands(discord, jobs, `cluster-running${jobs}`);
      const log = new InteractionLog(discord);
      const firstRequest = discord.requests.length;
      await sleep(500);
      for (const { bot } of members) bot.reset();
      const openStreams = countOpenStreams(service);
      for (let start = 0; start < jobs; start += WAVE.size) {
        dispatchAll(discord, interactions.slice(start, start + WAVE.size));
        if (start + WAVE.size < jobs) await sleep(WAVE.everyMs);
      }
      const timedOut = await waitForDeliveries(
        log,
        jobs,
        RUNNING.streamSeconds * 1_000 + DELIVERY_SLACK_MS,
        RUNNING.streamSeconds * 1_000 + STALL_MS,
      );
      const reports = await Promise.all(members.map(({ bot }) => bot.report()));
      const peakOpenStreams = openStreams.stop();
      const durations = interactions.map(
        (ix) => (log.timeline(ix).deliveredAt ?? Date.now()) - ix.dispatchedAt,
      );
      const jobMinutes = durations.reduce((sum, ms) => sum + ms, 0) / 60_000;
      return {
        jobs,
        timedOut,
        answered: interactions.filter((ix) => log.timeline(ix).callbackAt !== undefined).length,
        delivered: log.delivered,
        jobDurationMs: spread(durations),
        jobMinutes: round(jobMinutes, 1),
        editsPerJob: round(log.editRequests / jobs, 1),
        rateLimited: log.rateLimited,
        peakOpenStreams,
        rest: restRate(discord.requests, firstRequest),
        processes: members.map((member, index) =>
          processFigures(member, reports[index] as BotReport, jobs, jobMinutes),
        ),
        standIns: { rssMiB: toMiB(process.memoryUsage.rss()) },
      };
    },
  );
}

// --- Part 2 ---------------------------------------------------------------------------------

async function clusterBurst(extraEnv: Record<string, string> = {}) {
  const jobs = BURST.jobs;
  const env = { MAX_CONCURRENT_JOBS: String(jobs + 50), WORKER_CONCURRENCY: String(jobs), ...extraEnv };
  const gatewayEnv = (shard: number) => ({ ...env, SHARD_COUNT: '2', SHARD_IDS: String(shard) });
  return withCluster(
    { shardCount: 2, maxConcurrency: 2 },
    [
      { label: 'gateway 0', role: 'gateway', env: gatewayEnv(0), gateway: 0 },
      { label: 'gateway 1', role: 'gateway', env: gatewayEnv(1), gateway: 1 },
      { label: 'worker a', role: 'worker', env, gateway: false },
      { label: 'worker b', role: 'worker', env, gateway: false },
    ],
    async (standIns, members) => {
      const { discord } = standIns;
      useShortStream(standIns);
      const alternate = (index: number) =>
        index % 2 === 0
          ? { guild: discord.guild, channel: discord.channel }
          : { guild: discord.otherGuild, channel: discord.otherGuildChannel };
      await timedBurst(
        discord,
        videoCommands(discord, BURST.warmup, 'cluster-warmup', { placeOf: alternate }),
      );
      await sleep(1_000);
      const interactions = videoCommands(discord, jobs, `cluster-burst${jobs}`, { placeOf: alternate });
      const shards = interactions.map((ix) => discord.shardOf(ix.guildId));
      for (const { bot } of members) bot.reset();
      const measured = await timedBurst(discord, interactions);
      const reports = await Promise.all(members.map(({ bot }) => bot.report()));
      return {
        restLimit: restLimitOf(env),
        jobs,
        perShard: [0, 1].map((shard) => shards.filter((each) => each === shard).length),
        ...measured,
        processes: members.map((member, index) => processFigures(member, reports[index] as BotReport, jobs)),
      };
    },
  );
}

// --- Part 3 ---------------------------------------------------------------------------------

async function clusterThroughput(workers: number, extraEnv: Record<string, string> = {}) {
  const jobs = THROUGHPUT.jobs;
  const env = {
    MAX_CONCURRENT_JOBS: String(jobs * 5),
    WORKER_CONCURRENCY: String(THROUGHPUT.workerConcurrency),
    ...extraEnv,
  };
  const workerSpecs: ProcessSpec[] = Array.from({ length: workers }, (_, index) => ({
    label: `worker ${String.fromCharCode(97 + index)}`,
    role: 'worker',
    env,
    gateway: false,
  }));
  return withCluster(
    {},
    [{ label: 'gateway', role: 'gateway', env, gateway: 'any' }, ...workerSpecs],
    async (standIns, members) => {
      const { discord } = standIns;
      useShortStream(standIns);
      const warmup = await timedBurst(discord, videoCommands(discord, 4, `throughput-warmup${workers}`));
      await sleep(1_000);
      const interactions = videoCommands(discord, jobs, `throughput${workers}`);
      for (const { bot } of members) bot.reset();
      const measured = await timedBurst(discord, interactions);
      const reports = await Promise.all(members.map(({ bot }) => bot.report()));
      const windowMs = measured.windowMs;
      // One job alone: the warm-up's jobs barely compete.
      const fastestMs = warmup.deliveryMs.p50;
      return {
        restLimit: restLimitOf(env),
        workers,
        jobs,
        workerConcurrency: THROUGHPUT.workerConcurrency,
        ...measured,
        windowSeconds: round(windowMs / 1000, 1),
        jobsPerMinute: Math.round((measured.delivered / windowMs) * 60_000),
        fastestJobMs: fastestMs,
        idealJobsPerMinute: Math.round(((THROUGHPUT.workerConcurrency * workers) / fastestMs) * 60_000),
        processes: members.map((member, index) => processFigures(member, reports[index] as BotReport, jobs)),
      };
    },
  );
}

// --- Shared ---------------------------------------------------------------------------------

/** How the bot's REST was limited in a run, for the tables. */
function restLimitOf(env: Record<string, string>): string {
  return env.DISCORD_REQUESTS_PER_SECOND ? 'lifted' : '50/s (default)';
}

/** Peak number of relay streams open at once, sampled every 100 ms. */
function countOpenStreams(service: StandIns['service']) {
  let seen = 0;
  let ended = 0;
  let peak = 0;
  const timer = setInterval(() => {
    for (; seen < service.requests.length; seen++) {
      const count = () => {
        ended += 1;
      };
      void service.requests[seen]?.ended.then(count, count);
    }
    peak = Math.max(peak, seen - ended);
  }, 100);
  return {
    stop(): number {
      clearInterval(timer);
      return peak;
    },
  };
}

function useShortStream({ service }: StandIns): void {
  const videoUrl = service.addVideo('small.mp4', 64 * 1024);
  service.defaultScenario = pacedProgressStream({
    steps: evenSteps(SHORT_STREAM.steps),
    everyMs: SHORT_STREAM.everyMs,
    videoUrl,
  }).scenario;
}

/** Dispatches `interactions` in one tight loop and waits for every delivery; times as bench 1 takes them. */
async function timedBurst(discord: FakeDiscord, interactions: readonly VideoInteraction[]) {
  const log = new InteractionLog(discord);
  const firstRequest = discord.requests.length;
  const standInLoop = monitorEventLoopDelay({ resolution: 5 });
  standInLoop.enable();
  dispatchAll(discord, interactions);
  const timedOut = await waitForDeliveries(log, interactions.length, DELIVERY_SLACK_MS, STALL_MS);
  standInLoop.disable();
  const answers: number[] = [];
  const deliveries: number[] = [];
  let lastDelivery = 0;
  for (const ix of interactions) {
    const timeline = log.timeline(ix);
    if (timeline.callbackAt !== undefined) answers.push(timeline.callbackAt - ix.dispatchedAt);
    if (timeline.deliveredAt !== undefined) {
      deliveries.push(timeline.deliveredAt - ix.dispatchedAt);
      lastDelivery = Math.max(lastDelivery, timeline.deliveredAt);
    }
  }
  const firstDispatch = Math.min(...interactions.map((ix) => ix.dispatchedAt));
  return {
    timedOut,
    answered: answers.length,
    delivered: deliveries.length,
    answerMs: spread(answers),
    deliveryMs: spread(deliveries),
    windowMs: lastDelivery - firstDispatch,
    editsPerJob: round(log.editRequests / interactions.length, 1),
    rateLimited: log.rateLimited,
    rest: restRate(discord.requests, firstRequest),
    standIns: { loopDelayP99Ms: round(standInLoop.percentile(99) / 1e6) },
  };
}

/**
 * Waits for `count` deliveries. Gives up after `timeoutMs`, or once no video was delivered for
 * `stallMs` (jobs that were refused never deliver); then says so and lets the bench report what it has.
 */
async function waitForDeliveries(
  log: InteractionLog,
  count: number,
  timeoutMs: number,
  stallMs: number,
): Promise<boolean> {
  const started = Date.now();
  let lastChange = started;
  let delivered = log.delivered;
  for (;;) {
    log.update();
    const now = Date.now();
    if (log.delivered >= count) return false;
    if (log.delivered !== delivered) {
      delivered = log.delivered;
      lastChange = now;
    }
    if (now - started > timeoutMs || now - lastChange > stallMs) {
      console.warn(`  only ${log.delivered} of ${count} videos delivered; reporting what was delivered`);
      return true;
    }
    await sleep(50);
  }
}

/** Requests the bot made to the fake Discord, but interaction callbacks and CDN reads, per second. */
function restRate(requests: readonly RequestRecord[], from: number) {
  const perSecond = new Map<number, number>();
  let count = 0;
  for (let index = from; index < requests.length; index++) {
    const request = requests[index] as RequestRecord;
    if (
      request.route.endsWith('/callback') ||
      request.route.startsWith('/attachments') ||
      request.route.startsWith('/media') ||
      request.route.startsWith('/gateway')
    )
      continue;
    const second = Math.floor(request.at / 1000);
    perSecond.set(second, (perSecond.get(second) ?? 0) + 1);
    count += 1;
  }
  const seconds = [...perSecond.keys()];
  const span = seconds.length ? Math.max(...seconds) - Math.min(...seconds) + 1 : 0;
  return {
    requests: count,
    maxPerSecond: seconds.length ? Math.max(...perSecond.values()) : 0,
    meanPerSecond: span ? round(count / span, 1) : 0,
  };
}

function processFigures(member: Member, report: BotReport, jobs: number, jobMinutes?: number) {
  const cpuSeconds = (report.cpuUserMs + report.cpuSystemMs) / 1000;
  const rssPeak = Math.max(report.rssPeakLifetime, report.rssPeakSampled);
  return {
    label: member.spec.label,
    role: member.spec.role,
    idleRssMiB: toMiB(member.bot.idleRss),
    rssPeakMiB: toMiB(rssPeak),
    rssPeakWindowMiB: toMiB(report.rssPeakSampled),
    kibPerJob: round((rssPeak - member.bot.idleRss) / 1024 / jobs, 0),
    cpuSeconds: round(cpuSeconds, 2),
    ...(jobMinutes ? { cpuSecondsPerJobMinute: round(cpuSeconds / jobMinutes, 3) } : {}),
    loopDelayP99Ms: round(report.loopDelayMs.p99),
    loopDelayMaxMs: round(report.loopDelayMs.max),
    heapUsedMiBAtEnd: toMiB(report.heapUsed),
    startupMs: Math.round(member.bot.startupMs),
    logged: report.logged,
    sampleLines: report.sampleLines,
  };
}

/**
 * A fresh redis-server, fresh stand-ins and the bot processes of `specs` (started one after
 * another, gateways first as listed), all sharing that Redis; everything is stopped afterwards.
 */
export async function withCluster<T>(
  discordOptions: FakeDiscordOptions,
  specs: readonly ProcessSpec[],
  run: (standIns: StandIns, members: Member[]) => Promise<T>,
): Promise<T> {
  const redis = await startRedisServer();
  try {
    const standIns = await startStandIns(discordOptions);
    const members: Member[] = [];
    try {
      for (const spec of specs) {
        const env = { ...spec.env, BOT_ROLE: spec.role, REDIS_URL: redis.url };
        const bot = await BotProcess.start(standIns, env, BOT_ENTRY, {
          gateway: spec.gateway,
          label: spec.label,
        });
        members.push({ spec, bot });
      }
      return await run(standIns, members);
    } finally {
      await Promise.all(members.map(({ bot }) => bot.stop()));
      await standIns.close();
    }
  } finally {
    await redis.stop();
  }
}
