import { createWriteStream } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { basename, extname, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { Presets, SingleBar } from 'cli-progress';
import { config as loadDotenv } from 'dotenv';
import { Agent, interceptors, request } from 'undici';
import { ConfigError, loadServiceConfig } from '../config.ts';
import { aspectRatioOf } from '../services/catalogue/aspect-ratio.ts';
import type { AspectRatio } from '../services/catalogue/catalogue.ts';
import { loadCatalogue } from '../services/catalogue/load-catalogue.ts';
import { ModelProviders, shapeSettingsOf } from '../services/catalogue/model-providers.ts';
import type { MemberText } from '../services/i18n/member-text.ts';
import { translatorFor } from '../services/i18n/translator.ts';
import { ServiceTextRedaction } from '../services/video-service/service-text-redaction.ts';
import {
  type VideoEvent,
  type VideoProvider,
  type VideoRequest,
  VideoServiceError,
} from '../services/video-service/video-provider.ts';

/**
 * Makes one video from the command line, without Discord: for trying a relay, a key or a prompt.
 *
 *   npm run video -- --prompt "a cat chasing light" [--image cat.png|https://…] [--duration 10]
 *                    [--aspect-ratio 9:16] [--model sora-2] [--out cat.mp4]
 *
 * `--model` is a model id of the catalogue (MODELS_FILE), or without one any name the relay knows.
 *
 * Progress goes to stderr; the saved path and the video URL to stdout. Whatever the service said
 * (notes, reasons, URLs, download errors) is printed through the same redaction as in the bot.
 */

const USAGE = `Usage: npm run video -- --prompt "…" [--image <path or URL>] [--duration <seconds>]
                        [--aspect-ratio 16:9|9:16|1:1] [--model <id>] [--out <file.mp4>]
                        [--format chat|videos]`;

const IMAGE_TYPES: Record<string, string> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
};
const BAR_WIDTH = 24;
const EXIT_CANCELLED = 130;

/** A mistake in how the command was called: the message is shown with the usage. */
class UsageError extends Error {}

interface CliOptions {
  request: Omit<VideoRequest, 'model'> & { model?: string };
  out: string;
  /** `--format`, over SORA_API_FORMAT. */
  format?: string;
}

/** The largest file the CLI saves from a service that needs its key for it. */
const MAX_SAVED_BYTES = 1024 * 1024 * 1024;

async function main(signal: AbortSignal): Promise<number> {
  loadDotenv({ quiet: true });
  const options = await readOptions(process.argv.slice(2));
  if (!options) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const settings = loadServiceConfig(
    options.format ? { ...process.env, SORA_API_FORMAT: options.format } : process.env,
  );
  // Without MODELS_FILE any model name goes to the one relay, as it always did.
  const catalogue = loadCatalogue(
    settings.MODELS_FILE || !options.request.model
      ? settings
      : { ...settings, SORA_MODELS: [...settings.SORA_MODELS, options.request.model] },
  );
  const model = options.request.model ?? catalogue.defaultModel;
  if (!catalogue.models.some((entry) => entry.id === model)) {
    const ids = catalogue.models.map((entry) => entry.id).join(', ');
    throw new UsageError(`--model must be a model id of the catalogue: ${ids}.`);
  }
  const keys = [...catalogue.providers.values()].flatMap((entry) => process.env[entry.apiKeyEnv] ?? []);
  const redaction = redactionFor(keys);
  const providers = new ModelProviders({
    catalogue,
    env: process.env,
    settings: shapeSettingsOf(settings),
  });
  const provider = providers.providerFor(model);
  try {
    const request = { ...options.request, model };
    const outcome = await generate(provider, request, redaction, signal);
    if (outcome?.type !== 'succeeded') {
      const reason = outcome?.type === 'failed' ? inEnglish(redaction.reason(outcome.reason)) : 'no video';
      process.stderr.write(`Video failed: ${reason}\n`);
      return 1;
    }
    if (
      outcome.fileUrl &&
      provider.downloadFile &&
      (await saveKeyedFile(provider, outcome.fileUrl, options.out, signal))
    ) {
      const shown = outcome.urls[0] ? `\nURL ${redaction.text(outcome.urls[0])}` : '';
      process.stdout.write(`Saved ${options.out}${shown}\n`);
      return 0;
    }
    const url = await downloadFirst(outcome.urls, options.out, signal);
    process.stdout.write(`Saved ${options.out}\nURL ${redaction.text(url)}\n`);
    return 0;
  } finally {
    await providers.close();
  }
}

