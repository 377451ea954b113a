import { type ChildProcess, fork } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DirectCopyRun } from './direct-copy-process.ts';
import { type BotProcess, withBot } from './support/bot.ts';
import { compiledEntry } from './support/compiled.ts';
import { MiB, median, printTable, round, saveResult, toMiB, verdict } from './support/report.ts';
import {
  dispatchAll,
  InteractionLog,
  pacedProgressStream,
  type StandIns,
  videoCommands,
} from './support/stand-ins.ts';

/**
 * Bench 4: one 15 MiB mp4, from the relay's success event (the end of its reply) to the final
 * Discord edit carrying the file (the fake has stored it), against copying the same bytes from the
 * fake relay to the fake Discord directly (GET, then the same multipart PATCH) in a process of its
 * own. Bot deliveries and direct copies take turns, so both see the same conditions; the first
 * WARMUPS of each warm code paths and connection pools and are not counted. The bot's RSS is sampled
 * every 5 ms.
 */

const VIDEO_BYTES = 15 * MiB;
const UPLOAD_LIMIT = 25 * MiB;
const WARMUPS = 2;
const RUNS = 7;
const TARGET = { vsDirectCopy: 1.2 };
const COPY_ENTRY = compiledEntry('direct-copy-process');

export function runDeliveryBench(): Promise<object> {
  return withBot({ discord: { guildUploadLimit: UPLOAD_LIMIT } }, async (standIns, bot) => {
    const videoUrl = standIns.service.addVideo('fifteen.mp4', VIDEO_BYTES);
    const copier = await DirectCopier.start(standIns, videoUrl);
    const botRuns = [];
    const copyRuns: DirectCopyRun[] = [];
    try {
      for (let run = 0; run < WARMUPS + RUNS; run++) {
        const delivered = await deliverOnce(standIns, bot, videoUrl, `delivery${run}`);
        await sleep(300);
        const copied = await copier.copy();
        await sleep(300);
        if (run < WARMUPS) continue;
        botRuns.push(delivered);
        copyRuns.push(copied);
      }
    } finally {
      copier.stop();
    }
    const deliveryMs = median(botRuns.map((run) => run.deliveryMs));
    const copyMs = median(copyRuns.map((run) => run.copyMs));
    const ratio = round(deliveryMs / copyMs, 2);
    const result = {
      description:
        'From the end of the relay reply with the success line to the fake Discord having stored the final edit with the file; direct copy: GET from the fake relay + multipart PATCH of @original, in its own process. Runs alternate; medians; the first two of each are not counted.',
      videoBytes: VIDEO_BYTES,
      targets: TARGET,
      verdict: { vsDirectCopy: verdict(ratio, TARGET.vsDirectCopy) },
      ratio,
      bot: {
        deliveryMs: round(deliveryMs),
        runs: botRuns,
        rssPeakMiB: toMiB(Math.max(...botRuns.map((run) => run.rssPeak))),
        rssGrowthMiB: toMiB(Math.max(...botRuns.map((run) => run.rssPeak - run.rssBefore))),
      },
      directCopy: {
        copyMs: round(copyMs),
        runs: copyRuns.map((run) => round(run.copyMs)),
        rssPeakMiB: toMiB(Math.max(...copyRuns.map((run) => run.rssPeak))),
      },
    };
    printTable(`4. Delivery of a ${toMiB(VIDEO_BYTES)} MiB mp4 (median of ${RUNS}, taking turns)`, [
      {
        path: 'bot: success event → final edit stored',
        ms: result.bot.deliveryMs,
        '× direct copy': ratio,
        'peak RSS MiB': result.bot.rssPeakMiB,
        'RSS growth MiB': result.bot.rssGrowthMiB,
      },
      {
        path: 'direct copy: GET + PATCH',
        ms: result.directCopy.copyMs,
        '× direct copy': 1,
        'peak RSS MiB': result.directCopy.rssPeakMiB,
      },
    ]);
    console.log(
      `  target: ≤ ${TARGET.vsDirectCopy}× the direct copy (${ratio}×, ${result.verdict.vsDirectCopy})`,
    );
    saveResult('delivery', result);
    return result;
  });
}

async function deliverOnce(standIns: StandIns, bot: BotProcess, videoUrl: string, tag: string) {
  const { discord, service } = standIns;
  const { scenario } = pacedProgressStream({ steps: [30, 60, 90], everyMs: 300, videoUrl });
  let successAt = Number.NaN;
  void service.enqueue(scenario).then((served) =>
    served.ended.then(() => {
      successAt = Date.now();
    }),
  );
  const interactions = videoCommands(discord, 1, tag, { attachmentSizeLimit: UPLOAD_LIMIT });
  const log = new InteractionLog(discord);
  bot.reset(5);
  const { rssNow: rssBefore } = await bot.report();
  dispatchAll(discord, interactions);
  await log.waitForDeliveries(1, 60_000);
  const report = await bot.report();
  const timeline = log.timeline(interactions[0] as (typeof interactions)[0]);
  return {
    deliveryMs: round((timeline.deliveredDoneAt ?? Number.NaN) - successAt),
    uploadArrivedMs: round((timeline.deliveredAt ?? Number.NaN) - successAt),
    rssBefore,
    rssPeak: report.rssPeakSampled,
  };
}

/** The direct-copy process, copying once per `copy()` into the reply of an interaction the bot never sees. */
class DirectCopier {
  private constructor(private readonly child: ChildProcess) {}

  static async start(standIns: StandIns, videoUrl: string): Promise<DirectCopier> {
    const { discord } = standIns;
    const [ix] = videoCommands(discord, 1, 'direct-copy', { attachmentSizeLimit: UPLOAD_LIMIT });
    if (!ix) throw new Error('bench: no interaction');
    // Never sent to the bot: the copying process acknowledges it itself, within the fake's deadline.
    ix.dispatchedAt = Date.now();
    const api = `${discord.apiUrl}/v10`;
    const child = fork(
      COPY_ENTRY,
      [
        videoUrl,
        `${api}/interactions/${ix.id}/${ix.token}/callback`,
        `${api}/webhooks/${discord.applicationId}/${ix.token}/messages/@original`,
      ],
      { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
    );
    await new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve());
      child.once('exit', (code) => reject(new Error(`bench: the direct copy exited with code ${code}`)));
    });
    return new DirectCopier(child);
  }

  copy(): Promise<DirectCopyRun> {
    return new Promise((resolve) => {
      this.child.once('message', (run: DirectCopyRun) => resolve(run));
      this.child.send({ cmd: 'copy' });
    });
  }

  stop(): void {
    this.child.send({ cmd: 'stop' });
  }
}
