import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { type Config, ConfigError } from '../../config.ts';
import {
  ASPECT_RATIOS,
  type Catalogue,
  type CatalogueModel,
  type CatalogueProvider,
  OPENAI_VIDEOS_VARIANTS,
  PROVIDER_SHAPES,
} from './catalogue.ts';
import { catalogueFromSettings } from './settings-catalogue.ts';

/**
 * The models catalogue the bot runs with: the operator's `MODELS_FILE` (YAML; JSON is YAML too),
 * or without it the one-provider catalogue of the `SORA_*` settings. A bad file stops the bot with
 * one line per problem, naming the model or provider and the field; no value from the file or the
 * environment is ever repeated in them, so a key pasted into the wrong place cannot reach a log.
 */

/** What members pick and logs name: lowercase letters, digits, `.`, `_`, `-`. */
const MODEL_ID = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Discord's limit for a choice's name. */
const MAX_LABEL = 100;

const httpUrl = z
  .string({ message: 'must be an http(s) URL' })
  .refine((value) => URL.canParse(value) && /^https?:\/\//.test(value), {
    message: 'must be an http(s) URL such as https://example.com/v1',
  })
  .transform((value) => value.replace(/\/+$/, ''));

const providerSchema = z.strictObject({
  shape: z.enum(PROVIDER_SHAPES, { message: `must be one of ${PROVIDER_SHAPES.join(', ')}` }),
  base_url: httpUrl,
  api_key_env: z
    .string({ message: 'must name an environment variable' })
    .regex(ENV_NAME, { message: 'must name an environment variable (letters, digits, _)' }),
  variant: z
    .enum(OPENAI_VIDEOS_VARIANTS, { message: `must be one of ${OPENAI_VIDEOS_VARIANTS.join(', ')}` })
    .optional(),
});

const modelSchema = z.strictObject({
  id: z
    .string({ message: 'is required' })
    .regex(MODEL_ID, { message: 'must be lowercase letters, digits, . _ - (at most 64)' }),
  label: z
    .string({ message: 'must be text' })
    .trim()
    .min(1, { message: 'must not be empty' })
    .max(MAX_LABEL, { message: `must be at most ${MAX_LABEL} characters` })
    .optional(),
  provider: z.string({ message: 'is required' }).min(1, { message: 'is required' }),
  model: z.string({ message: 'is required' }).min(1, { message: 'is required' }),
  image_model: z.string({ message: 'must be text' }).min(1, { message: 'must not be empty' }).optional(),
  input: z.record(z.string(), z.string({ message: 'must map a field name to another name' })).default({}),
  durations: z
    .array(
      z
        .number({ message: 'must be a number of seconds' })
        .int({ message: 'must be whole seconds' })
        .min(1, { message: 'must be at least 1 second' })
        .max(600, { message: 'must be at most 600 seconds' }),
      { message: 'must be a list of seconds, e.g. [4, 8]' },
    )
    .min(1, { message: 'must list at least one length' }),
  aspect_ratios: z
    .array(z.enum(ASPECT_RATIOS, { message: `must each be one of ${ASPECT_RATIOS.join(', ')}` }), {
      message: 'must be a list such as ["16:9", "9:16"]',
    })
    .min(1, { message: 'must list at least one aspect ratio' }),
  image_input: z.boolean({ message: 'must be true or false' }).default(false),
  price_per_second: z
    .number({ message: 'must be a number' })
    .nonnegative({ message: 'must not be negative' })
    .optional(),
  fallback: z
    .array(z.string({ message: 'must be model ids' }), { message: 'must be a list of model ids' })
    .default([]),
});

const fileSchema = z.strictObject({
  default: z.string({ message: 'must be a model id' }).optional(),
  currency: z
    .string({ message: 'must be a currency code' })
    .regex(/^[A-Z]{3}$/, { message: 'must be a three-letter currency code such as USD' })
    .default('USD'),
  providers: z.record(z.string(), providerSchema, { message: 'must map provider names to their settings' }),
  models: z
    .array(modelSchema, { message: 'must be a list of models' })
    .min(1, { message: 'must list at least one model' }),
});

type CatalogueFile = z.infer<typeof fileSchema>;

/**
 * Without `MODELS_FILE`, the catalogue of the `SORA_*` settings (every existing set-up as before).
 * With it, the file read, checked, and the key variables it names checked to be set in `env`.
 */
export function loadCatalogue(
  config: Pick<Config, 'MODELS_FILE' | 'SORA_API_URL' | 'SORA_MODEL' | 'SORA_MODELS' | 'SORA_API_FORMAT'>,
  env: NodeJS.ProcessEnv = process.env,
  options: CatalogueChecks = {},
): Catalogue {
  if (!config.MODELS_FILE) return catalogueFromSettings(config);
  let text: string;
  try {
    text = readFileSync(config.MODELS_FILE, 'utf8');
  } catch (error) {
    const code = (error as { code?: string }).code ?? 'unreadable';
    throw new ConfigError([`MODELS_FILE could not be read (${code}): ${config.MODELS_FILE}`]);
  }
  return parseCatalogue(text, env, options);
}

