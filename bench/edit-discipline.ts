import { setTimeout as sleep } from 'node:timers/promises';
import type { RecordedRequest } from '../test/fakes/fake-video-service.ts';
import { withBot } from './support/bot.ts';
import { printTable, round, saveResult, spread } from './support/report.ts';
import {
  dispatchAll,
  evenSteps,
  InteractionLog,
  type InteractionTimeline,
  pacedProgressStream,
  promptFor,
  videoCommands,
} from './support/stand-ins.ts';

/**
 * Bench 5: 200 jobs at once against a fake Discord that allows 5 edits per 2 s per message and
 * answers 429 beyond. Counts the edits sent and the 429s, and measures how far the percentage shown
 * in Discord lags the relay's: sampled every SAMPLE_MS over each job's stream, in points and in
 * seconds (how long the relay has had a newer percentage than the one shown), and the age of the
 * value each progress edit carries when it lands.
 */

const JOBS = 200;
const STEPS = 30;
const STEP_MS = 1_000;
const SAMPLE_MS = 100;

interface StreamTiming {
  startedAt: number;
  endedAt: number;
}

export function runEditDisciplineBench(): Promise<object> {
  return withBot({ env: { MAX_CONCURRENT_JOBS: String(JOBS) } }, async ({ discord, service }) => {
    discord.enforceEditRateLimit({ limit: 5, windowMs: 2_000 });
    const videoUrl = service.addVideo('small.mp4', 64 * 1024);
    const steps = evenSteps(STEPS);
    const { scenario, sentAtMs } = pacedProgressStream({ steps, everyMs: STEP_MS, videoUrl });
    service.defaultScenario = scenario;
    const timings = new Map<string, StreamTiming>();
    const interactions = videoCommands(discord, JOBS, 'edits');
    const log = new InteractionLog(discord);
    await sleep(500);
    void recordStreams(service.waitForRequest.bind(service), timings, JOBS);
    dispatchAll(discord, interactions);
    await log.waitForDeliveries(JOBS, STEPS * STEP_MS + 120_000);
    // The last progress event, then one more step before the success line.
    const plannedMs = STEPS * STEP_MS;
    const lagPoints: number[] = [];
    const staleSeconds: number[] = [];
    const ageAtEditMs: number[] = [];
    interactions.forEach((ix, index) => {
      const timing = timings.get(promptFor('edits', index));
      if (!timing) return;
      // Timers in the stand-in process run a little late under load: stretch the schedule to the real stream.
      const stretch = (timing.endedAt - timing.startedAt) / plannedMs;
      const sentAt = sentAtMs.map((ms) => timing.startedAt + ms * stretch);
      const job = sampleJob(log.timeline(ix), steps, sentAt, timing.endedAt);
      lagPoints.push(...job.lagPoints);
      staleSeconds.push(...job.staleSeconds);
      ageAtEditMs.push(...job.ageAtEditMs);
    });
    const result = {
      description: `${JOBS} jobs at once; each stream sends ${STEPS} progress events ${STEP_MS} ms apart. The fake Discord allows 5 edits per 2 s per message (429 beyond). PROGRESS_EDIT_INTERVAL_MS=5000. Lag sampled every ${SAMPLE_MS} ms while each stream runs.`,
      targets: { rateLimited: 0 },
      verdict: { rateLimited: log.rateLimited === 0 ? 'met' : 'missed' },
      jobs: JOBS,
      delivered: log.delivered,
      editsSent: log.editRequests,
      editsPerJob: round(log.editRequests / JOBS, 1),
      rateLimited: log.rateLimited,
      lagPoints: spread(lagPoints),
      staleSeconds: spread(staleSeconds.map((seconds) => round(seconds, 2))),
      ageAtEditMs: spread(ageAtEditMs),
    };
    printTable(`5. Edit discipline (${JOBS} jobs at once, 5 edits / 2 s / message enforced)`, [
      {
        'edits sent': result.editsSent,
        'edits/job': result.editsPerJob,
        '429s': result.rateLimited,
        'lag pts p50': result.lagPoints.p50,
        'lag pts p99': result.lagPoints.p99,
        'stale s p50': result.staleSeconds.p50,
        'stale s p99': result.staleSeconds.p99,
        'stale s max': result.staleSeconds.max,
        'age at edit ms p50': result.ageAtEditMs.p50,
        'age at edit ms p99': result.ageAtEditMs.p99,
      },
    ]);
    console.log(`  target: zero 429s (${result.rateLimited}, ${result.verdict.rateLimited})`);
    saveResult('edit-discipline', result);
    return result;
  });
}

/** When each relay request arrived and when its reply ended, by prompt. */
async function recordStreams(
  next: () => Promise<RecordedRequest>,
  timings: Map<string, StreamTiming>,
  count: number,
): Promise<void> {
  for (let index = 0; index < count; index++) {
    const request = await next();
    const startedAt = Date.now();
    const prompt = request.promptText ?? '';
    void request.ended.then(() => timings.set(prompt, { startedAt, endedAt: Date.now() }));
  }
}

/** Shown vs sent for one job, from its first progress event until its stream ended. */
function sampleJob(timeline: InteractionTimeline, steps: number[], sentAt: number[], endedAt: number) {
  const shownAt = (time: number) => {
    let shown = 0;
    for (const edit of timeline.edits) {
      if (edit.at > time) break;
      if (edit.percent !== undefined) shown = edit.percent;
    }
    return shown;
  };
  const sentBy = (time: number) => {
    let index = -1;
    while (index + 1 < sentAt.length && (sentAt[index + 1] as number) <= time) index += 1;
    return index;
  };
  const lagPoints: number[] = [];
  const staleSeconds: number[] = [];
  for (let time = sentAt[0] as number; time < endedAt; time += SAMPLE_MS) {
    const latest = sentBy(time);
    const shown = shownAt(time);
    lagPoints.push(Math.max(0, (steps[latest] ?? 0) - shown));
    const firstNewer = steps.findIndex((percent) => percent > shown);
    const newerSince = firstNewer === -1 ? time : (sentAt[firstNewer] as number);
    staleSeconds.push(Math.max(0, time - newerSince) / 1_000);
  }
  const ageAtEditMs = timeline.edits
    .filter((edit) => edit.percent !== undefined && edit.at < endedAt)
    .map((edit) => Math.round(edit.at - (sentAt[steps.indexOf(edit.percent as number)] ?? edit.at)));
  return { lagPoints, staleSeconds, ageAtEditMs };
}
