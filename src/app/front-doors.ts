import { type Client, Events, type Interaction } from 'discord.js';
import { createCancelButton } from '../commands/buttons/cancel.ts';
import { createRemixButton } from '../commands/buttons/remix.ts';
import { createRetryButton } from '../commands/buttons/retry.ts';
import { commandHandlers } from '../commands/definitions.ts';
import { createRemixForm } from '../commands/forms/remix-form.ts';
import { serverLanguageFrom } from '../commands/languages.ts';
import { rawInteractionHandler } from '../commands/raw-interactions.ts';
import { Router } from '../commands/router.ts';
import { createMentionTrigger } from '../commands/triggers/mention.ts';
import type { Config } from '../config.ts';
import type { Catalogue } from '../services/catalogue/catalogue.ts';
import type { BotMetrics } from '../services/cluster/metrics.ts';
import { QueuedJobs } from '../services/cluster/queued-jobs.ts';
import { connectsGateway } from '../services/cluster/roles.ts';
import { JobIntake } from '../services/intake/job-intake.ts';
import type { InteractionCallbacks } from '../services/interactions-endpoint/interaction-callbacks.ts';
import { InteractionsEndpoint } from '../services/interactions-endpoint/interactions-endpoint.ts';
import type { JobDispatch } from '../services/jobs/job-ports.ts';
import type { JobRunner } from '../services/jobs/job-runner.ts';
import { LocalJobs } from '../services/jobs/local-jobs.ts';
import type { Logger } from '../services/logging/logger.ts';
import type { Cluster } from './cluster.ts';
import { entitlementSeen } from './entitlements.ts';
import type { Services } from './services.ts';

interface FrontDoorParts {
  catalogue: Catalogue;
  services: Services;
  client?: Client;
  callbacks?: InteractionCallbacks;
  runner?: JobRunner;
  cluster?: Cluster;
  metrics?: BotMetrics;
  logger: Logger;
}

export interface FrontDoors {
  /** Where every front door hands over; closed first when the bot stops. */
  intake?: JobIntake;
  /** The gateway's side of the cluster queue. */
  queuedJobs?: QueuedJobs;
  endpoint?: InteractionsEndpoint;
}

/**
 * The way jobs leave this process (the cluster queue, or this process's runner), and, where a
 * client is, the front doors: commands, buttons, forms and mentions, the gateway login and the
 * Interactions Endpoint.
 */
export async function startFrontDoors(config: Config, parts: FrontDoorParts): Promise<FrontDoors> {
  const { catalogue, services, client, runner, cluster, metrics, logger } = parts;
  const { records, charges, messages, credits, settings } = services;
  const queuedJobs =
    cluster &&
    new QueuedJobs({
      ...cluster,
      records,
      surfaceAt: services.surfaceFor,
      release: (reservation) => charges.release(reservation),
      logger,
      refreshMs: config.PROGRESS_EDIT_INTERVAL_MS,
      discard: async (location) => {
        if (location.kind === 'channel' && location.messageId)
          await messages.delete(location.channelId, location.messageId);
      },
      onFinished: metrics && ((state) => metrics.jobFinished(state, '')),
    });
  const jobs: JobDispatch | undefined = queuedJobs ?? (runner && new LocalJobs(runner));
  if (!client || !jobs) return { queuedJobs };
  const intake = new JobIntake({
    jobs,
    messages,
    logger,
    admission: services.admission,
    tokenLifetimeMs: config.INTERACTION_TOKEN_LIFETIME_MS,
    style: config.MESSAGE_STYLE,
  });
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
    forms: services.store.collection('make-video-forms'),
    quotas: services.quotas,
    credits,
    showPrices: config.SHOW_PRICES,
    logger,
    settings,
    safety: { safety: services.safety, ageRestrictedEverywhere: config.AGE_RESTRICTED_ONLY },
  });
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
  /** A purchase not yet credited rides along on every interaction of its buyer: credit it first. */
  const creditThenRoute = async (interaction: Interaction) => {
    if (credits.enabled && interaction.entitlements.size > 0)
      await credits.receiveAll([...interaction.entitlements.values()].map(entitlementSeen));
    await router.handleInteraction(interaction);
  };
  client.on(Events.InteractionCreate, (interaction) => void creditThenRoute(interaction));
  // A purchase: credited once to the buyer's balance, then consumed (services/quotas/credits.ts).
  client.on(
    Events.EntitlementCreate,
    (entitlement) => void credits.receiveAll([entitlementSeen(entitlement)]),
  );
  client.on(Events.MessageCreate, (message) => void router.handleMessage(message));
  client.on(Events.Error, (error) => logger.error('discord_client_error', { error }));
  if (connectsGateway(config.BOT_ROLE)) {
    const ready = new Promise<void>((resolve) => client.once(Events.ClientReady, () => resolve()));
    await client.login(config.DISCORD_TOKEN);
    await ready;
    if (credits.enabled)
      void services.entitlements
        .unconsumed(client.application?.id)
        .then((listed) => credits.receiveAll(listed))
        .catch((error) => logger.warn('entitlements_list_failed', { error }));
  }
  const endpoint =
    parts.callbacks && config.INTERACTIONS_PORT !== undefined && config.DISCORD_PUBLIC_KEY
      ? await InteractionsEndpoint.start({
          port: config.INTERACTIONS_PORT,
          publicKey: config.DISCORD_PUBLIC_KEY,
          callbacks: parts.callbacks,
          handle: rawInteractionHandler(client),
          logger,
        })
      : undefined;
  return { intake, queuedJobs, endpoint };
}
