import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, offeredModels } from '../src/config.ts';

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
