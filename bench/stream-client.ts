import { fork } from 'node:child_process';
import { progressStream, startFakeVideoService } from '../test/fakes/fake-video-service.ts';
import type { ClientKind, ClientReport } from './stream-client-process.ts';
import { compiledEntry } from './support/compiled.ts';
import { MiB, median, printTable, round, saveResult, verdict } from './support/report.ts';

/**
 * Bench 3: the bot's service client against the `openai` package and a raw undici read, on the
 * same 50,000-chunk stream from the fake relay, same machine, same run. Each client runs in its own
 * process (the relay stays in this one), reads the stream WARMUPS times unmeasured, then RUNS times.
 */

const CHUNKS = 50_000;
const WARMUPS = 3;
const RUNS = 7;
const KINDS: ClientKind[] = ['raw', 'decode', 'bot', 'openai'];
const ENTRY = compiledEntry('stream-client-process');
const TARGETS = { cpuVsOpenai: 0.5, cpuVsRaw: 1.3 };

export async function runStreamClientBench(): Promise<object> {
  const service = await startFakeVideoService();
  const transcript = transcriptOf(CHUNKS);
  // One HTTP reply with the whole stream, so the relay never paces the reader: the client is the bottleneck.
  service.defaultScenario = {
    status: 200,
    body: transcript,
    headers: { 'content-type': 'text/event-stream' },
  };
  try {
    const reports = new Map<ClientKind, ClientReport>();
    for (const kind of KINDS) reports.set(kind, await runClient(kind, service.apiUrl));
    const summary = (kind: ClientKind) => {
      const report = reports.get(kind) as ClientReport;
      return {
        cpuMs: round(median(report.runs.map((run) => run.cpuMs))),
        wallMs: round(median(report.runs.map((run) => run.wallMs))),
        items: report.runs[0]?.items ?? 0,
        outcome: report.outcome,
        runs: report.runs,
      };
    };
    const [raw, decode, bot, openai] = [summary('raw'), summary('decode'), summary('bot'), summary('openai')];
    const ratios = {
      cpuBotVsOpenai: round(bot.cpuMs / openai.cpuMs, 2),
      cpuBotVsRaw: round(bot.cpuMs / raw.cpuMs, 2),
      cpuBotVsDecodeFloor: round(bot.cpuMs / decode.cpuMs, 2),
      cpuDecodeFloorVsRaw: round(decode.cpuMs / raw.cpuMs, 2),
      wallBotVsOpenai: round(bot.wallMs / openai.wallMs, 2),
      wallBotVsRaw: round(bot.wallMs / raw.wallMs, 2),
    };
    const result = {
      description: `One stream of ${CHUNKS} chat.completion.chunk frames (${round(Buffer.byteLength(transcript) / MiB, 1)} MiB, aiclound progress lines) served in one reply; median of ${RUNS} reads after ${WARMUPS} warm-ups, each client in its own process.`,
      chunks: CHUNKS,
      bytes: Buffer.byteLength(transcript),
      targets: TARGETS,
      verdict: {
        cpuVsOpenai: verdict(ratios.cpuBotVsOpenai, TARGETS.cpuVsOpenai),
        cpuVsRaw: verdict(ratios.cpuBotVsRaw, TARGETS.cpuVsRaw),
      },
      ratios,
      clients: { raw, decode, bot, openai },
    };
    const row = (name: string, client: typeof bot, what: string) => ({
      client: name,
      'CPU ms': client.cpuMs,
      'wall ms': client.wallMs,
      'CPU ×raw': round(client.cpuMs / raw.cpuMs, 2),
      'wall ×raw': round(client.wallMs / raw.wallMs, 2),
      'CPU ×openai': round(client.cpuMs / openai.cpuMs, 2),
      'µs CPU/chunk': round((client.cpuMs * 1000) / CHUNKS, 2),
      got: `${client.items} ${what}`,
    });
    printTable(`3. Stream client vs alternatives (${CHUNKS} chunks, median of ${RUNS})`, [
      row('raw undici read (floor)', raw, 'bytes'),
      row('decode floor (split + JSON.parse)', decode, 'frames'),
      row('bot (RelayVideoProvider)', bot, `events, ${bot.outcome}`),
      row('openai package', openai, 'chunks'),
    ]);
    console.log(
      `  targets: bot CPU ≤ ${TARGETS.cpuVsOpenai}× openai (${ratios.cpuBotVsOpenai}×, ${result.verdict.cpuVsOpenai}), ≤ ${TARGETS.cpuVsRaw}× raw read (${ratios.cpuBotVsRaw}×, ${result.verdict.cpuVsRaw})`,
    );
    saveResult('stream-client', result);
    return result;
  } finally {
    await service.close();
  }
}

/** A family A stream as the fake relay's own helper writes it, with `chunks` frames in all. */
function transcriptOf(chunks: number): string {
  // progressStream adds 7 frames around the steps: role, echo, queued, done, stop chunk, [DONE].
  const stepCount = chunks - 6;
  const steps = Array.from({ length: stepCount }, (_, index) => (index * 99.9) / stepCount);
  const { events } = progressStream({ steps, videoUrl: 'https://videos.example.com/bench/result.mp4' });
  return events.map((step) => `data: ${typeof step === 'string' ? step : JSON.stringify(step)}\n\n`).join('');
}

function runClient(kind: ClientKind, apiUrl: string): Promise<ClientReport> {
  const child = fork(ENTRY, [kind, apiUrl, String(WARMUPS), String(RUNS)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('message', (report: ClientReport) => resolve(report));
    child.once('exit', (code) => {
      if (code !== 0) reject(new Error(`bench: the ${kind} stream client exited with code ${code}`));
    });
  });
}
