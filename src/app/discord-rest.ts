import {
  Client,
  DefaultRestOptions,
  GatewayIntentBits,
  Options,
  Partials,
  REST,
  RESTEvents,
  type RESTOptions,
} from 'discord.js';
import type { Config } from '../config.ts';
import type { BotMetrics } from '../services/cluster/metrics.ts';
import { ClusterRateLimit } from '../services/cluster/rest-rate-limit.ts';
import { connectsGateway, runsFrontDoors } from '../services/cluster/roles.ts';
import { InteractionCallbacks } from '../services/interactions-endpoint/interaction-callbacks.ts';
import type { Logger } from '../services/logging/logger.ts';
import { discordRestAgent } from '../services/progress-message/discord-rest-agent.ts';

/** How often discord.js REST drops idle per-route handlers (one per interaction token). */
const REST_HANDLER_SWEEP_MS = 60_000;

export interface DiscordConnection {
  /** The gateway client; absent on a worker, which talks to Discord over REST only. */
  client?: Client;
  rest: REST;
  /** REST for video uploads: its own timeout (VIDEO_UPLOAD_TIMEOUT_MS), no retries. */
  uploads: REST;
  /** With INTERACTIONS_PORT, the first answer to an interaction that came over HTTP is its response. */
  callbacks?: InteractionCallbacks;
  /** The REST window shared across the cluster (REDIS_URL). */
  restLimit?: ClusterRateLimit;
}

interface DiscordParts {
  logger: Logger;
  metrics?: BotMetrics;
  onClusterError: (error: unknown) => void;
}

/** Discord REST, bounded across the cluster, and the client for a process that runs front doors. */
export function connectDiscord(
  config: Config,
  { logger, metrics, onClusterError }: DiscordParts,
): DiscordConnection {
  const role = config.BOT_ROLE;
  const restLimit = config.REDIS_URL
    ? new ClusterRateLimit({
        redisUrl: config.REDIS_URL,
        requestsPerSecond: config.DISCORD_REQUESTS_PER_SECOND,
        timeoutMs: config.STORE_TIMEOUT_MS,
        onError: onClusterError,
      })
    : undefined;
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
  return { client, rest, uploads, callbacks, restLimit };
}

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
