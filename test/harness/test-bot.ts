import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { APIApplicationCommandInteractionDataBasicOption, InteractionType } from 'discord-api-types/v10';
import { type App, startApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import type { Catalogue } from '../../src/services/catalogue/catalogue.ts';
import { loadCatalogue } from '../../src/services/catalogue/load-catalogue.ts';
import { type FakeDiscord, startFakeDiscord } from '../fakes/fake-discord/fake-discord.ts';
import { type FakeVideoService, startFakeVideoService } from '../fakes/fake-video-service.ts';

/** Recognisable secrets: tests assert they never show up in anything the bot sent or logged. */
export const TEST_API_KEY = 'sk-test-KEY-must-never-leak-0123456789';

export interface TestBot {
  discord: FakeDiscord;
  service: FakeVideoService;
  app: App;
  /** The models the bot offers: the test's own, or the one built from its settings. */
  catalogue: Catalogue;
  logs: string[];
  dataDir: string;
  env: Record<string, string>;
  /** Stops the bot only, keeping the stand-ins and the data directory (for restart tests). */
  stopBot(): Promise<void>;
  /** Starts the bot again against the same stand-ins and data. */
  restartBot(): Promise<App>;
  close(): Promise<void>;
}

export interface TestBotOptions {
  env?: Record<string, string>;
  discord?: FakeDiscord;
  service?: FakeVideoService;
  /** Several models with their own options; without it, MODELS_FILE's or the SORA_* settings' catalogue. */
  catalogue?: Catalogue;
}

/**
 * The real bot (the same `startApp` as `npm start`) connected over loopback to a fake Discord and
 * a fake video service.
 */
export async function startTestBot(options: TestBotOptions = {}): Promise<TestBot> {
  const discord = options.discord ?? (await startFakeDiscord());
  const service = options.service ?? (await startFakeVideoService());
  const dataDir = await mkdtemp(path.join(tmpdir(), 'sora-bot-test-'));
  const logs: string[] = [];
  const env: Record<string, string> = {
    DISCORD_TOKEN: discord.botToken,
    DISCORD_API_URL: discord.apiUrl,
    SORA_API_KEY: TEST_API_KEY,
    SORA_API_URL: service.apiUrl,
    ALLOW_PRIVATE_VIDEO_URLS: 'true',
    PROGRESS_EDIT_INTERVAL_MS: '250',
    SERVICE_RETRY_DELAY_MS: '10',
    SHUTDOWN_GRACE_MS: '200',
    DATA_DIR: dataDir,
    LOG_LEVEL: 'debug',
    ...options.env,
  };
  const catalogue = options.catalogue ?? loadCatalogue(loadConfig(env), env);
  const boot = async () => {
    const ready = discord.nextReady();
    const started = await startApp(loadConfig(env), { writeLog: (line) => logs.push(line), catalogue, env });
    await ready;
    return started;
  };
  let app = await boot();
  const bot: TestBot = {
    discord,
    service,
    get app() {
      return app;
    },
    catalogue,
    logs,
    dataDir,
    env,
    async stopBot() {
      await app.stop();
    },
    async restartBot() {
      app = await boot();
      return app;
    },
    async close() {
      await app.stop().catch(() => {});
      await discord.close();
      await service.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  return bot;
}

type CommandOption = APIApplicationCommandInteractionDataBasicOption<InteractionType.ApplicationCommand>;

/** `/video` options the way Discord sends them. */
export function videoOptions(values: {
  prompt: string;
  duration?: number;
  aspectRatio?: string;
  /** What a registration made before aspect ratios sends (landscape, portrait). */
  orientation?: string;
  model?: string;
}): CommandOption[] {
  const options: CommandOption[] = [{ name: 'prompt', type: 3, value: values.prompt }];
  if (values.duration) options.push({ name: 'duration', type: 4, value: values.duration });
  if (values.aspectRatio) options.push({ name: 'aspect_ratio', type: 3, value: values.aspectRatio });
  if (values.orientation) options.push({ name: 'orientation', type: 3, value: values.orientation });
  if (values.model) options.push({ name: 'model', type: 3, value: values.model });
  return options;
}

/** A tiny but real PNG (1×1), as members upload. */
export const PNG_BYTES = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);
