import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config.ts';
import { loadCatalogue, parseCatalogue } from '../../../src/services/catalogue/load-catalogue.ts';

const GATEWAY_KEY = 'sk-gateway-SECRET-0123456789';
const FAL_KEY = 'fal-SECRET-abcdef0123456789';
const ENV = { GATEWAY_KEY, FAL_KEY };

const GOOD = `
default: veo-fast
currency: EUR
providers:
  gateway: { shape: openai-videos, base_url: "https://gateway.example/v1/", api_key_env: GATEWAY_KEY }
  fal: { shape: fal-queue, base_url: https://queue.fal.run, api_key_env: FAL_KEY }
models:
  - id: veo-fast
    label: Veo 3.1 Fast
    provider: gateway
    model: veo-3.1-fast
    durations: [8, 4, 6]
    aspect_ratios: ["16:9", "9:16"]
    image_input: true
    price_per_second: 0.15
    fallback: [kling-3]
  - id: kling-3
    provider: fal
    model: fal-ai/kling-video/v3/standard/text-to-video
    image_model: fal-ai/kling-video/v3/standard/image-to-video
    input: { image: start_image_url }
    durations: [5, 10]
    aspect_ratios: ["16:9", "9:16", "1:1"]
    image_input: true
`;

/** The problems a catalogue is refused with, one line each. */
function problemsOf(text: string, env: NodeJS.ProcessEnv = ENV): string[] {
  try {
    parseCatalogue(text, env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('the catalogue was accepted');
}

describe('the models catalogue', () => {
  it('reads providers and models with their own options', () => {
    const catalogue = parseCatalogue(GOOD, ENV);

    expect(catalogue.defaultModel).toBe('veo-fast');
    expect(catalogue.currency).toBe('EUR');
    expect(catalogue.providers.get('gateway')).toEqual({
      name: 'gateway',
      shape: 'openai-videos',
      baseUrl: 'https://gateway.example/v1',
      apiKeyEnv: 'GATEWAY_KEY',
    });
    expect(catalogue.models.map((model) => model.id)).toEqual(['veo-fast', 'kling-3']);
    expect(catalogue.models[0]).toMatchObject({
      label: 'Veo 3.1 Fast',
      model: 'veo-3.1-fast',
      durations: [4, 6, 8],
      aspectRatios: ['16:9', '9:16'],
      imageInput: true,
      pricePerSecond: 0.15,
      fallback: ['kling-3'],
    });
    expect(catalogue.models[1]).toMatchObject({
      label: 'kling-3',
      imageModel: 'fal-ai/kling-video/v3/standard/image-to-video',
      input: { image: 'start_image_url' },
      fallback: [],
    });
    // Keys stay in the environment: nothing in the catalogue holds one.
    expect(JSON.stringify([...catalogue.providers.values(), ...catalogue.models])).not.toContain('SECRET');
  });

  it('accepts the same catalogue written as JSON', () => {
    const json = JSON.stringify({
      providers: {
        relay: { shape: 'chat-relay', base_url: 'https://relay.example/v1', api_key_env: 'FAL_KEY' },
      },
      models: [
        { id: 'sora-2', provider: 'relay', model: 'sora-2', durations: [5, 10], aspect_ratios: ['16:9'] },
      ],
    });
    const catalogue = parseCatalogue(json, ENV);

    expect(catalogue.defaultModel).toBe('sora-2');
    expect(catalogue.currency).toBe('USD');
    expect(catalogue.models[0]).toMatchObject({ imageInput: false, label: 'sora-2' });
  });

  it.each([
    [
      'an unknown shape',
      GOOD.replace('shape: fal-queue', 'shape: fal'),
      /^MODELS_FILE provider "fal" shape: must be one of /,
    ],
    [
      'a base_url that is no URL',
      GOOD.replace('https://queue.fal.run', 'queue.fal.run'),
      /^MODELS_FILE provider "fal" base_url: must be an http\(s\) URL/,
    ],
    [
      'a variant on another shape',
      GOOD.replace('shape: fal-queue,', 'shape: fal-queue, variant: openrouter,'),
      /^MODELS_FILE provider "fal" variant: only an openai-videos provider has a variant$/,
    ],
    [
      'an id with capitals',
      GOOD.replace('id: kling-3', 'id: Kling 3'),
      /^MODELS_FILE models\[1\] id: must be lowercase letters/,
    ],
    [
      'two models with one id',
      GOOD.replace('id: kling-3', 'id: veo-fast').replace('fallback: [kling-3]', ''),
      /^MODELS_FILE model "veo-fast" id: used by more than one model$/,
    ],
    [
      'a provider not under providers',
      GOOD.replace('provider: fal\n', 'provider: replicate\n'),
      /^MODELS_FILE model "kling-3" provider: "replicate" is not under providers$/,
    ],
    [
      'a fallback that is no model',
      GOOD.replace('fallback: [kling-3]', 'fallback: [wan-2]'),
      /^MODELS_FILE model "veo-fast" fallback: "wan-2" is not a model id of this catalogue$/,
    ],
    [
      'a model falling back to itself',
      GOOD.replace('fallback: [kling-3]', 'fallback: [veo-fast]'),
      /^MODELS_FILE model "veo-fast" fallback: a model cannot fall back to itself$/,
    ],
    [
      'a default that is no model',
      GOOD.replace('default: veo-fast', 'default: sora-2'),
      /^MODELS_FILE default: "sora-2" is not a model id of this catalogue$/,
    ],
    [
      'a length that is not whole seconds',
      GOOD.replace('durations: [5, 10]', 'durations: [5, 7.5]'),
      /^MODELS_FILE model "kling-3" durations\[1\]: must be whole seconds$/,
    ],
    [
      'an aspect ratio not offered',
      GOOD.replace('"1:1"]', '"4:3"]'),
      /^MODELS_FILE model "kling-3" aspect_ratios\[2\]: must each be one of 16:9, 9:16, 1:1$/,
    ],
    [
      'a field the format does not have',
      GOOD.replace('    image_input: true\n    price', '    image_input: true\n    colour: red\n    price'),
      /^MODELS_FILE model "veo-fast".*colour/,
    ],
    ['no models', 'providers: {}\nmodels: []\n', /^MODELS_FILE models: must list at least one model$/],
  ])('refuses %s with one line naming it', (_what, text, line) => {
    const problems = problemsOf(text);

    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(line);
  });

  it('names each unset key variable, never a key', () => {
    const problems = problemsOf(GOOD, { FAL_KEY: '   ' });

    expect(problems).toEqual([
      'MODELS_FILE provider "gateway" api_key_env: the environment variable GATEWAY_KEY is not set',
      'MODELS_FILE provider "fal" api_key_env: the environment variable FAL_KEY is not set',
    ]);
  });

  it('lists every problem at once, and repeats no value of the file', () => {
    const pasted = GOOD.replace('api_key_env: FAL_KEY', `api_key_env: "${FAL_KEY}"`)
      .replace('base_url: https://queue.fal.run', `base_url: "${GATEWAY_KEY}"`)
      .replace('model: veo-3.1-fast', `model: 42`);
    let error: unknown;
    try {
      parseCatalogue(pasted, ENV);
    } catch (caught) {
      error = caught;
    }

    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toHaveLength(3);
    expect((error as Error).message).not.toContain('SECRET');
  });

  it('says where a file is not YAML', () => {
    expect(problemsOf('providers: {\nmodels: [')[0]).toMatch(/^MODELS_FILE is not valid YAML at line \d+/);
  });
});

describe('loading it at start', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'sora-bot-catalogue-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("without MODELS_FILE, builds today's one-provider catalogue from the SORA_* settings", () => {
    const config = loadConfig({ DISCORD_TOKEN: 't', SORA_API_KEY: 'k', SORA_MODELS: 'sora-2-pro' });
    const catalogue = loadCatalogue(config, {});

    expect(catalogue.defaultModel).toBe('sora-2');
    expect(catalogue.models.map((model) => model.id)).toEqual(['sora-2', 'sora-2-pro']);
    expect([...catalogue.providers.values()][0]).toMatchObject({
      shape: 'chat-relay',
      apiKeyEnv: 'SORA_API_KEY',
    });
  });

  it('with MODELS_FILE, needs no SORA_API_KEY and reads the file', async () => {
    const file = path.join(dir, 'models.yaml');
    await writeFile(file, GOOD);
    const config = loadConfig({ DISCORD_TOKEN: 't', MODELS_FILE: file });

    expect(loadCatalogue(config, ENV).models).toHaveLength(2);
  });

  it('says which file could not be read', () => {
    const config = loadConfig({ DISCORD_TOKEN: 't', MODELS_FILE: path.join(dir, 'missing.yaml') });

    expect(() => loadCatalogue(config, ENV)).toThrow(/MODELS_FILE could not be read \(ENOENT\)/);
  });
});

describe('models.example.yaml', () => {
  it('loads as written, with the key variables it names set', () => {
    const file = new URL('../../../models.example.yaml', import.meta.url).pathname;
    const keys = {
      GATEWAY_KEY: 'k1',
      OPENROUTER_KEY: 'k2',
      FAL_KEY: 'k3',
      REPLICATE_API_TOKEN: 'k4',
      GEMINI_API_KEY: 'k5',
      SORA_API_KEY: 'k6',
    };
    const config = loadConfig({ DISCORD_TOKEN: 't', MODELS_FILE: file });
    const catalogue = loadCatalogue(config, keys);

    const shapes = new Set([...catalogue.providers.values()].map((provider) => provider.shape));
    expect([...shapes].sort()).toEqual(['chat-relay', 'fal-queue', 'gemini', 'openai-videos', 'replicate']);
    expect([...catalogue.providers.values()].some((provider) => provider.variant === 'openrouter')).toBe(
      true,
    );
    for (const provider of catalogue.providers.values()) {
      expect(catalogue.models.some((model) => model.provider === provider.name)).toBe(true);
    }
  });
});
