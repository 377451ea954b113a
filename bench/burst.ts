import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FakeDiscord } from '../test/fakes/fake-discord/fake-discord.ts';
import { type BotProcess, withBot } from './support/bot.ts';
import { compiledEntry } from './support/compiled.ts';
import { printTable, round, type Spread, saveResult, spread, verdict } from './support/report.ts';
import {
  dispatchAll,
  evenSteps,
  InteractionLog,
  pacedProgressStream,
  type StandIns,
  videoCommands,
} from './support/stand-ins.ts';

/**
 * Bench 1: 1, 50 and 200 `/video` arriving at once. Each stream is ten progress events 200 ms
 * apart and a 64 KiB video. Per interaction, from the gateway dispatch of INTERACTION_CREATE to the
 * defer callback arriving at the fake Discord (answer), and to the request that puts the video in
 * the reply (delivery).
 */

const SIZES = [1, 50, 200];
const TARGETS = { answerP99Ms: 50, deliveryP99Ms: 4_000, atSize: 200 };
const DEFER_ONLY_ENTRY = compiledEntry('defer-only-bot-process');

export async function runBurstBench(): Promise<object> {
  const env = { MAX_CONCURRENT_JOBS: String(Math.max(...SIZES) + 50) };
  const rows = await withBot({ env }, async (standIns, bot) => {
    const videoUrl = standIns.service.addVideo('small.mp4', 64 * 1024);
    standIns.service.defaultScenario = pacedProgressStream({
      steps: evenSteps(10),
      everyMs: 200,
      videoUrl,
    }).scenario;
    await burst(standIns, bot, 'warmup', 5);
    const measured = [];
    for (const size of SIZES) {
      await sleep(1_000);
      measured.push(await burst(standIns, bot, `burst${size}`, size));
    }
    return measured;
  });
  const deferOnly = await withBot({ entry: DEFER_ONLY_ENTRY }, async ({ discord }) => {
    await answersOnly(discord, 'warmup', 5);
    const measured = [];
    for (const size of SIZES) {
      await sleep(1_000);
      measured.push({ jobs: size, answerMs: await answersOnly(discord, `defer${size}`, size) });
    }
    return measured;
  });
  const atTarget = rows.find((row) => row.jobs === TARGETS.atSize);
  const result = {
    description:
      'Answer: gateway dispatch of INTERACTION_CREATE → defer callback at the fake Discord. Delivery: dispatch → the PATCH that uploads the video. Stream: 10 progress events 200 ms apart, 64 KiB mp4. PROGRESS_EDIT_INTERVAL_MS=5000. deferOnly: a bare discord.js client that only defers, for the floor.',
    targets: TARGETS,
    verdict: atTarget && {
      answer: verdict(atTarget.answerMs.p99, TARGETS.answerP99Ms),
      delivery: verdict(atTarget.deliveryMs.p99, TARGETS.deliveryP99Ms),
    },
    rows,
    deferOnly,
  };
  printTable(
    '1. Answer and delivery time under a burst (ms, from the gateway dispatch)',
    rows.map((row, index) => ({
      'at once': row.jobs,
      'answer p50': row.answerMs.p50,
      'answer p99': row.answerMs.p99,
      'answer max': row.answerMs.max,
      'defer-only discord.js p99': deferOnly[index]?.answerMs.p99,
      'delivery p50': row.deliveryMs.p50,
      'delivery p99': row.deliveryMs.p99,
      'delivery max': row.deliveryMs.max,
      'bot loop delay p99': row.bot.loopDelayP99Ms,
      'bot CPU s': row.bot.cpuSeconds,
      'stand-ins loop delay p99': row.standIns.loopDelayP99Ms,
    })),
  );
  console.log(
    `  targets at ${TARGETS.atSize}: answer p99 ≤ ${TARGETS.answerP99Ms} ms (${result.verdict?.answer}), delivery p99 ≤ ${TARGETS.deliveryP99Ms} ms (${result.verdict?.delivery})`,
  );
  saveResult('burst', result);
  return result;
}

/** A burst against a bot that only defers: answer times, nothing else. */
async function answersOnly(discord: FakeDiscord, tag: string, size: number): Promise<Spread> {
  const interactions = videoCommands(discord, size, tag);
  const log = new InteractionLog(discord);
  dispatchAll(discord, interactions);
  await log.waitForAnswers(size, 30_000);
  return spread(interactions.map((ix) => (log.timeline(ix).callbackAt ?? Number.NaN) - ix.dispatchedAt));
}

async function burst(standIns: StandIns, bot: BotProcess, tag: string, size: number) {
  const { discord } = standIns;
  const interactions = videoCommands(discord, size, tag);
  const log = new InteractionLog(discord);
  const standInLoop = monitorEventLoopDelay({ resolution: 5 });
  bot.reset();
  standInLoop.enable();
  dispatchAll(discord, interactions);
  await log.waitForDeliveries(size, 120_000);
  const report = await bot.report();
  standInLoop.disable();
  const answers: number[] = [];
  const deliveries: number[] = [];
  for (const ix of interactions) {
    const timeline = log.timeline(ix);
    if (timeline.callbackAt !== undefined) answers.push(timeline.callbackAt - ix.dispatchedAt);
    if (timeline.deliveredAt !== undefined) deliveries.push(timeline.deliveredAt - ix.dispatchedAt);
  }
  return {
    jobs: size,
    answered: answers.length,
    delivered: deliveries.length,
    answerMs: spread(answers),
    deliveryMs: spread(deliveries),
    bot: {
      cpuSeconds: round((report.cpuUserMs + report.cpuSystemMs) / 1000, 2),
      loopDelayP99Ms: round(report.loopDelayMs.p99),
      logged: report.logged,
    },
    standIns: { loopDelayP99Ms: round(standInLoop.percentile(99) / 1e6) },
  };
}
