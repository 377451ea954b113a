import { hostname } from 'node:os';
import { type APIGuildMember, Client, Events, GatewayIntentBits, Partials, REST, Routes } from 'discord.js';
import { createCancelButton } from './commands/buttons/cancel.ts';
import { createRemixButton } from './commands/buttons/remix.ts';
import { createRetryButton } from './commands/buttons/retry.ts';
import type { ApplicationCommand } from './commands/command.ts';
import { createMakeVideo } from './commands/context-menu/make-video.ts';
import { createRemixForm } from './commands/forms/remix-form.ts';
import { serverLanguageFrom } from './commands/languages.ts';
import { Router } from './commands/router.ts';
import { createQuotaCommand } from './commands/slash/quota.ts';
import { createUsageCommand } from './commands/slash/usage.ts';
import { createVideoCommand } from './commands/slash/video.ts';
import { createVideoSettingsCommand } from './commands/slash/video-settings.ts';
import { createMentionTrigger } from './commands/triggers/mention.ts';
import { type Config, offeredModels } from './config.ts';
import { JobIntake } from './services/intake/job-intake.ts';
import { QuotaAdmission } from './services/jobs/job-admission.ts';
import { JobRecords } from './services/jobs/job-records.ts';
import { createJobRecovery } from './services/jobs/job-recovery.ts';
import { JobRunner, newJobId } from './services/jobs/job-runner.ts';
import { JobSweep } from './services/jobs/job-sweep.ts';
import { createLogger, type Logger } from './services/logging/logger.ts';
import { DiscordMessages } from './services/progress-message/discord-messages.ts';
import { PostedVideoCheck } from './services/progress-message/posted-video-check.ts';
import { surfaceAt } from './services/progress-message/surfaces.ts';
import { quotaDefaultsFromConfig } from './services/quotas/quota-rules.ts';
import { QuotaService } from './services/quotas/quota-service.ts';
import { VideoSettings } from './services/settings/video-settings.ts';
import { createStore } from './services/store/create-store.ts';
import { createVideoProvider } from './services/video-service/create-provider.ts';
import { HttpVideoDownloader } from './services/video-service/download/video-download.ts';

