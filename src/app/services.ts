import { type APIGuildMember, Routes } from 'discord.js';
import type { Config } from '../config.ts';
import type { Catalogue } from '../services/catalogue/catalogue.ts';
import { modelIds } from '../services/catalogue/catalogue-offer.ts';
import { ModelProviders, shapeSettingsOf } from '../services/catalogue/model-providers.ts';
import { QuotaAdmission } from '../services/jobs/job-admission.ts';
import type { JobSurface, SurfaceLocation } from '../services/jobs/job-ports.ts';
import { JobRecords } from '../services/jobs/job-records.ts';
import { ProcessLease } from '../services/jobs/process-lease.ts';
import { TokenSeal } from '../services/jobs/token-seal.ts';
import type { Logger } from '../services/logging/logger.ts';
import { DiscordMessages } from '../services/progress-message/discord-messages.ts';
import { surfaceAt } from '../services/progress-message/surfaces.ts';
import { parseCreditSkus } from '../services/quotas/credit-skus.ts';
import { Credits } from '../services/quotas/credits.ts';
import { QuotaCharges } from '../services/quotas/quota-charges.ts';
import { quotaDefaultsFromConfig } from '../services/quotas/quota-rules.ts';
import { QuotaService } from '../services/quotas/quota-service.ts';
import { ModerationLog } from '../services/safety/moderation-log.ts';
import { SafetyPolicy } from '../services/safety/safety-policy.ts';
import { SafetySettings } from '../services/safety/safety-settings.ts';
import { VideoSettings } from '../services/settings/video-settings.ts';
import { createStore } from '../services/store/create-store.ts';
import type { DiscordConnection } from './discord-rest.ts';
import { DiscordEntitlements } from './entitlements.ts';

interface ServiceParts {
  catalogue: Catalogue;
  /** Where each provider's key is read (by its `api_key_env`). */
  env: NodeJS.ProcessEnv;
  /** BLOCKED_WORDS_FILE, read before anything connects. */
  operatorWords: readonly string[];
  processId: string;
  logger: Logger;
  discord: Pick<DiscordConnection, 'rest' | 'uploads'>;
}

/** The state every role shares: the store and what is kept in it, quotas, credits, safety, providers. */
export async function createServices(
  config: Config,
  { catalogue, env, operatorWords, processId, logger, discord }: ServiceParts,
) {
  const { rest, uploads } = discord;
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
  const entitlements = new DiscordEntitlements(rest);
  const credits = new Credits({
    balances: store.collection('credits'),
    skus: parseCreditSkus(config.CREDIT_SKUS),
    consume: (entitlementId) => entitlements.consume(entitlementId),
    logger,
  });
  const charges = new QuotaCharges({ quotas, logger, credits });
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
  const surfaceFor = (location: SurfaceLocation): JobSurface =>
    surfaceAt(location, { messages, logger, style: config.MESSAGE_STYLE });
  const providers = new ModelProviders({ catalogue, env, settings: shapeSettingsOf(config), logger });
  return {
    store,
    records,
    lease,
    quotas,
    settings,
    safety,
    moderationLog,
    entitlements,
    credits,
    charges,
    admission,
    messages,
    surfaceFor,
    providers,
  };
}

export type Services = Awaited<ReturnType<typeof createServices>>;
