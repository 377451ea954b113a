import {
  type APIEntitlement,
  type APIGuildMember,
  Client,
  DefaultRestOptions,
  type Entitlement,
  Events,
  GatewayIntentBits,
  type Interaction,
  Options,
  Partials,
  REST,
  RESTEvents,
  type RESTOptions,
  Routes,
} from 'discord.js';
import { createCancelButton } from './commands/buttons/cancel.ts';
import { createRemixButton } from './commands/buttons/remix.ts';
import { createRetryButton } from './commands/buttons/retry.ts';
import { commandHandlers } from './commands/definitions.ts';
import { createRemixForm } from './commands/forms/remix-form.ts';
import { serverLanguageFrom } from './commands/languages.ts';
import { rawInteractionHandler } from './commands/raw-interactions.ts';
import { Router } from './commands/router.ts';
import { createMentionTrigger } from './commands/triggers/mention.ts';
import type { Config } from './config.ts';
import type { Catalogue } from './services/catalogue/catalogue.ts';
import { modelIds } from './services/catalogue/catalogue-offer.ts';
import { loadCatalogue } from './services/catalogue/load-catalogue.ts';
import { ModelProviders, shapeSettingsOf } from './services/catalogue/model-providers.ts';
import type { CancelBus } from './services/cluster/cancel-bus.ts';
import { HealthServer } from './services/cluster/health-server.ts';
import type { JobQueue, QueuedPayload } from './services/cluster/job-queue.ts';
import type { BotMetrics } from './services/cluster/metrics.ts';
import { QueueWorker } from './services/cluster/queue-worker.ts';
import { QueuedJobs } from './services/cluster/queued-jobs.ts';
import { ClusterRateLimit } from './services/cluster/rest-rate-limit.ts';
import { connectsGateway, runsFrontDoors, runsJobs } from './services/cluster/roles.ts';
import { JobIntake } from './services/intake/job-intake.ts';
import { InteractionCallbacks } from './services/interactions-endpoint/interaction-callbacks.ts';
import { InteractionsEndpoint } from './services/interactions-endpoint/interactions-endpoint.ts';
import { QuotaAdmission } from './services/jobs/job-admission.ts';
import type { JobDispatch, SurfaceLocation } from './services/jobs/job-ports.ts';
import { JobRecords } from './services/jobs/job-records.ts';
import { createJobRecovery, shouldResume } from './services/jobs/job-recovery.ts';
import { JobRunner, newJobId } from './services/jobs/job-runner.ts';
import { JobSweep } from './services/jobs/job-sweep.ts';
import { LocalJobs } from './services/jobs/local-jobs.ts';
import { currentIdentity, isKnownDead, newProcessId } from './services/jobs/process-identity.ts';
import { ProcessLease } from './services/jobs/process-lease.ts';
import { TokenSeal } from './services/jobs/token-seal.ts';
import { createLogger, type Logger } from './services/logging/logger.ts';
import { DiscordMessages } from './services/progress-message/discord-messages.ts';
import { discordRestAgent } from './services/progress-message/discord-rest-agent.ts';
import { PostedVideoCheck } from './services/progress-message/posted-video-check.ts';
import { surfaceAt } from './services/progress-message/surfaces.ts';
import { parseCreditSkus } from './services/quotas/credit-skus.ts';
import { Credits, type EntitlementSeen } from './services/quotas/credits.ts';
import { canPayFromReservation } from './services/quotas/job-cost.ts';
import { QuotaCharges } from './services/quotas/quota-charges.ts';
import { quotaDefaultsFromConfig } from './services/quotas/quota-rules.ts';
import { QuotaService } from './services/quotas/quota-service.ts';
import { ModerationLog } from './services/safety/moderation-log.ts';
import { loadBlockedWords, SafetyPolicy } from './services/safety/safety-policy.ts';
import { SafetySettings } from './services/safety/safety-settings.ts';
import { VideoSettings } from './services/settings/video-settings.ts';
import { createStore } from './services/store/create-store.ts';
import { HttpVideoDownloader } from './services/video-service/download/video-download.ts';

export interface App {
  /** The gateway connection; absent on a worker, which talks to Discord over REST only. */
  client?: Client;
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
  /** Where the catalogue's keys are read (by each provider's `api_key_env`); process.env by default. */
  env?: NodeJS.ProcessEnv;
  /** The models offered, for tests that need several; from the settings by default. */
  catalogue?: Catalogue;
}

