import { Client, Events, GatewayIntentBits, Partials, REST } from 'discord.js';
import { createCancelButton } from './commands/cancel-button.ts';
import type { ApplicationCommand } from './commands/command.ts';
import { createMakeVideo } from './commands/make-video-menu.ts';
import { createMentionTrigger } from './commands/mention-trigger.ts';
import { createQuotaCommand } from './commands/quota.ts';
import { createRetryButton } from './commands/retry-button.ts';
import { Router } from './commands/router.ts';
import { createServerSettingsCommand } from './commands/server-settings.ts';
import { createUsageCommand } from './commands/usage.ts';
import { createVideoCommand } from './commands/video.ts';
import { type Config, offeredModels } from './config.ts';
import { DiscordMessages } from './services/delivery/discord-messages.ts';
import { JobLauncher } from './services/delivery/job-launcher.ts';
import { recoverUnfinishedJobs } from './services/delivery/job-recovery.ts';
import { GuildSettings } from './services/guild-settings.ts';
import { QuotaAdmission } from './services/job-admission.ts';
import { JobRecords } from './services/jobs/job-records.ts';
import { JobRunner } from './services/jobs/job-runner.ts';
import { createLogger, type Logger } from './services/logger.ts';
import { quotaDefaultsFromConfig } from './services/quota-rules.ts';
import { QuotaService } from './services/quota-service.ts';
import { RelayVideoProvider } from './services/relay-video-provider.ts';
import { createStore } from './services/store.ts';
import { VideoDownloader } from './services/video-download.ts';

export interface App {
  client: Client;
  runner: JobRunner;
  logger: Logger;
  stop(): Promise<void>;
}

export interface AppOptions {
  /** Where log lines go; stdout by default. */
  writeLog?: (line: string) => void;
}

/** Builds every service once, wires the front doors to them, and logs the bot in. */
export async function startApp(config: Config, options: AppOptions = {}): Promise<App> {
  const logger = createLogger({
    level: config.LOG_LEVEL,
    secrets: [config.DISCORD_TOKEN, config.SORA_API_KEY],
    write: options.writeLog,
  });
  const restOptions = config.DISCORD_API_URL ? { api: config.DISCORD_API_URL } : {};
  const client = new Client({
    intents: [
      GatewayIntentBits.Guilds,
      GatewayIntentBits.GuildMessages,
      GatewayIntentBits.DirectMessages,
      ...(config.MESSAGE_CONTENT_INTENT ? [GatewayIntentBits.MessageContent] : []),
    ],
    // DMs arrive for channels discord.js has never cached.
    partials: [Partials.Channel],
    rest: restOptions,
    allowedMentions: { parse: [], repliedUser: false },
  });
  const uploads = new REST({ ...restOptions, timeout: config.VIDEO_UPLOAD_TIMEOUT_MS, retries: 0 }).setToken(
    config.DISCORD_TOKEN,
  );

  const store = createStore({ dataDir: config.DATA_DIR, redisUrl: config.REDIS_URL, logger });
  const records = new JobRecords(store, logger);
  const models = offeredModels(config);
  const quotas = new QuotaService({
    store,
    defaults: quotaDefaultsFromConfig(config),
    ownerIds: config.OWNER_IDS,
    logger,
  });
  const settings = new GuildSettings({ store, offeredModels: models });
  const admission = new QuotaAdmission({ quotas, settings, defaultModel: config.SORA_MODEL });
  const provider = new RelayVideoProvider({
    apiUrl: config.SORA_API_URL,
    apiKey: config.SORA_API_KEY,
    stallTimeoutMs: config.SERVICE_STALL_TIMEOUT_MS,
    timeoutMs: config.SERVICE_TIMEOUT_MS,
    logger,
  });
  const fetcher = new VideoDownloader({
    timeoutMs: config.VIDEO_DOWNLOAD_TIMEOUT_MS,
    allowPrivate: config.ALLOW_PRIVATE_VIDEO_URLS,
  });
  const runner = new JobRunner({
    provider,
    fetcher,
    logger,
    maxConcurrent: config.MAX_CONCURRENT_JOBS,
    maxConcurrentDeliveries: config.MAX_CONCURRENT_DELIVERIES,
    progressIntervalMs: config.PROGRESS_EDIT_INTERVAL_MS,
    serviceRetries: { attempts: config.SERVICE_RETRIES, baseDelayMs: config.SERVICE_RETRY_DELAY_MS },
    onStateChange: (snapshot, job) =>
      records.track(snapshot, job.surface.location(), job.charge?.reservation),
  });
  const messages = new DiscordMessages(client.rest, uploads);
  const launcher = new JobLauncher({
    runner,
    messages,
    logger,
    admission,
    tokenLifetimeMs: config.INTERACTION_TOKEN_LIFETIME_MS,
  });

  const requestOptions = {
    launcher,
    models,
    maxPromptLength: config.MAX_PROMPT_LENGTH,
    maxImageBytes: config.MAX_IMAGE_BYTES,
    allowDms: config.ALLOW_DMS,
  };
  const makeVideo = createMakeVideo(requestOptions);
  const commands: ApplicationCommand[] = [
    createVideoCommand(requestOptions),
    makeVideo.menu,
    createUsageCommand({ quotas }),
    createQuotaCommand({ quotas, logger }),
    createServerSettingsCommand({ settings, models }),
  ];
  const router = new Router({
    commands,
    buttons: [createCancelButton({ runner }), createRetryButton({ records, launcher })],
    modals: [makeVideo.form],
    triggers: [createMentionTrigger(requestOptions)],
    logger,
  });

  client.on(Events.InteractionCreate, (interaction) => void router.handleInteraction(interaction));
  client.on(Events.MessageCreate, (message) => void router.handleMessage(message));
  client.on(Events.Error, (error) => logger.error('discord_client_error', { error }));
  client.rest.on('rateLimited', (info) =>
    logger.debug('discord_rate_limited', {
      route: info.route,
      retryAfter: info.retryAfter,
      scope: info.scope,
    }),
  );

  const ready = new Promise<void>((resolve) => client.once(Events.ClientReady, () => resolve()));
  await client.login(config.DISCORD_TOKEN);
  await ready;
  logger.info('bot_ready', {
    user: client.user?.tag,
    guilds: client.guilds.cache.size,
    model: config.SORA_MODEL,
  });
  const recovered = await recoverUnfinishedJobs({
    records,
    messages,
    logger,
    releaseReservation: (reservation) => admission.release(reservation),
  });
  if (recovered > 0) logger.info('jobs_recovered', { count: recovered });

  return {
    client,
    runner,
    logger,
    async stop() {
      await runner.shutdown(config.SHUTDOWN_GRACE_MS);
      await records.flush();
      await client.destroy();
      await fetcher.close();
      await store.close();
      logger.info('bot_stopped');
    },
  };
}
