import { startFakeVideosApi } from '../test/fakes/fake-videos-api.ts';
import { BENCH_API_KEY, withBot } from './support/bot.ts';
import { printTable, round, saveResult } from './support/report.ts';
import {
  dispatchAll,
  evenSteps,
  InteractionLog,
  pacedProgressStream,
  videoCommands,
} from './support/stand-ins.ts';

/**
 * Bench 8: a job on the Videos API beside the same job on the chat relay. 100 `/video` jobs at
 * once, each taking about 60 s at the service (the chat relay streams a progress event a second;
 * the Videos API job is polled every SORA_POLL_INTERVAL_MS), then a 64 KiB video. A fresh bot
 * process per shape: polls per job and CPU seconds per job-minute.
 */

const JOBS = 100;
const JOB_SECONDS = 60;
const POLL_INTERVAL_MS = 5_000;

export async function runVideosApiJobsBench(): Promise<object> {
  const rows = [await chatShape(), await videosShape()];
  printTable(`8. ${JOBS} jobs of about ${JOB_SECONDS} s: the Videos API beside the chat relay`, rows);
  const result = { jobs: JOBS, jobSeconds: JOB_SECONDS, pollIntervalMs: POLL_INTERVAL_MS, rows };
  saveResult('videos-api-jobs', result);
  return result;
}

function chatShape() {
  return withBot({}, async ({ discord, service }, bot) => {
    const videoUrl = service.addVideo('small.mp4', 64 * 1024);
    service.defaultScenario = pacedProgressStream({
      steps: evenSteps(JOB_SECONDS),
      everyMs: 1_000,
      videoUrl,
    }).scenario;
    return measureJobs('chat', discord, bot, () => service.requests.length);
  });
}

async function videosShape() {
  const videos = await startFakeVideosApi({
    apiKey: BENCH_API_KEY,
    defaults: { queuedMs: 2_000, processingMs: (JOB_SECONDS - 2) * 1_000, contentBytes: 64 * 1024 },
  });
  try {
    const env = {
      SORA_API_FORMAT: 'videos',
      SORA_API_URL: videos.apiUrl,
      SORA_POLL_INTERVAL_MS: String(POLL_INTERVAL_MS),
    };
    return await withBot({ env }, ({ discord }, bot) =>
      measureJobs('videos', discord, bot, () => videos.requests.length),
    );
  } finally {
    await videos.close();
  }
}

/**
 * `jobs` `/video` at once on a fresh bot, waited for until delivered: what they cost at the service
 * (`serviceRequests` counts the stand-in's requests) and in the bot's CPU per minute of job.
 */
export async function measureJobs(
  shape: string,
  discord: Parameters<typeof videoCommands>[0],
  bot: Parameters<Parameters<typeof withBot>[1]>[1],
  serviceRequests: () => number,
  size: { jobs: number; jobSeconds: number } = { jobs: JOBS, jobSeconds: JOB_SECONDS },
) {
  const { jobs } = size;
  const interactions = videoCommands(discord, jobs, `shape-${shape}`);
  const log = new InteractionLog(discord);
  bot.reset();
  const before = serviceRequests();
  dispatchAll(discord, interactions);
  await log.waitForDeliveries(jobs, (size.jobSeconds + 120) * 1_000);
  const report = await bot.report();
  const durations = interactions.map((ix) => (log.timeline(ix).deliveredAt ?? Date.now()) - ix.dispatchedAt);
  const jobMinutes = durations.reduce((sum, ms) => sum + ms, 0) / 60_000;
  const cpuSeconds = (report.cpuUserMs + report.cpuSystemMs) / 1000;
  return {
    shape,
    delivered: `${log.delivered}/${jobs}`,
    'service requests/job': round((serviceRequests() - before) / jobs, 1),
    'edits/job': round(log.editRequests / jobs, 1),
    'CPU s': round(cpuSeconds, 1),
    'CPU s per job-min': round(cpuSeconds / jobMinutes, 4),
  };
}
