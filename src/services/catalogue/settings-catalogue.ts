import type { Config } from '../../config.ts';
import { capabilitiesOf, SETTINGS_SHAPES } from '../video-service/service-shapes.ts';
import type { Catalogue, CatalogueModel, CatalogueProvider } from './catalogue.ts';

/**
 * The catalogue of a set-up without `MODELS_FILE`: one provider from the `SORA_*` settings and the
 * models they offer, with today's lengths and frames, so an existing bot behaves exactly as before.
 */

/** The name the one provider of such a catalogue has (in logs and records). */
export const SETTINGS_PROVIDER = 'default';

export function catalogueFromSettings(
  config: Pick<Config, 'SORA_API_URL' | 'SORA_MODEL' | 'SORA_MODELS' | 'SORA_API_FORMAT'>,
): Catalogue {
  const shape = SETTINGS_SHAPES[config.SORA_API_FORMAT];
  const provider: CatalogueProvider = {
    name: SETTINGS_PROVIDER,
    shape,
    baseUrl: config.SORA_API_URL,
    apiKeyEnv: 'SORA_API_KEY',
  };
  const ids = [...new Set([config.SORA_MODEL, ...config.SORA_MODELS])];
  const models = ids.map((id): CatalogueModel => {
    const capabilities = capabilitiesOf(shape, id);
    return {
      id,
      label: id,
      provider: SETTINGS_PROVIDER,
      model: id,
      input: {},
      durations: [...capabilities.durations],
      aspectRatios: [...capabilities.aspectRatios],
      imageInput: capabilities.imageInput,
      fallback: [],
    };
  });
  return {
    defaultModel: config.SORA_MODEL,
    currency: 'USD',
    providers: new Map([[provider.name, provider]]),
    models,
  };
}
