import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startFakeFal } from '../test/fakes/fake-fal.ts';
import { startFakeGemini } from '../test/fakes/fake-gemini.ts';
import type { SeenRequest } from '../test/fakes/fake-http-kit.ts';
import { startFakeOpenRouter } from '../test/fakes/fake-openrouter.ts';
import { startFakeReplicate } from '../test/fakes/fake-replicate.ts';
import { withBot } from './support/bot.ts';
import { printTable, saveResult } from './support/report.ts';
import { measureJobs } from './videos-api-jobs.ts';

/**
 * Bench 10: what a job costs on each provider shape of the catalogue. For each of fal's queue,
 * Replicate, Gemini (Veo) and OpenRouter's Videos variant: a fresh compiled bot whose catalogue
 * (MODELS_FILE) is that one model on its stand-in, `JOBS` `/video` at once with a starting image,
 * each about `JOB_SECONDS` at the service, polled every `POLL_INTERVAL_MS` (the default of
 * SORA_POLL_INTERVAL_MS). Reports requests at the service per job (create, polls, result, file)
 * and the bot's CPU seconds per job-minute. About 2 minutes.
 */

const JOBS = 20;
const JOB_SECONDS = 24;
const POLL_INTERVAL_MS = 5_000;
const QUEUED_MS = 2_000;
const RUNNING_MS = JOB_SECONDS * 1_000 - QUEUED_MS;
const VIDEO_BYTES = 64 * 1024;

interface ShapeStandIn {
  baseUrl: string;
  apiKey: string;
  seen: readonly SeenRequest[];
  close(): Promise<void>;
}

interface Shape {
  name: string;
  /** The catalogue's provider entry, without its base URL. */
  provider: string;
  model: string;
  durations: string;
  start(): Promise<ShapeStandIn>;
}

const SHAPES: Shape[] = [
  {
    name: 'fal-queue',
    provider: 'shape: fal-queue',
    model: 'fal-ai/kling-video/v3/standard/image-to-video',
    durations: '[5, 10]',
    start: () =>
      startFakeFal({
        defaults: { queuedMs: QUEUED_MS, queueAhead: 3, processingMs: RUNNING_MS, contentBytes: VIDEO_BYTES },
      }),
  },
  {
    name: 'replicate',
    provider: 'shape: replicate',
    model: 'wan-video/wan-2.5-i2v',
    durations: '[5, 10]',
    start: () =>
      startFakeReplicate({
        defaults: { startingMs: QUEUED_MS, processingMs: RUNNING_MS, contentBytes: VIDEO_BYTES },
      }),
  },
  {
    name: 'gemini',
    provider: 'shape: gemini',
    model: 'veo-3.1-fast-generate-preview',
    durations: '[4, 6, 8]',
    start: () =>
      startFakeGemini({ defaults: { processingMs: JOB_SECONDS * 1_000, contentBytes: VIDEO_BYTES } }),
  },
  {
    name: 'openai-videos (openrouter)',
    provider: 'shape: openai-videos, variant: openrouter',
    model: 'bytedance/seedance-2.0',
    durations: '[5, 10]',
    start: async () => {
      const router = await startFakeOpenRouter();
      router.reset({ queuedMs: QUEUED_MS, processingMs: RUNNING_MS, contentBytes: VIDEO_BYTES });
      return router;
    },
  },
];

export async function runShapesBench(): Promise<object> {
  const rows = [];
  for (const shape of SHAPES) rows.push(await measureShape(shape));
  printTable(
    `10. ${JOBS} jobs of about ${JOB_SECONDS} s on each provider shape, polled every ${POLL_INTERVAL_MS / 1000} s`,
    rows,
  );
  const result = { jobs: JOBS, jobSeconds: JOB_SECONDS, pollIntervalMs: POLL_INTERVAL_MS, rows };
  saveResult('shapes', result);
  return result;
}

async function measureShape(shape: Shape) {
  const standIn = await shape.start();
  const dir = await mkdtemp(path.join(tmpdir(), 'sora-bot-bench-shapes-'));
  try {
    const modelsFile = path.join(dir, 'models.yaml');
    await writeFile(
      modelsFile,
      `default: only\nproviders:\n  bench: { ${shape.provider}, base_url: "${standIn.baseUrl}", api_key_env: BENCH_SHAPE_KEY }\nmodels:\n  - { id: only, label: Only, provider: bench, model: ${shape.model}, durations: ${shape.durations}, aspect_ratios: ["16:9", "9:16"], image_input: true }\n`,
    );
    const env = {
      MODELS_FILE: modelsFile,
      BENCH_SHAPE_KEY: standIn.apiKey,
      SORA_POLL_INTERVAL_MS: String(POLL_INTERVAL_MS),
    };
    return await withBot({ env }, ({ discord }, bot) =>
      measureJobs(shape.name, discord, bot, () => standIn.seen.length, {
        jobs: JOBS,
        jobSeconds: JOB_SECONDS,
      }),
    );
  } finally {
    await standIn.close();
    await rm(dir, { recursive: true, force: true });
  }
}