export interface CatalogueChecks {
  /** false for `npm run register`, which talks to Discord only and needs no video key. Default true. */
  keys?: boolean;
}

/** The catalogue in `text` (YAML or JSON), checked; throws ConfigError with one line per problem. */
export function parseCatalogue(
  text: string,
  env: NodeJS.ProcessEnv = process.env,
  options: CatalogueChecks = {},
): Catalogue {
  const document = parseDocument(text);
  if (document.errors.length > 0) {
    throw new ConfigError(
      document.errors.map((error) => {
        const line = error.linePos?.[0]?.line;
        return `MODELS_FILE is not valid YAML${line ? ` at line ${line}` : ''}: ${error.code}`;
      }),
    );
  }
  const raw: unknown = document.toJS();
  const parsed = fileSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => `MODELS_FILE ${where(issue.path, raw)}${issue.message}`),
    );
  }
  const problems = crossCheck(parsed.data, options.keys === false ? undefined : env);
  if (problems.length > 0) throw new ConfigError(problems.map((problem) => `MODELS_FILE ${problem}`));
  return toCatalogue(parsed.data);
}

/** What a problem is about, by name where the file gives one: `model "veo-3" durations[1]: `. */
function where(path: readonly PropertyKey[], raw: unknown): string {
  const [section, key, ...rest] = path;
  const field = rest.map((part) => (typeof part === 'number' ? `[${part}]` : `.${String(part)}`)).join('');
  const fieldText = field ? ` ${field.replace(/^\./, '')}: ` : ': ';
  if (section === 'models' && typeof key === 'number') {
    const id = (raw as { models?: Array<{ id?: unknown }> } | null)?.models?.[key]?.id;
    const name = typeof id === 'string' && MODEL_ID.test(id) ? `model "${id}"` : `models[${key}]`;
    return `${name}${fieldText}`;
  }
  if (section === 'providers' && key !== undefined) {
    return `provider "${String(key)}"${fieldText}`;
  }
  if (section === undefined) return 'top level: ';
  const tail = [key, ...rest].filter((part) => part !== undefined);
  return `${String(section)}${tail.map((part) => (typeof part === 'number' ? `[${part}]` : `.${String(part)}`)).join('')}: `;
}

/** `env` absent: the key variables are not checked. */
function crossCheck(file: CatalogueFile, env: NodeJS.ProcessEnv | undefined): string[] {
  const problems: string[] = [];
  for (const [name, provider] of Object.entries(file.providers)) {
    if (!MODEL_ID.test(name))
      problems.push(`provider "${name}": the name must be lowercase letters, digits, . _ -`);
    if (provider.variant && provider.shape !== 'openai-videos') {
      problems.push(`provider "${name}" variant: only an openai-videos provider has a variant`);
    }
    if (env && !env[provider.api_key_env]?.trim()) {
      problems.push(
        `provider "${name}" api_key_env: the environment variable ${provider.api_key_env} is not set`,
      );
    }
  }
  const ids = new Set<string>();
  for (const model of file.models) {
    if (ids.has(model.id)) problems.push(`model "${model.id}" id: used by more than one model`);
    ids.add(model.id);
  }
  for (const model of file.models) {
    const label = `model "${model.id}"`;
    if (!Object.hasOwn(file.providers, model.provider)) {
      problems.push(`${label} provider: "${model.provider}" is not under providers`);
    }
    for (const next of model.fallback) {
      if (next === model.id) problems.push(`${label} fallback: a model cannot fall back to itself`);
      else if (!ids.has(next))
        problems.push(`${label} fallback: "${next}" is not a model id of this catalogue`);
    }
    if (model.image_model && !model.image_input) {
      problems.push(`${label} image_model: set image_input: true too, or remove image_model`);
    }
  }
  if (file.default !== undefined && !ids.has(file.default)) {
    problems.push(`default: "${file.default}" is not a model id of this catalogue`);
  }
  return problems;
}

function toCatalogue(file: CatalogueFile): Catalogue {
  const providers = new Map<string, CatalogueProvider>(
    Object.entries(file.providers).map(([name, provider]) => [
      name,
      {
        name,
        shape: provider.shape,
        baseUrl: provider.base_url,
        apiKeyEnv: provider.api_key_env,
        ...(provider.variant ? { variant: provider.variant } : {}),
      },
    ]),
  );
  const models = file.models.map(
    (model): CatalogueModel => ({
      id: model.id,
      label: model.label ?? model.id,
      provider: model.provider,
      model: model.model,
      ...(model.image_model ? { imageModel: model.image_model } : {}),
      input: model.input,
      durations: [...new Set(model.durations)].sort((a, b) => a - b),
      aspectRatios: [...new Set(model.aspect_ratios)],
      imageInput: model.image_input,
      ...(model.price_per_second === undefined ? {} : { pricePerSecond: model.price_per_second }),
      fallback: model.fallback,
    }),
  );
  return {
    defaultModel: file.default ?? (models[0] as CatalogueModel).id,
    currency: file.currency,
    providers,
    models,
  };
}

/** The catalogue's model by id, if it has one. */
export function modelById(catalogue: Catalogue, id: string): CatalogueModel | undefined {
  return catalogue.models.find((model) => model.id === id);
}