/** How often queue and runner counts are sampled for the metrics. */
const METRICS_SAMPLE_MS = 5_000;

/**
 * Builds every service once and wires them for this process's role (BOT_ROLE): the front doors
 * (gateway), the job runner (worker), or both (all). Without REDIS_URL everything stays in this
 * process; with it, front doors hand jobs to the cluster queue and workers take them from there.
 */
export async function startApp(config: Config, options: AppOptions = {}): Promise<App> {
  // Keys are read by name (each provider's api_key_env); SORA_API_KEY as config read it.
  const given = options.env ?? process.env;
  const env = config.SORA_API_KEY ? { ...given, SORA_API_KEY: config.SORA_API_KEY } : given;
  // Before anything connects: a bad catalogue stops the start like a bad setting (ConfigError).
  const catalogue = options.catalogue ?? loadCatalogue(config, env);
  const operatorWords = loadBlockedWords(config.BLOCKED_WORDS_FILE);
  const serviceKeys = [...catalogue.providers.values()].flatMap((provider) => env[provider.apiKeyEnv] ?? []);
  const role = config.BOT_ROLE;
  // Names this process in leases, job records, reservations and logs: unique across restarts and machines.
  const processId = newProcessId(currentIdentity(), newJobId());
  const logger = createLogger({
    level: config.LOG_LEVEL,
    secrets: [config.DISCORD_TOKEN, ...serviceKeys],
    write: options.writeLog,
    base: { role, processId },
  });
  const onClusterError = (error: unknown) => logger.debug('cluster_redis_error', { error });
  const metrics = config.METRICS_PORT === undefined ? undefined : await createMetrics(role);

  // --- Discord REST, bounded across the cluster ----------------------------------------------
  const restLimit = config.REDIS_URL
    ? new ClusterRateLimit({
        redisUrl: config.REDIS_URL,
        requestsPerSecond: config.DISCORD_REQUESTS_PER_SECOND,
        timeoutMs: config.STORE_TIMEOUT_MS,
        onError: onClusterError,
      })
    : undefined;
  // With INTERACTIONS_PORT, the first answer to an interaction that came over HTTP is its response.
  const callbacks =
    config.INTERACTIONS_PORT !== undefined && runsFrontDoors(role) ? new InteractionCallbacks() : undefined;
  const makeRequest = restLimit?.makeRequest() ?? DefaultRestOptions.makeRequest;
  const restOptions: Partial<RESTOptions> = {
    agent: discordRestAgent(),
    ...(config.DISCORD_API_URL ? { api: config.DISCORD_API_URL } : {}),
    globalRequestsPerSecond: config.DISCORD_REQUESTS_PER_SECOND,
    // discord.js keys a webhook route's rate-limit handler by application id and token, so every
    // interaction gets one, kept until the next sweep: hourly by default, a thousand jobs' worth.
    handlerSweepInterval: REST_HANDLER_SWEEP_MS,
    ...(restLimit || callbacks ? { makeRequest: callbacks?.wrap(makeRequest) ?? makeRequest } : {}),
  };
  // An interactions front door has a client too, never logged in: it turns payloads into interactions.
  const client = runsFrontDoors(role) ? createGatewayClient(config, restOptions) : undefined;
  if (client && !connectsGateway(role)) client.rest.setToken(config.DISCORD_TOKEN);
  const rest = client?.rest ?? new REST(restOptions).setToken(config.DISCORD_TOKEN);
  const uploads = new REST({ ...restOptions, timeout: config.VIDEO_UPLOAD_TIMEOUT_MS, retries: 0 }).setToken(
    config.DISCORD_TOKEN,
  );
  for (const each of [rest, uploads]) {
    each.on(RESTEvents.Response, (_request, response) => {
      if (response.status === 429) metrics?.discordRateLimited();
    });
  }
  rest.on(RESTEvents.RateLimited, (info) =>
    logger.debug('discord_rate_limited', {
      route: info.route,
      retryAfter: info.retryAfter,
      scope: info.scope,
    }),
  );

  // --- State every role shares --------------------------------------------------------------
  const store = await createStore({
    dataDir: config.DATA_DIR,
    redisUrl: config.REDIS_URL,
    logger,
    timeoutMs: config.STORE_TIMEOUT_MS,
  });
  const records = new JobRecords(store, logger, processId, TokenSeal.fromSecret(config.DISCORD_TOKEN));
  const lease = new ProcessLease({
    processId,
    processes: store.processes,
    leaseMs: config.PROCESS_LEASE_MS,
    logger,
  });
  const quotas = new QuotaService({
    store,
    defaults: quotaDefaultsFromConfig(config),
    ownerIds: config.OWNER_IDS,
    logger,
    processId,
    currency: catalogue.currency,
  });
  const settings = new VideoSettings({ store, offeredModels: modelIds(catalogue) });
  const safety = new SafetySettings({ store });
  // Needs only REST: whichever process runs a job (a queue worker too) posts its events.
  const moderationLog = new ModerationLog({ rest, safety, settings, catalogue, logger });
  const policy = new SafetyPolicy({
    safety,
    ageRestrictedEverywhere: config.AGE_RESTRICTED_ONLY,
    operatorWords,
    logger,
    onRefused: (ask, reason) => moderationLog.refused(ask, reason),
  });
  let applicationId: string | undefined;
  const credits = new Credits({
    balances: store.collection('credits'),
    skus: parseCreditSkus(config.CREDIT_SKUS),
    consume: async (entitlementId) => {
      if (!applicationId) throw new Error('the application id is not known yet');
      await rest.post(Routes.consumeEntitlement(applicationId, entitlementId));
    },
    logger,
  });
  const charges = new QuotaCharges({ quotas, logger, credits });
  const creditUnconsumed = async (appId: string | undefined) => {
    if (!appId) return;
    applicationId = appId;
    const query = new URLSearchParams({ exclude_ended: 'true' });
    const listed = (await rest.get(Routes.entitlements(appId), { query })) as APIEntitlement[];
    await credits.receiveAll(
      listed.map((each) => ({
        id: each.id,
        skuId: each.sku_id,
        userId: each.user_id ?? '',
        consumed: each.consumed ?? false,
      })),
    );
  };
  const admission = new QuotaAdmission({
    charges,
    showPrices: config.SHOW_PRICES,
    creditSkuIds: credits.skuIds,
    settings,
    catalogue,
    logger,
    policy,
    rolesIn: async (guildId, userId) =>
      ((await rest.get(Routes.guildMember(guildId, userId))) as APIGuildMember).roles,
  });
  const messages = new DiscordMessages(rest, uploads);
  const surfaceFor = (location: SurfaceLocation) =>
    surfaceAt(location, { messages, logger, style: config.MESSAGE_STYLE });
  const providers = new ModelProviders({
    catalogue,
    env,
    settings: shapeSettingsOf(config),
    logger,
  });

  const cluster = config.REDIS_URL ? await connectCluster(config.REDIS_URL, onClusterError) : undefined;
  // Not awaited: BullMQ holds commands until Redis answers, and a start during an outage must not hang.
  void cluster?.queue.setGlobalConcurrency(config.MAX_CONCURRENT_JOBS).catch(onClusterError);

  // --- The jobs half: runner, queue worker, takeover of what lost processes left -------------
  let runner: JobRunner | undefined;
  let queueWorker: QueueWorker | undefined;
  let downloader: HttpVideoDownloader | undefined;
  if (runsJobs(role)) {
    downloader = new HttpVideoDownloader({
      timeoutMs: config.VIDEO_DOWNLOAD_TIMEOUT_MS,
      allowPrivate: config.ALLOW_PRIVATE_VIDEO_URLS,
    });
    runner = new JobRunner({
      models: providers,
      downloader,
      logger,
      // On the queue, the cluster's line is BullMQ's: this runner only runs what this worker took.
      maxConcurrent: cluster ? config.WORKER_CONCURRENCY : config.MAX_CONCURRENT_JOBS,
      maxConcurrentDeliveries: config.MAX_CONCURRENT_DELIVERIES,
      progressIntervalMs: config.PROGRESS_EDIT_INTERVAL_MS,
      serviceRetries: { attempts: config.SERVICE_RETRIES, baseDelayMs: config.SERVICE_RETRY_DELAY_MS },
      maxDeliveryBytesInFlight: config.MAX_DELIVERY_BYTES_IN_FLIGHT,
      onUpdate: (update) => {
        records.track(update);
        moderationLog.jobUpdated(update);
      },
      onDelivering: (update) => records.markDelivering(update, config.STORE_TIMEOUT_MS),
      onStreamEvent: metrics && ((type) => metrics.streamEvent(type)),
      onProgressEdit: metrics && ((seconds) => metrics.progressEdited(seconds)),
      onFinished: (snapshot) => {
        metrics?.jobFinished(snapshot.state, reasonLabel(snapshot));
        moderationLog.jobFinished(snapshot);
      },
      ownership: { lease, isOwn: (jobId) => records.isOwn(jobId) },
      canPay: canPayFromReservation,
    });
    if (cluster) {
      queueWorker = new QueueWorker({
        ...cluster,
        records,
        runner,
        surfaceAt: surfaceFor,
        chargeFor: (reservation) => charges.chargeFor(reservation),
        logger,
        concurrency: config.WORKER_CONCURRENCY,
        holdMs: config.PROCESS_LEASE_MS,
        onTaken: metrics && ((waitedMs) => metrics.queueWaited(waitedMs / 1000)),
        onFinished: metrics && ((state) => metrics.jobFinished(state, '')),
      });
    }
  }

  // --- The front doors: gateway, commands, buttons, forms, mentions --------------------------
  const queuedJobs = cluster
    ? new QueuedJobs({
        ...cluster,
        records,
        surfaceAt: surfaceFor,
        release: (reservation) => charges.release(reservation),
        logger,
        refreshMs: config.PROGRESS_EDIT_INTERVAL_MS,
        discard: async (location) => {
          if (location.kind === 'channel' && location.messageId)
            await messages.delete(location.channelId, location.messageId);
        },
        onFinished: metrics && ((state) => metrics.jobFinished(state, '')),
      })
    : undefined;
  const jobs: JobDispatch | undefined = queuedJobs ?? (runner && new LocalJobs(runner));
  const intake =
    client && jobs
      ? new JobIntake({
          jobs,
          messages,
          logger,
          admission,
          tokenLifetimeMs: config.INTERACTION_TOKEN_LIFETIME_MS,
          style: config.MESSAGE_STYLE,
        })
      : undefined;
  let endpoint: InteractionsEndpoint | undefined;
  if (client && jobs && intake) {
    const requestOptions = {
      intake,
      catalogue,
      maxPromptLength: config.MAX_PROMPT_LENGTH,
      maxImageBytes: config.MAX_IMAGE_BYTES,
      allowDms: config.ALLOW_DMS,
      serverLanguage: serverLanguageFrom(settings),
    };
    const handlers = commandHandlers({
      ...requestOptions,
      forms: store.collection('make-video-forms'),
      quotas,
      credits,
      showPrices: config.SHOW_PRICES,
      logger,
      settings,
      safety: { safety, ageRestrictedEverywhere: config.AGE_RESTRICTED_ONLY },
    });
    /** A purchase not yet credited rides along on every interaction of its buyer: credit it first. */
    const creditThenRoute = async (interaction: Interaction) => {
      if (credits.enabled && interaction.entitlements.size > 0)
        await credits.receiveAll([...interaction.entitlements.values()].map(entitlementSeen));
      await router.handleInteraction(interaction);
    };
    const router = new Router({
      commands: handlers.commands,
      buttons: [
        createCancelButton({ jobs }),
        createRetryButton({ records, intake, allowDms: config.ALLOW_DMS }),
        createRemixButton({ records, maxPromptLength: config.MAX_PROMPT_LENGTH }),
      ],
      modals: [
        ...handlers.modals,
        createRemixForm({ records, intake, maxPromptLength: config.MAX_PROMPT_LENGTH }),
      ],
      triggers: [createMentionTrigger(requestOptions)],
      logger,
    });
    client.on(Events.InteractionCreate, (interaction) => void creditThenRoute(interaction));
    // A purchase: credited once to the buyer's balance, then consumed (services/quotas/credits.ts).
    client.on(
      Events.EntitlementCreate,
      (entitlement) => void credits.receiveAll([entitlementSeen(entitlement)]),
    );
    client.on(Events.MessageCreate, (message) => void router.handleMessage(message));
    client.on(Events.Error, (error) => logger.error('discord_client_error', { error }));
    if (connectsGateway(role)) {
      const ready = new Promise<void>((resolve) => client.once(Events.ClientReady, () => resolve()));
      await client.login(config.DISCORD_TOKEN);
      await ready;
      // Purchases made while no process was listening: every unconsumed one of the app's SKUs.
      if (credits.enabled)
        void creditUnconsumed(client.application?.id).catch((error) =>
          logger.warn('entitlements_list_failed', { error }),
        );
    }
    if (callbacks && config.INTERACTIONS_PORT !== undefined && config.DISCORD_PUBLIC_KEY) {
      endpoint = await InteractionsEndpoint.start({
        port: config.INTERACTIONS_PORT,
        publicKey: config.DISCORD_PUBLIC_KEY,
        callbacks,
        handle: rawInteractionHandler(client),
        logger,
      });
    }
  }

  // --- Leases and takeover ------------------------------------------------------------------
  const postedVideo = new PostedVideoCheck(rest);
  const sweep = new JobSweep({
    processId,
    leaseMs: config.PROCESS_LEASE_MS,
    records,
    charges,
    processes: store.processes,
    isLive: (jobId) => runner?.has(jobId) ?? false,
    uploadTimeoutMs: config.VIDEO_UPLOAD_TIMEOUT_MS,
    queue: cluster?.queue,
    knownDead: isKnownDead(store.backend, processId),
    lease,
    // On the queue, a resumable job goes back in line, so it counts against MAX_CONCURRENT_JOBS.
    requeue: queueWorker
      ? async (job) =>
          providers.canResume(job.record.request.model) ? (queueWorker as QueueWorker).requeue(job) : false
      : undefined,
    recover: createJobRecovery({
      records,
      logger,
      surfaceAt: surfaceFor,
      isVideoPosted: (record) => postedVideo.isPosted(record),
      resume: (record) => {
        if (!runner || !record.serviceJobId || !shouldResume(record, providers)) return false;
        runner.submit(record.request, {
          surface: surfaceFor(record.location),
          charge: record.reservation && charges.chargeFor(record.reservation),
          resume: { jobId: record.id, serviceJobId: record.serviceJobId, startedAt: record.createdAt },
        });
        return true;
      },
      commitReservation: (reservation) => charges.commit(reservation),
      releaseReservation: (reservation) => charges.release(reservation),
    }),
    logger,
  });
  // Only jobs of processes whose lease ran out are taken over; this process's own new ones never.
  // A gateway runs no jobs, so it only keeps its lease; workers (or the single process) take over.
  await sweep.start({ sweeps: Boolean(runner) });
  if (runner) await sweep.sweep();
  // A cancel sent before this worker listens still reaches it: the bus leaves a marker per job.
  void cluster?.cancelBus.ready().catch(onClusterError);
  queueWorker?.start();

  // --- Operator's view ----------------------------------------------------------------------
  let ready = false;
  const shardsHere = () => (client ? [...client.ws.shards.keys()] : []);
  const sampler =
    metrics &&
    setInterval(() => {
      if (cluster) cluster.queue.counts().then((counts) => metrics.queueCounts(counts), onClusterError);
      else if (runner) {
        const counts = runner.counts();
        metrics.queueCounts({ waiting: counts.waiting, active: counts.running });
      }
    }, METRICS_SAMPLE_MS).unref();
  const health =
    metrics &&
    (await HealthServer.start({
      port: config.METRICS_PORT ?? 0,
      host: config.METRICS_HOST,
      metricsToken: config.METRICS_TOKEN,
      metrics,
      health: () => ({
        ready,
        store: store.available ? 'ok' : 'unavailable',
        role,
        shards: shardsHere(),
        processId,
      }),
      onError: (error) => logger.warn('health_server_error', { error }),
    }));
  ready = true;
  logger.info('bot_ready', {
    user: client?.user?.tag,
    guilds: client?.guilds.cache.size,
    shards: shardsHere(),
    model: catalogue.defaultModel,
    models: catalogue.models.length,
    queue: cluster ? 'redis' : 'in-process',
    metricsPort: health?.port,
    interactionsPort: endpoint?.port,
  });

  const finishJobs = async (graceMs: number) => {
    intake?.close();
    queuedJobs?.close();
    queueWorker?.stop();
    // The worker stops taking jobs while the runner gives its own `graceMs` to finish.
    await Promise.all([
      cluster?.queue.close({ abortAfterMs: graceMs + config.STORE_TIMEOUT_MS }),
      runner?.shutdown(graceMs),
    ]);
  };
  return {
    client,
    logger,
    finishJobs,
    async stop() {
      ready = false;
      await finishJobs(config.SHUTDOWN_GRACE_MS);
      await charges.drain(config.STORE_TIMEOUT_MS);
      await records.flush(config.STORE_TIMEOUT_MS);
      records.close();
      await sweep.stop();
      await endpoint?.close();
      await client?.destroy();
      await downloader?.close();
      await providers.close();
      await cluster?.cancelBus.close();
      await restLimit?.close();
      if (sampler) clearInterval(sampler);
      await health?.close();
      await store.close();
      logger.info('bot_stopped');
    },
  };
}

