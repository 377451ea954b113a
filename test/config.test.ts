import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, offeredModels, SETTING_NAMES } from '../src/config.ts';

describe('settings', () => {
  it('fills in defaults when only the two secrets are given', () => {
    const config = loadConfig({ DISCORD_TOKEN: 'token-value', SORA_API_KEY: 'key-value' });
    expect(config.SORA_API_URL).toBe('https://gptproto.com/v1');
    expect(config.SORA_MODEL).toBe('sora-2');
    expect(config.DATA_DIR).toBe('./data');
  });

  it('names every problem on its own line and never echoes a value', () => {
    const secretLooking = 'sk-this-should-never-be-printed';
    let error: unknown;
    try {
      loadConfig({ SORA_API_URL: secretLooking, MAX_CONCURRENT_JOBS: 'many' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toEqual(
      expect.arrayContaining([
        'DISCORD_TOKEN is required',
        'SORA_API_KEY is required',
        expect.stringMatching(/^SORA_API_URL /),
        expect.stringMatching(/^MAX_CONCURRENT_JOBS /),
      ]),
    );
    expect((error as Error).message).not.toContain(secretLooking);
  });

  it('trims a trailing slash from the service URL and offers the default model first', () => {
    const config = loadConfig({
      DISCORD_TOKEN: 't-1234',
      SORA_API_KEY: 'k-1234',
      SORA_API_URL: 'http://127.0.0.1:9/v1/',
      SORA_MODELS: 'sora-2-pro, sora-2',
    });
    expect(config.SORA_API_URL).toBe('http://127.0.0.1:9/v1');
    expect(offeredModels(config)).toEqual(['sora-2', 'sora-2-pro']);
  });
});

describe('roles and the settings they need', () => {
  const secrets = { DISCORD_TOKEN: 'token-value', SORA_API_KEY: 'key-value' };

  it('runs the whole bot in one process unless told otherwise', () => {
    const config = loadConfig(secrets);
    expect(config.BOT_ROLE).toBe('all');
    expect(config.METRICS_PORT).toBeUndefined();
    expect(config.DISCORD_REQUESTS_PER_SECOND).toBe(50);
  });

  it.each(['gateway', 'worker'])('refuses BOT_ROLE=%s without REDIS_URL, saying why', (role) => {
    expect(() => loadConfig({ ...secrets, BOT_ROLE: role })).toThrow(/BOT_ROLE=\w+ needs REDIS_URL/);
    expect(loadConfig({ ...secrets, BOT_ROLE: role, REDIS_URL: 'redis://127.0.0.1:6379' }).BOT_ROLE).toBe(
      role,
    );
  });

  it('refuses an unknown role and a shard beyond the count', () => {
    expect(() => loadConfig({ ...secrets, BOT_ROLE: 'leader' })).toThrow(
      /BOT_ROLE must be all, gateway, worker or interactions/,
    );
    expect(() => loadConfig({ ...secrets, SHARD_COUNT: '2', SHARD_IDS: '0,2' })).toThrow(/below SHARD_COUNT/);
    expect(() => loadConfig({ ...secrets, SHARD_IDS: '1' })).toThrow(/below SHARD_COUNT/);
    expect(loadConfig({ ...secrets, SHARD_COUNT: '2', SHARD_IDS: '1' }).SHARD_IDS).toEqual([1]);
  });

  it('serves interactions over HTTP only with the public key to verify them; an interactions role needs the port', () => {
    const key = 'a'.repeat(64);
    expect(() => loadConfig({ ...secrets, INTERACTIONS_PORT: '8080' })).toThrow(/needs DISCORD_PUBLIC_KEY/);
    expect(() => loadConfig({ ...secrets, DISCORD_PUBLIC_KEY: 'not-hex' })).toThrow(
      /DISCORD_PUBLIC_KEY must be/,
    );
    expect(
      loadConfig({ ...secrets, INTERACTIONS_PORT: '8080', DISCORD_PUBLIC_KEY: key }).INTERACTIONS_PORT,
    ).toBe(8080);
    const redis = { REDIS_URL: 'redis://127.0.0.1:6379' };
    expect(() => loadConfig({ ...secrets, ...redis, BOT_ROLE: 'interactions' })).toThrow(
      /BOT_ROLE=interactions needs INTERACTIONS_PORT/,
    );
    expect(() =>
      loadConfig({
        ...secrets,
        BOT_ROLE: 'interactions',
        INTERACTIONS_PORT: '8080',
        DISCORD_PUBLIC_KEY: key,
      }),
    ).toThrow(/needs REDIS_URL/);
  });

  it('takes a metrics port between 1 and 65535', () => {
    expect(loadConfig({ ...secrets, METRICS_PORT: '9464' }).METRICS_PORT).toBe(9464);
    expect(() => loadConfig({ ...secrets, METRICS_PORT: '70000' })).toThrow(/METRICS_PORT/);
  });
});

describe('bounds on every duration and count', () => {
  const secrets = { DISCORD_TOKEN: 'token-value', SORA_API_KEY: 'key-value' };
  const tooLongForATimer = String(2 ** 31);

  // Node fires a timer above 2^31-1 ms at once: a lease or timeout meant as "very long" would end at once.
  it.each([
    'STORE_TIMEOUT_MS',
    'PROCESS_LEASE_MS',
    'PROGRESS_EDIT_INTERVAL_MS',
    'SERVICE_STALL_TIMEOUT_MS',
    'SERVICE_TIMEOUT_MS',
    'SERVICE_RETRY_DELAY_MS',
    'VIDEO_DOWNLOAD_TIMEOUT_MS',
    'VIDEO_UPLOAD_TIMEOUT_MS',
    'SHUTDOWN_GRACE_MS',
    'INTERACTION_TOKEN_LIFETIME_MS',
    'SORA_POLL_INTERVAL_MS',
  ])('refuses %s longer than a Node timer can wait, and takes the longest one', (name) => {
    expect(() => loadConfig({ ...secrets, [name]: tooLongForATimer })).toThrow(
      new RegExp(`${name} must be at most 2147483647`),
    );
    expect(loadConfig({ ...secrets, [name]: String(2 ** 31 - 1) })[name as 'SERVICE_TIMEOUT_MS']).toBe(
      2 ** 31 - 1,
    );
  });

  it.each([
    ['WORKER_CONCURRENCY', '1000000000'],
    ['MAX_CONCURRENT_JOBS', '1000000000'],
    ['MAX_CONCURRENT_DELIVERIES', '1000000000'],
    ['SERVICE_RETRIES', '1000'],
    ['SHARD_COUNT', '1000000000'],
    ['DISCORD_REQUESTS_PER_SECOND', '1000000000'],
    ['MAX_PROMPT_LENGTH', '1000000000'],
    ['MAX_IMAGE_BYTES', String(2 ** 40)],
    ['MAX_DELIVERY_BYTES_IN_FLIGHT', String(2 ** 60)],
    ['DEFAULT_MEMBER_LIMIT', '1e12'],
    ['DEFAULT_COOLDOWN_SECONDS', String(2 ** 31)],
  ])('refuses an absurd %s', (name, value) => {
    expect(() => loadConfig({ ...secrets, [name]: value })).toThrow(new RegExp(`${name} must be at most`));
  });

  it('polls no more often than every 50 ms', () => {
    expect(() => loadConfig({ ...secrets, SORA_POLL_INTERVAL_MS: '10' })).toThrow(
      /SORA_POLL_INTERVAL_MS must be at least 50/,
    );
  });

  it('refuses a shard named twice in SHARD_IDS', () => {
    expect(() => loadConfig({ ...secrets, SHARD_COUNT: '4', SHARD_IDS: '1,2,1' })).toThrow(
      /SHARD_IDS must not name a shard twice/,
    );
    expect(loadConfig({ ...secrets, SHARD_COUNT: '4', SHARD_IDS: '1,2' }).SHARD_IDS).toEqual([1, 2]);
  });

  it('listens for metrics on loopback unless told otherwise, and wants a real token', () => {
    expect(loadConfig(secrets).METRICS_HOST).toBe('127.0.0.1');
    expect(loadConfig({ ...secrets, METRICS_HOST: '0.0.0.0' }).METRICS_HOST).toBe('0.0.0.0');
    expect(() => loadConfig({ ...secrets, METRICS_TOKEN: 'short' })).toThrow(
      /METRICS_TOKEN must be at least 16/,
    );
  });
});

describe('.env.example', () => {
  it('documents every setting the bot reads', () => {
    const example = readFileSync(new URL('../.env.example', import.meta.url), 'utf8');
    const documented = new Set([...example.matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((match) => match[1]));
    expect(SETTING_NAMES.filter((name) => !documented.has(name))).toEqual([]);
  });
});
