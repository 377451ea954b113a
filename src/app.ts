import type { Client } from 'discord.js';
import { connectCluster, createMetrics } from './app/cluster.ts';
import { connectDiscord } from './app/discord-rest.ts';
import { startFrontDoors } from './app/front-doors.ts';
import { createJobsHalf } from './app/jobs-half.ts';
import { startOperatorView } from './app/operator-view.ts';
import { createServices } from './app/services.ts';
import { shutdownSequence } from './app/shutdown.ts';
import { createSweep } from './app/takeover.ts';
import type { Config } from './config.ts';
import type { Catalogue } from './services/catalogue/catalogue.ts';
import { loadCatalogue } from './services/catalogue/load-catalogue.ts';
import { newJobId } from './services/jobs/job-runner.ts';
import { currentIdentity, newProcessId } from './services/jobs/process-identity.ts';
import { createLogger, type Logger } from './services/logging/logger.ts';
import { loadBlockedWords } from './services/safety/safety-policy.ts';

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

/**
 * Builds every service once and wires them for this process's role (BOT_ROLE): the front doors
 * (gateway), the job runner (worker), or both (all). Without REDIS_URL everything stays in this
 * process; with it, front doors hand jobs to the cluster queue and workers take them from there.
 * Each part is made in its own file under `src/app/`; this only says in which order.
 */
export async function startApp(config: Config, options: AppOptions = {}): Promise<App> {
  // Keys are read by name (each provider's api_key_env); SORA_API_KEY as config read it.
  const given = options.env ?? process.env;
  const env = config.SORA_API_KEY ? { ...given, SORA_API_KEY: config.SORA_API_KEY } : given;
  // Before anything connects: a bad catalogue stops the start like a bad setting (ConfigError).
  const catalogue = options.catalogue ?? loadCatalogue(config, env);
  const operatorWords = loadBlockedWords(config.BLOCKED_WORDS_FILE);
  const serviceKeys = [...catalogue.providers.values()].flatMap((provider) => env[provider.apiKeyEnv] ?? []);
  // Names this process in leases, job records, reservations and logs: unique across restarts and machines.
  const processId = newProcessId(currentIdentity(), newJobId());
  const logger = createLogger({
    level: config.LOG_LEVEL,
    secrets: [config.DISCORD_TOKEN, ...serviceKeys],
    write: options.writeLog,
    base: { role: config.BOT_ROLE, processId },
  });
  const onClusterError = (error: unknown) => logger.debug('cluster_redis_error', { error });
  const metrics = config.METRICS_PORT === undefined ? undefined : await createMetrics(config.BOT_ROLE);

  const discord = connectDiscord(config, { logger, metrics, onClusterError });
  const { client, rest } = discord;
  const services = await createServices(config, {
    catalogue,
    env,
    operatorWords,
    processId,
    logger,
    discord,
  });
  const cluster = config.REDIS_URL ? await connectCluster(config.REDIS_URL, onClusterError) : undefined;
  // Not awaited: BullMQ holds commands until Redis answers, and a start during an outage must not hang.
  void cluster?.queue.setGlobalConcurrency(config.MAX_CONCURRENT_JOBS).catch(onClusterError);

  const jobsHalf = createJobsHalf(config, { services, cluster, metrics, logger });
  const { runner, queueWorker } = jobsHalf;
  const frontDoors = await startFrontDoors(config, {
    catalogue,
    services,
    client,
    callbacks: discord.callbacks,
    runner,
    cluster,
    metrics,
    logger,
  });

  const sweep = createSweep(config, { processId, services, jobsHalf, cluster, rest, logger });
  // Only jobs of processes whose lease ran out are taken over; this process's own new ones never.
  // A gateway runs no jobs, so it only keeps its lease; workers (or the single process) take over.
  await sweep.start({ sweeps: Boolean(runner) });
  if (runner) await sweep.sweep();
  // A cancel sent before this worker listens still reaches it: the bus leaves a marker per job.
  void cluster?.cancelBus.ready().catch(onClusterError);
  queueWorker?.start();

  const operatorView = await startOperatorView(config, {
    metrics,
    cluster,
    runner,
    client,
    store: services.store,
    processId,
    logger,
    onClusterError,
  });
  operatorView.setReady(true);
  logger.info('bot_ready', {
    user: client?.user?.tag,
    guilds: client?.guilds.cache.size,
    shards: operatorView.shards(),
    model: catalogue.defaultModel,
    models: catalogue.models.length,
    queue: cluster ? 'redis' : 'in-process',
    metricsPort: operatorView.port,
    interactionsPort: frontDoors.endpoint?.port,
  });
  const { finishJobs, stop } = shutdownSequence(config, {
    discord,
    services,
    cluster,
    jobsHalf,
    frontDoors,
    sweep,
    operatorView,
    logger,
  });
  return { client, logger, finishJobs, stop };
}
