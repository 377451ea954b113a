import { RelayStreamInterpreter } from '../src/services/video-service/relay/relay-stream-interpreter.ts';
import { ServiceTextRedaction } from '../src/services/video-service/service-text-redaction.ts';
import type { VideoEvent } from '../src/services/video-service/video-provider.ts';
import { contentChunk } from '../test/fakes/fake-video-service.ts';
import { median, printTable, round, saveResult } from './support/report.ts';

/**
 * Bench 6: how long the stream interpreter holds the event loop on input built to make it slow.
 * Each shape is fed to a fresh interpreter set up as the provider sets it up (the key redacted, a
 * prompt to filter links against), already decoded from JSON, so the figure is the interpreter's
 * own cost: what one hostile relay costs every other member of the bot. The figure is the worst
 * milliseconds per KB of input over RUNS runs, for each shape and over all of them.
 */

const RUNS = 5;
const MB = 1024 * 1024;
const KEY = 'sk-bench-0123456789abcdef';
const PROMPT = 'a cat like https://example.com/ref.mp4';
const VIDEO = 'https://videos.example.com/sora/real.mp4';
const SUCCESS_LINE = `> ✅ 视频生成成功，[点击这里](${VIDEO}) 查看视频~~~\n`;

interface Shape {
  name: string;
  payloads: unknown[];
}

const repeatTo = (unit: string, chars: number) => unit.repeat(Math.ceil(chars / unit.length)).slice(0, chars);

/** A line that is `text`, sent in chunks of `size` characters. */
function inChunks(text: string, size: number): object[] {
  const chunks: object[] = [];
  for (let start = 0; start < text.length; start += size)
    chunks.push(contentChunk(text.slice(start, start + size)));
  return chunks;
}

function shapes(): Shape[] {
  const junkLine = (unit: string) => [contentChunk(`${repeatTo(unit, MB)}\n`), contentChunk(SUCCESS_LINE)];
  const manyLinks = Array.from(
    { length: 20_000 },
    (_, index) => `[v${index}](https://cdn.example.com/${index}.mp4)`,
  );
  return [
    { name: 'whitespace run, 1 MB line', payloads: junkLine(' \t') },
    { name: 'whitespace before "request id", 1 MB', payloads: junkLine(`${' '.repeat(60)}request id (`) },
    { name: 'bracket run [[[[…, 1 MB', payloads: junkLine('[') },
    { name: 'bracket run ((((…, 1 MB', payloads: junkLine('(') },
    { name: 'bracket run [](…, 1 MB', payloads: junkLine('[](') },
    { name: 'tag run <video src="…, 1 MB', payloads: junkLine('<video src="') },
    {
      name: '1 MB line: marker, junk, link at the end',
      payloads: [contentChunk(`> ✅ 视频生成成功 ${repeatTo(' [(', MB)} [点击这里](${VIDEO})\n`)],
    },
    {
      name: '1 MB line in 1 KB chunks',
      payloads: [...inChunks(repeatTo(' [', MB), 1024), contentChunk(`\n${SUCCESS_LINE}`)],
    },
    {
      name: '1 MB line in 16-char chunks',
      payloads: [...inChunks(repeatTo(' [', MB), 16), contentChunk(`\n${SUCCESS_LINE}`)],
    },
    {
      name: 'long error body, 8 KB',
      payloads: [
        { error: { message: `${repeatTo(' ', 6 * 1024)}(request id: ${repeatTo('( ', 2 * 1024)}` } },
      ],
    },
    {
      name: 'long error body, 1 MB',
      payloads: [{ error: { message: `${repeatTo(' (request id ', MB)} ${KEY}` } }],
    },
    {
      name: 'many links: 20,000 on the success line',
      payloads: [contentChunk(`> ✅ done ${manyLinks.join(' ')}\n`)],
    },
  ];
}

function inputKb(payloads: unknown[]): number {
  return (
    payloads.reduce<number>((sum, payload) => sum + Buffer.byteLength(JSON.stringify(payload)), 0) / 1024
  );
}

/** One run: every payload pushed, then the end of the stream; the outcome and the time it took. */
function read(payloads: unknown[]): { ms: number; outcome: VideoEvent } {
  const interpreter = new RelayStreamInterpreter({
    redaction: new ServiceTextRedaction([KEY]),
    prompt: PROMPT,
  });
  const started = performance.now();
  for (const payload of payloads) interpreter.push(payload);
  const outcome = interpreter.finish();
  return { ms: performance.now() - started, outcome };
}

function describe(outcome: VideoEvent): string {
  if (outcome.type === 'succeeded')
    return `video (${outcome.urls.length} link${outcome.urls.length === 1 ? '' : 's'})`;
  if (outcome.type === 'failed')
    return `failed: ${typeof outcome.reason === 'string' ? outcome.reason.slice(0, 24) : outcome.reason.key}…`;
  return outcome.type;
}

export async function runAdversarialInputBench(): Promise<object> {
  const rows = shapes().map((shape) => {
    const kb = inputKb(shape.payloads);
    read(shape.payloads);
    const runs = Array.from({ length: RUNS }, () => read(shape.payloads));
    const times = runs.map((run) => run.ms);
    const worst = Math.max(...times);
    return {
      shape: shape.name,
      kb: round(kb, 1),
      medianMs: round(median(times), 1),
      worstMs: round(worst, 1),
      worstMsPerKb: round(worst / kb, 4),
      outcome: describe(runs[0]?.outcome as VideoEvent),
    };
  });
  const worstMsPerKb = Math.max(...rows.map((row) => row.worstMsPerKb));
  printTable(`6. Adversarial input (worst of ${RUNS} runs after one warm-up)`, [
    ...rows.map((row) => ({
      shape: row.shape,
      KB: row.kb,
      'median ms': row.medianMs,
      'worst ms': row.worstMs,
      'worst ms/KB': row.worstMsPerKb,
      read: row.outcome,
    })),
  ]);
  console.log(`  worst case over all shapes: ${worstMsPerKb} ms per KB of adversarial input`);
  const result = {
    description: `Each shape fed to a fresh RelayStreamInterpreter (key redaction and prompt filter on, as the provider sets it up), decoded payloads, worst of ${RUNS} runs after one warm-up.`,
    worstMsPerKb,
    shapes: rows,
  };
  saveResult('adversarial-input', result);
  return result;
}
