import type { CatalogueModel, CatalogueProvider } from '../../src/services/catalogue/catalogue.ts';
import type { ShapeProviderOptions } from '../../src/services/video-service/shape-options.ts';

/** A catalogue model as the loader would build it, for providers tested on their own. */
export function catalogueModel(patch: Partial<CatalogueModel> = {}): CatalogueModel {
  return {
    id: 'veo-3.1-fast',
    label: 'Veo 3.1 Fast',
    provider: 'google',
    model: 'veo-3.1-fast-generate-preview',
    input: {},
    durations: [4, 6, 8],
    aspectRatios: ['16:9', '9:16'],
    imageInput: true,
    fallback: [],
    ...patch,
  };
}

/** The options the registry gives a provider built from the catalogue, pointed at a stand-in. */
export function shapeOptions(
  provider: CatalogueProvider,
  apiKey: string,
  patch: Partial<ShapeProviderOptions> = {},
): ShapeProviderOptions {
  return {
    provider,
    model: catalogueModel({ provider: provider.name }),
    apiKey,
    pollIntervalMs: 20,
    timeoutMs: 30_000,
    maxImageBytes: 1024 * 1024,
    allowPrivateUrls: true,
    ...patch,
  };
}