export interface App {
  client: Client;
  logger: Logger;
  /**
   * The first half of a stop: new requests are told the bot is restarting, running jobs get
   * `graceMs` to finish, the rest end as interrupted. The bot stays connected meanwhile.
   */
  finishJobs(graceMs: number): Promise<void>;
  /** A clean stop: finishes the jobs (SHUTDOWN_GRACE_MS), then lets go of everything. */
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
    // Several processes can share one bot, each with some of its shards.
    ...(config.SHARD_COUNT ? { shardCount: config.SHARD_COUNT } : {}),
    ...(config.SHARD_IDS.length > 0 ? { shards: config.SHARD_IDS } : {}),
  });
  const uploads = new REST({ ...restOptions, timeout: config.VIDEO_UPLOAD_TIMEOUT_MS, retries: 0 }).setToken(
    config.DISCORD_TOKEN,
  );

  // Names this process in leases, job records and reservations: unique across restarts and machines.
  const processId = `${hostname()}-${process.pid}-${newJobId()}`;
  const store = await createStore({
    dataDir: config.DATA_DIR,
    redisUrl: config.REDIS_URL,
    logger,
    timeoutMs: config.STORE_TIMEOUT_MS,
  });
  const records = new JobRecords(store, logger, processId);
  const models = offeredModels(config);
  const quotas = new QuotaService({
    store,
    defaults: quotaDefaultsFromConfig(config),
    ownerIds: config.OWNER_IDS,
    logger,
    processId,
  });
  const settings = new VideoSettings({ store, offeredModels: models });
  const admission = new QuotaAdmission({
    quotas,
    settings,
    defaultModel: config.SORA_MODEL,
    logger,
    rolesIn: async (guildId, userId) =>
      ((await client.rest.get(Routes.guildMember(guildId, userId))) as APIGuildMember).roles,
  });
  const provider = createVideoProvider(config, logger);
  const capabilities = provider.capabilities(config.SORA_MODEL);
  const downloader = new HttpVideoDownloader({
    timeoutMs: config.VIDEO_DOWNLOAD_TIMEOUT_MS,
    allowPrivate: config.ALLOW_PRIVATE_VIDEO_URLS,
  });
  const runner = new JobRunner({
    provider,
    downloader,
    logger,
    maxConcurrent: config.MAX_CONCURRENT_JOBS,
    maxConcurrentDeliveries: config.MAX_CONCURRENT_DELIVERIES,
    progressIntervalMs: config.PROGRESS_EDIT_INTERVAL_MS,
    serviceRetries: { attempts: config.SERVICE_RETRIES, baseDelayMs: config.SERVICE_RETRY_DELAY_MS },
    maxDeliveryBytesInFlight: config.MAX_DELIVERY_BYTES_IN_FLIGHT,
    onUpdate: (update) => records.track(update),
    onDelivering: (update) => records.markDelivering(update, config.STORE_TIMEOUT_MS),
  });
  const messages = new DiscordMessages(client.rest, uploads);
  const intake = new JobIntake({
    runner,
    messages,
    logger,
    admission,
    tokenLifetimeMs: config.INTERACTION_TOKEN_LIFETIME_MS,
  });

  const requestOptions = {
    intake,
    models,
    maxPromptLength: config.MAX_PROMPT_LENGTH,
    maxImageBytes: config.MAX_IMAGE_BYTES,
    allowDms: config.ALLOW_DMS,
    capabilities,
    serverLanguage: serverLanguageFrom(settings),
  };
  const makeVideo = createMakeVideo(requestOptions);
  const commands: ApplicationCommand[] = [
    createVideoCommand(requestOptions),
    makeVideo.menu,
    createUsageCommand({ quotas }),
    createQuotaCommand({ quotas, logger }),
    createVideoSettingsCommand({ settings, models, durations: capabilities.durations }),
  ];
  const router = new Router({
    commands,
    buttons: [
      createCancelButton({ runner }),
      createRetryButton({ records, intake, allowDms: config.ALLOW_DMS }),
      createRemixButton({ records, maxPromptLength: config.MAX_PROMPT_LENGTH }),
    ],
    modals: [makeVideo.form, createRemixForm({ records, intake, maxPromptLength: config.MAX_PROMPT_LENGTH })],
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
  const postedVideo = new PostedVideoCheck(client.rest);
  const sweep = new JobSweep({
    processId,
    leaseMs: config.PROCESS_LEASE_MS,
    records,
    quotas,
    processes: store.processes,
    isLive: (jobId) => runner.has(jobId),
    uploadTimeoutMs: config.VIDEO_UPLOAD_TIMEOUT_MS,
    recover: createJobRecovery({
      records,
      logger,
      surfaceAt: (location) => surfaceAt(location, { messages, logger }),
      isVideoPosted: (record) => postedVideo.isPosted(record),
      resume: (record) => {
        if (!record.serviceJobId || !provider.resume) return false;
        runner.submit(record.request, {
          surface: surfaceAt(record.location, { messages, logger }),
          charge: record.reservation && admission.chargeFor(record.reservation),
          resume: { jobId: record.id, serviceJobId: record.serviceJobId, startedAt: record.createdAt },
        });
        return true;
      },
      commitReservation: (reservation) => admission.commit(reservation),
      releaseReservation: (reservation) => admission.release(reservation),
    }),
    logger,
  });
  // Only jobs of processes whose lease ran out are taken over; this process's own new ones never.
  await sweep.start();
  await sweep.sweep();
  logger.info('bot_ready', {
    processId,
    user: client.user?.tag,
    guilds: client.guilds.cache.size,
    model: config.SORA_MODEL,
  });

  const finishJobs = async (graceMs: number) => {
    intake.close();
    await runner.shutdown(graceMs);
  };
  return {
    client,
    logger,
    finishJobs,
    async stop() {
      await finishJobs(config.SHUTDOWN_GRACE_MS);
      await admission.drain(config.STORE_TIMEOUT_MS);
      await records.flush(config.STORE_TIMEOUT_MS);
      records.close();
      await sweep.stop();
      await client.destroy();
      await downloader.close();
      await provider.close?.();
      await store.close();
      logger.info('bot_stopped');
    },
  };
}
