import { z } from 'zod';
import { BOT_ROLES } from './services/cluster/roles.ts';
import { MESSAGE_STYLES } from './services/progress-message/message-style.ts';
import { parseCreditSkus } from './services/quotas/credit-skus.ts';
import { SETTINGS_SHAPE_NAMES } from './services/video-service/service-shapes.ts';

/**
 * Every setting the bot reads, validated once at start. A bad value stops the bot with one line
 * per problem; values are never echoed, so a mistyped token cannot leak into a log.
 */

const flag = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
    .default(fallback ? 'true' : 'false')
    .transform((value) => value === 'true' || value === '1' || value === 'yes');

/** Node fires a timer longer than this at once (and warns), so no wait may exceed it. */
export const MAX_TIMER_MS = 2 ** 31 - 1;
/** A bound for counts nobody means to exceed; it catches a stray digit before it allocates or spins. */
const MAX_COUNT = 1_000_000;

const whole = (fallback: number, min = 0, max = MAX_COUNT) =>
  z.coerce
    .number({ message: 'must be a number' })
    .int({ message: 'must be a whole number' })
    .min(min, { message: `must be at least ${min}` })
    .max(max, { message: `must be at most ${max}` })
    .default(fallback);

/** A wait in milliseconds: a whole number a Node timer can hold. */
const duration = (fallback: number, min = 0) => whole(fallback, min, MAX_TIMER_MS);

const httpUrl = z
  .string()
  .refine((value) => URL.canParse(value) && /^https?:\/\//.test(value), {
    message: 'must be an http(s) URL such as https://example.com/v1',
  })
  .transform((value) => value.replace(/\/+$/, ''));

const commaList = z
  .string()
  .default('')
  .transform((value) =>
    value
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean),
  );

const snowflake = z.string().regex(/^\d{17,20}$/, { message: 'must be a Discord id (17 to 20 digits)' });

