import type { APIApplicationCommandOption } from 'discord.js';
import { describe, expect, it } from 'vitest';
import { type CommandDeps, commandDefinitions, commandHandlers } from '../../src/commands/definitions.ts';
import { loadRegistrationConfig } from '../../src/config.ts';
import type { Catalogue, CatalogueModel } from '../../src/services/catalogue/catalogue.ts';

/** What `npm run register` sends: the choices of /video and /video-settings follow the catalogue. */

const config = loadRegistrationConfig({ DISCORD_TOKEN: 'x', SORA_MODELS: 'sora-2,sora-2-pro' });

const model = (id: string, overrides: Partial<CatalogueModel> = {}): CatalogueModel => ({
  id,
  label: id,
  provider: 'p',
  model: id,
  input: {},
  durations: [5, 10],
  aspectRatios: ['16:9'],
  imageInput: true,
  fallback: [],
  ...overrides,
});

const catalogue = (models: CatalogueModel[], defaultModel = models[0]?.id ?? ''): Catalogue => ({
  defaultModel,
  currency: 'USD',
  providers: new Map(),
  models,
});

type Option = APIApplicationCommandOption & {
  choices?: { name: string; value: string | number }[];
  options?: Option[];
};

function optionsOf(definitions: ReturnType<typeof commandDefinitions>, command: string): Option[] {
  const found = definitions.find((definition) => definition.name === command);
  return ((found as { options?: Option[] } | undefined)?.options ?? []) as Option[];
}

const choicesOf = (options: Option[], name: string) =>
  options.find((option) => option.name === name)?.choices?.map((choice) => [choice.name, choice.value]);

function settingsChoices(definitions: ReturnType<typeof commandDefinitions>, subcommand: string) {
  const sub = optionsOf(definitions, 'video-settings').find((option) => option.name === subcommand);
  return sub?.options?.[0]?.choices?.map((choice) => [choice.name, choice.value]);
}

describe('registration from the catalogue', () => {
  it("without MODELS_FILE: today's models, lengths and the two frames; aspect_ratio in place of orientation", () => {
    const definitions = commandDefinitions(config);
    const video = optionsOf(definitions, 'video');
    expect(video.map((option) => option.name)).toEqual([
      'prompt',
      'image',
      'duration',
      'aspect_ratio',
      'model',
    ]);
    expect(choicesOf(video, 'duration')).toEqual([
      ['5 seconds', 5],
      ['10 seconds', 10],
      ['15 seconds', 15],
    ]);
    expect(choicesOf(video, 'aspect_ratio')).toEqual([
      ['Landscape 16:9', '16:9'],
      ['Portrait 9:16', '9:16'],
    ]);
    const portrait = video
      .find((option) => option.name === 'aspect_ratio')
      ?.choices?.find((choice) => choice.value === '9:16') as { name_localizations?: Record<string, string> };
    expect(portrait.name_localizations?.de).toBe('Hochformat 9:16');
    expect(choicesOf(video, 'model')).toEqual([
      ['sora-2', 'sora-2'],
      ['sora-2-pro', 'sora-2-pro'],
    ]);
  });

  it('lists models by label (default first), every length and frame some model offers, on /video and /video-settings', () => {
    const definitions = commandDefinitions(
      config,
      catalogue(
        [
          model('kling-3', { label: 'Kling 3', durations: [5, 10], aspectRatios: ['16:9', '9:16', '1:1'] }),
          model('veo-3.1-fast', {
            label: 'Veo 3.1 Fast',
            durations: [4, 6, 8],
            aspectRatios: ['16:9', '9:16'],
          }),
        ],
        'veo-3.1-fast',
      ),
    );
    const video = optionsOf(definitions, 'video');
    expect(choicesOf(video, 'model')).toEqual([
      ['Veo 3.1 Fast', 'veo-3.1-fast'],
      ['Kling 3', 'kling-3'],
    ]);
    expect(choicesOf(video, 'duration')?.map(([, value]) => value)).toEqual([4, 5, 6, 8, 10]);
    expect(choicesOf(video, 'aspect_ratio')?.map(([, value]) => value)).toEqual(['16:9', '9:16', '1:1']);
    expect(settingsChoices(definitions, 'model')).toEqual([
      ['Veo 3.1 Fast', 'veo-3.1-fast'],
      ['Kling 3', 'kling-3'],
    ]);
    expect(settingsChoices(definitions, 'duration')?.map(([, value]) => value)).toEqual([4, 5, 6, 8, 10]);
  });

  it('offers one model without a model option, and at most 25 models as choices', () => {
    expect(
      optionsOf(commandDefinitions(config, catalogue([model('only')])), 'video').map((o) => o.name),
    ).not.toContain('model');
    const many = Array.from({ length: 30 }, (_, index) => model(`m-${index}`, { durations: [index + 1] }));
    const definitions = commandDefinitions(config, catalogue(many));
    expect(choicesOf(optionsOf(definitions, 'video'), 'model')).toHaveLength(25);
    expect(choicesOf(optionsOf(definitions, 'video'), 'duration')).toHaveLength(25);
    expect(settingsChoices(definitions, 'model')).toHaveLength(25);
  });
});

describe('one list of commands', () => {
  it('every registered command has a handler under its name, and every handler is registered', () => {
    const offered = catalogue([model('sora-2')]);
    const registered = commandDefinitions(config, offered).map((definition) => definition.name);
    // The factories only keep their dependencies until an interaction arrives; none is used here.
    const deps = { catalogue: offered, maxPromptLength: config.MAX_PROMPT_LENGTH, safety: {} } as CommandDeps;
    const handled = commandHandlers(deps).commands.map((command) => command.definition.name);
    expect(handled).toEqual(registered);
    expect(registered).toEqual(['video', 'Make video', 'usage', 'quota', 'video-settings']);
  });
});