/** A service that needs its key for the file (the Videos API's `/content`): fetched through the provider. */
async function saveKeyedFile(
  provider: VideoProvider,
  fileUrl: string,
  out: string,
  signal: AbortSignal,
): Promise<boolean> {
  const result = await provider.downloadFile?.(fileUrl, MAX_SAVED_BYTES, basename(out), signal);
  if (!result?.ok) return false;
  await writeFile(out, result.video.bytes);
  return true;
}

/** Runs the generation with its progress on stderr; returns the last event, the outcome. */
async function generate(
  provider: VideoProvider,
  request: VideoRequest,
  redaction: ServiceTextRedaction,
  signal: AbortSignal,
) {
  const display = new ProgressDisplay(process.stderr, redaction);
  let outcome: VideoEvent | undefined;
  try {
    for await (const event of provider.generate(request, signal)) {
      display.show(event);
      outcome = event;
    }
  } finally {
    display.end();
  }
  return outcome;
}

/** The parsed command line, or undefined when help was asked for. */
async function readOptions(args: string[]): Promise<CliOptions | undefined> {
  let values: ReturnType<typeof parseCommandLine>['values'];
  try {
    values = parseCommandLine(args).values;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) return undefined;
  const prompt = values.prompt?.trim();
  if (!prompt) throw new UsageError('--prompt is required.');
  return {
    request: {
      prompt,
      imageUrl: await imageUrlOf(values.image),
      model: values.model,
      durationSeconds: durationOf(values.duration),
      aspectRatio: aspectRatioOfFlag(values['aspect-ratio'] ?? values.orientation),
    },
    out: resolve(values.out ?? `video-${new Date().toISOString().replace(/[:.]/g, '-')}.mp4`),
    format: values.format,
  };
}