const schema = z.object({
  DISCORD_TOKEN: z.string({ message: 'is required' }).min(1, { message: 'is required' }),
  DISCORD_API_URL: httpUrl.optional(),
  DISCORD_GUILD_ID: snowflake.optional(),
  SHARD_COUNT: whole(1, 1, 100_000).optional(),
  SHARD_IDS: commaList
    .pipe(z.array(z.string().regex(/^\d+$/, { message: 'must be a comma list of shard numbers' })))
    .transform((ids) => ids.map(Number))
    .refine((ids) => new Set(ids).size === ids.length, { message: 'must not name a shard twice' }),
  DISCORD_REQUESTS_PER_SECOND: whole(50, 1, 10_000),
  // Discord's Interactions Endpoint URL is served on this port (POST /interactions) when set.
  INTERACTIONS_PORT: z.coerce
    .number({ message: 'must be a number' })
    .int({ message: 'must be a whole number' })
    .min(1, { message: 'must be at least 1' })
    .max(65_535, { message: 'must be at most 65535' })
    .optional(),
  DISCORD_PUBLIC_KEY: z
    .string()
    .regex(/^[0-9a-fA-F]{64}$/, { message: 'must be the 64 hex characters of the Developer Portal' })
    .optional(),

  BOT_ROLE: z.enum(BOT_ROLES, { message: 'must be all, gateway, worker or interactions' }).default('all'),
  WORKER_CONCURRENCY: whole(10, 1, 1_000),
  METRICS_PORT: z.coerce
    .number({ message: 'must be a number' })
    .int({ message: 'must be a whole number' })
    .min(1, { message: 'must be at least 1' })
    .max(65_535, { message: 'must be at most 65535' })
    .optional(),
  // Loopback unless the operator opens it: /metrics tells anyone who asks how busy the bot is.
  METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  METRICS_TOKEN: z.string().min(16, { message: 'must be at least 16 characters' }).optional(),

  // Required unless MODELS_FILE names the keys (checked with the other combinations).
  SORA_API_KEY: z.string().min(1).optional(),
  SORA_API_URL: httpUrl.default('https://gptproto.com/v1'),
  SORA_MODEL: z.string().min(1).default('sora-2'),
  SORA_MODELS: commaList,
  SORA_API_FORMAT: z.enum(SETTINGS_SHAPE_NAMES, { message: 'must be chat or videos' }).default('chat'),
  // The floor keeps a mistyped value from hammering the relay; the integration tests poll every 50 ms.
  SORA_POLL_INTERVAL_MS: duration(5_000, 50),
  SORA_IMAGE_INPUT: z.enum(['bytes', 'url'], { message: 'must be bytes or url' }).default('bytes'),
  /** The models catalogue (YAML or JSON); without it, one provider from the SORA_* settings. */
  MODELS_FILE: z.string().min(1).optional(),

  DATA_DIR: z.string().min(1).default('./data'),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, { message: 'must start with redis:// or rediss://' })
    .optional(),

  STORE_TIMEOUT_MS: duration(2_000, 100),
  PROCESS_LEASE_MS: duration(20_000, 1_000),

  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),

  PROGRESS_EDIT_INTERVAL_MS: duration(5_000, 250),
  SERVICE_STALL_TIMEOUT_MS: duration(180_000, 1_000),
  SERVICE_TIMEOUT_MS: duration(30 * 60_000, 1_000),
  SERVICE_RETRIES: whole(2, 0, 10),
  SERVICE_RETRY_DELAY_MS: duration(2_000, 0),
  VIDEO_DOWNLOAD_TIMEOUT_MS: duration(120_000, 1_000),
  VIDEO_UPLOAD_TIMEOUT_MS: duration(120_000, 1_000),
  MAX_PROMPT_LENGTH: whole(1_500, 10, 100_000),
  MAX_IMAGE_BYTES: whole(20 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
  ALLOW_PRIVATE_VIDEO_URLS: flag(false),
  MAX_CONCURRENT_JOBS: whole(10, 1, 10_000),
  MAX_CONCURRENT_DELIVERIES: whole(16, 1, 10_000),
  MAX_DELIVERY_BYTES_IN_FLIGHT: whole(320 * 1024 * 1024, 1024 * 1024, 64 * 1024 ** 3),
  SHUTDOWN_GRACE_MS: duration(30_000, 0),
  INTERACTION_TOKEN_LIFETIME_MS: duration(15 * 60_000, 10_000),

  ALLOW_DMS: flag(false),
  // A server's safety policy, forced by the operator: every server as if it had it on.
  AGE_RESTRICTED_ONLY: flag(false),
  BLOCKED_WORDS_FILE: z.string().min(1).optional(),
  MESSAGE_CONTENT_INTENT: flag(true),
  // How a job's message looks: a Components V2 card with the video playing in it, or today's text.
  MESSAGE_STYLE: z.enum(MESSAGE_STYLES, { message: 'must be cards or text' }).default('cards'),

  OWNER_IDS: commaList.pipe(z.array(snowflake)),
  DEFAULT_MEMBER_LIMIT: whole(0),
  // A member's own allowance outside servers (DMs, their own install); unset: DEFAULT_MEMBER_LIMIT.
  DEFAULT_USER_LIMIT: whole(0).optional(),
  DEFAULT_PERIOD: z.enum(['day', 'week', 'month'], { message: 'must be day, week or month' }).default('day'),
  DEFAULT_SERVER_LIMIT: whole(0),
  DEFAULT_MAX_RUNNING_PER_MEMBER: whole(1, 0),
  DEFAULT_COOLDOWN_SECONDS: whole(0, 0, Math.floor(MAX_TIMER_MS / 1000)),
  DEFAULT_LIMIT_UNIT: z
    .enum(['videos', 'seconds', 'spend'], { message: 'must be videos, seconds or spend' })
    .default('videos'),
  SHOW_PRICES: flag(true),
  /** Consumable SKUs and what each grants: `123=60s,456=5.00` (see services/quotas/credits.ts). */
  CREDIT_SKUS: z
    .string()
    .default('')
    .superRefine((text, context) => {
      try {
        parseCreditSkus(text);
      } catch (error) {
        context.addIssue({ code: 'custom', message: (error as Error).message });
      }
    }),
});

export type Config = z.infer<typeof schema>;

/** Every setting's name, for the check that .env.example documents each one. */
export const SETTING_NAMES = Object.keys(schema.shape) as Array<keyof Config>;