interface Cluster {
  queue: JobQueue<QueuedPayload>;
  cancelBus: CancelBus;
}

/**
 * The shared queue and cancel bus. Loaded only when REDIS_URL is set: BullMQ alone adds about
 * 25 MiB to a process, which the single-process bot has no use for.
 */
async function connectCluster(redisUrl: string, onError: (error: unknown) => void): Promise<Cluster> {
  const [{ JobQueue }, { CancelBus }] = await Promise.all([
    import('./services/cluster/job-queue.ts'),
    import('./services/cluster/cancel-bus.ts'),
  ]);
  return {
    queue: new JobQueue<QueuedPayload>({ redisUrl, onError }),
    cancelBus: new CancelBus({ redisUrl, onError }),
  };
}

/** prom-client, loaded only when METRICS_PORT asks for it. */
async function createMetrics(role: Config['BOT_ROLE']): Promise<BotMetrics> {
  const { BotMetrics } = await import('./services/cluster/metrics.ts');
  return new BotMetrics(role);
}

/** How often discord.js REST drops idle per-route handlers (one per interaction token). */
const REST_HANDLER_SWEEP_MS = 60_000;

function createGatewayClient(config: Config, rest: Partial<RESTOptions>): Client {
  // discord.js also reads SHARD_COUNT and SHARDS from the environment (for ShardingManager's
  // children) and takes an empty one as 0 shards: the blank lines a copied .env.example leaves must
  // mean "unset", as they do for every other setting, which config has already read.
  for (const name of ['SHARD_COUNT', 'SHARDS']) {
    if (process.env[name]?.trim() === '') delete process.env[name];
  }
  return new Client({
    intents: [
      GatewayIntentBits.Guilds,
      GatewayIntentBits.GuildMessages,
      GatewayIntentBits.DirectMessages,
      ...(config.MESSAGE_CONTENT_INTENT ? [GatewayIntentBits.MessageContent] : []),
    ],
    // DMs arrive for channels discord.js has never cached.
    partials: [Partials.Channel],
    // Nothing reads a cached message (replies are edited over REST by token and id), and the default
    // keeps 200 per channel, each job's card with all its components among them.
    makeCache: Options.cacheWithLimits({ ...Options.DefaultMakeCacheSettings, MessageManager: 0 }),
    rest,
    allowedMentions: { parse: [], repliedUser: false },
    // Several processes can share one bot, each with some of its shards.
    ...(config.SHARD_COUNT ? { shardCount: config.SHARD_COUNT } : {}),
    ...(config.SHARD_IDS.length > 0 ? { shards: config.SHARD_IDS } : {}),
  });
}

/** A message key names the reason; a service's own words would make one series per sentence. */
function reasonLabel(snapshot: { state: string; reason?: unknown }): string {
  if (snapshot.state === 'delivered' || snapshot.state === 'cancelled') return '';
  const reason = snapshot.reason;
  if (reason && typeof reason === 'object' && 'key' in reason) return String(reason.key);
  return reason ? 'service' : '';
}

function entitlementSeen(entitlement: Entitlement): EntitlementSeen {
  return {
    id: entitlement.id,
    skuId: entitlement.skuId,
    userId: entitlement.userId,
    consumed: entitlement.consumed,
  };
}