function parseCommandLine(args: string[]) {
  return parseArgs({
    args,
    strict: true,
    allowPositionals: false,
    options: {
      prompt: { type: 'string', short: 'p' },
      image: { type: 'string', short: 'i' },
      duration: { type: 'string', short: 'd' },
      'aspect-ratio': { type: 'string' },
      /** Before aspect ratios: landscape or portrait. */
      orientation: { type: 'string' },
      format: { type: 'string', short: 'f' },
      model: { type: 'string', short: 'm' },
      out: { type: 'string', short: 'o' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

function durationOf(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const seconds = Number(value);
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > 60) {
    throw new UsageError('--duration must be a whole number of seconds between 1 and 60.');
  }
  return seconds;
}

/** `--aspect-ratio 16:9|9:16|1:1`, or `--orientation landscape|portrait` as before. */
function aspectRatioOfFlag(value: string | undefined): AspectRatio | undefined {
  if (value === undefined) return undefined;
  const aspectRatio = aspectRatioOf(value);
  if (aspectRatio) return aspectRatio;
  throw new UsageError('--aspect-ratio must be 16:9, 9:16 or 1:1.');
}

/** A URL is passed on as is; a local file goes as a data URL, since the relay cannot reach this disk. */
async function imageUrlOf(image: string | undefined): Promise<string | undefined> {
  if (image === undefined) return undefined;
  if (/^(?:https?|data):/i.test(image)) return image;
  const type = IMAGE_TYPES[extname(image).toLowerCase()];
  if (!type) throw new UsageError('--image must be a .png, .jpg, .jpeg or .webp file, or an http(s) URL.');
  const bytes = await readFile(image).catch(() => {
    throw new UsageError(`Cannot read the image file ${image}.`);
  });
  return `data:${type};base64,${bytes.toString('base64')}`;
}

/** Saves the first URL that downloads; a failed or cancelled attempt leaves no partial file. */
async function downloadFirst(urls: string[], out: string, signal: AbortSignal): Promise<string> {
  const dispatcher = new Agent().compose(interceptors.redirect({ maxRedirections: 5 }));
  const problems: string[] = [];
  try {
    for (const url of urls) {
      try {
        const { statusCode, body } = await request(url, { dispatcher, signal });
        if (statusCode >= 400) {
          await body.dump();
          throw new Error(`HTTP ${statusCode}`);
        }
        await pipeline(body, createWriteStream(out), { signal });
        return url;
      } catch (error) {
        await rm(out, { force: true });
        if (signal.aborted) throw error;
        problems.push(`${url}: ${(error as Error).message}`);
      }
    }
    throw new Error(`The video was made but could not be downloaded (${problems.join('; ')}).`);
  } finally {
    await dispatcher.close();
  }
}

/** One updating status line on a terminal; plain lines, each said once, anywhere else. */
class ProgressDisplay {
  /** On a terminal, one bar that updates in place (cli-progress); elsewhere plain lines, each said once. */
  private readonly bar: SingleBar | undefined;
  private status = '';
  private started = false;

  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly redaction: ServiceTextRedaction,
  ) {
    this.bar = stream.isTTY
      ? new SingleBar(
          { stream, format: '[{bar}] {percentage}% {status}', barsize: BAR_WIDTH, hideCursor: true },
          Presets.legacy,
        )
      : undefined;
  }

  show(event: VideoEvent): void {
    if (event.type === 'queued') this.setStatus(undefined, 'Waiting in the video service queue…');
    else if (event.type === 'progress')
      this.setStatus(event.percent, event.percent === undefined ? 'Generating…' : '');
    else if (event.type === 'note') this.say(this.redaction.text(event.text));
  }

  /** Leaves the cursor on a fresh line. */
  end(): void {
    this.bar?.stop();
  }

  private setStatus(percent: number | undefined, status: string): void {
    if (this.bar) {
      if (!this.started) this.bar.start(100, 0, { status });
      this.started = true;
      this.bar.update(Math.round(percent ?? 0), { status });
      return;
    }
    const text = percent === undefined ? status : `${Math.round(percent)}%`;
    if (text === this.status) return;
    this.status = text;
    this.stream.write(`${text}\n`);
  }

  private say(text: string): void {
    this.stream.write(this.bar ? `\r\x1b[2K${text}\n` : `${text}\n`);
  }
}

/** The CLI speaks English: the bot's own texts in en-US, a service's words as it wrote them. */
function inEnglish(reason: string | MemberText): string {
  return typeof reason === 'string' ? reason : translatorFor('en-US').text(reason);
}

/** What went wrong, in words for the person at the terminal; never the API key. */
function describeFailure(error: unknown): string {
  if (error instanceof UsageError) return `${error.message}\n${USAGE}`;
  if (error instanceof ConfigError) return error.message;
  const redaction = redactionFor(process.env.SORA_API_KEY ? [process.env.SORA_API_KEY] : []);
  if (error instanceof VideoServiceError) return `Video failed: ${redaction.text(error.userMessage)}`;
  return redaction.text(error instanceof Error ? error.message : String(error));
}

function redactionFor(keys: readonly string[]): ServiceTextRedaction {
  return new ServiceTextRedaction(keys.flatMap((key) => [key, `Bearer ${key}`]));
}

const controller = new AbortController();
process.once('SIGINT', () => controller.abort());
main(controller.signal).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const cancelled = controller.signal.aborted;
    process.stderr.write(`${cancelled ? 'Cancelled.' : describeFailure(error)}\n`);
    process.exitCode = cancelled ? EXIT_CANCELLED : 1;
  },
);