/** Settings that only make sense together; checked after each value on its own. */
function checkCombinations(config: Config): string[] {
  const problems: string[] = [];
  if (config.BOT_ROLE !== 'all' && !config.REDIS_URL) {
    problems.push(
      `BOT_ROLE=${config.BOT_ROLE} needs REDIS_URL: front doors and workers share their queue there`,
    );
  }
  if (config.INTERACTIONS_PORT !== undefined && !config.DISCORD_PUBLIC_KEY) {
    problems.push(
      'INTERACTIONS_PORT needs DISCORD_PUBLIC_KEY: every request Discord sends is verified with it',
    );
  }
  if (config.BOT_ROLE === 'interactions' && config.INTERACTIONS_PORT === undefined) {
    problems.push('BOT_ROLE=interactions needs INTERACTIONS_PORT: it has no gateway, Discord POSTs to it');
  }
  if (config.SHARD_COUNT !== undefined && config.SHARD_IDS.some((id) => id >= (config.SHARD_COUNT ?? 0))) {
    problems.push('SHARD_IDS must each be below SHARD_COUNT (the total number of shards, 1 when unset)');
  }
  return problems;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid settings:\n${problems.map((line) => `  - ${line}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Reads settings from an environment (process.env by default). Empty strings count as unset. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const config = parseWith(schema, env, serviceKeyProblems(env));
  const problems = checkCombinations(config);
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** Registering commands talks to Discord only, so it needs no video service key. */
export type RegistrationConfig = Omit<Config, 'SORA_API_KEY'>;
export function loadRegistrationConfig(env: NodeJS.ProcessEnv = process.env): RegistrationConfig {
  return parseWith(schema.omit({ SORA_API_KEY: true }), env);
}

/** The command-line video tool talks to the video service only. */
export type ServiceConfig = Pick<
  Config,
  | 'SORA_API_KEY'
  | 'SORA_API_URL'
  | 'SORA_MODEL'
  | 'SORA_MODELS'
  | 'MODELS_FILE'
  | 'SORA_API_FORMAT'
  | 'SORA_POLL_INTERVAL_MS'
  | 'SORA_IMAGE_INPUT'
  | 'SERVICE_STALL_TIMEOUT_MS'
  | 'SERVICE_TIMEOUT_MS'
  | 'MAX_IMAGE_BYTES'
  | 'ALLOW_PRIVATE_VIDEO_URLS'
  | 'VIDEO_DOWNLOAD_TIMEOUT_MS'
>;
export function loadServiceConfig(env: NodeJS.ProcessEnv = process.env): ServiceConfig {
  const service = schema.pick({
    SORA_API_KEY: true,
    SORA_API_URL: true,
    SORA_MODEL: true,
    SORA_MODELS: true,
    MODELS_FILE: true,
    SORA_API_FORMAT: true,
    SORA_POLL_INTERVAL_MS: true,
    SORA_IMAGE_INPUT: true,
    SERVICE_STALL_TIMEOUT_MS: true,
    SERVICE_TIMEOUT_MS: true,
    MAX_IMAGE_BYTES: true,
    ALLOW_PRIVATE_VIDEO_URLS: true,
    VIDEO_DOWNLOAD_TIMEOUT_MS: true,
  });
  return parseWith(service, env, serviceKeyProblems(env));
}

/** SORA_API_KEY is the key of a set-up without MODELS_FILE; a catalogue names its own keys. */
function serviceKeyProblems(env: NodeJS.ProcessEnv): string[] {
  const set = (name: string) => Boolean(env[name]?.trim());
  return set('MODELS_FILE') || set('SORA_API_KEY') ? [] : ['SORA_API_KEY is required'];
}

/** `more`: problems found outside the schema, reported with its own. */
function parseWith<T extends z.ZodType>(
  settings: T,
  env: NodeJS.ProcessEnv,
  more: string[] = [],
): z.infer<T> {
  const present = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value.trim() !== ''),
  );
  const parsed = settings.safeParse(present);
  if (parsed.success && more.length === 0) return parsed.data;
  const issues = parsed.success ? [] : parsed.error.issues;
  const lines = [...issues.map((issue) => `${issue.path[0]?.toString()} ${issue.message}`), ...more];
  // In the order the settings are listed (and documented), whichever check found them.
  const place = (line: string) => SETTING_NAMES.indexOf(line.split(' ')[0] as keyof Config);
  throw new ConfigError(lines.sort((a, b) => place(a) - place(b)));
}

/** The models a member may pick: the default first, then the extra ones, without repeats. */
export function offeredModels(config: Pick<Config, 'SORA_MODEL' | 'SORA_MODELS'>): string[] {
  return [...new Set([config.SORA_MODEL, ...config.SORA_MODELS])];
}
