import type { Dispatcher } from 'undici';
import type { CatalogueModel, CatalogueProvider } from '../catalogue/catalogue.ts';
import type { Logger } from '../logging/logger.ts';

/**
 * What every provider built from the catalogue is given: one instance serves one catalogue model
 * on its provider. The key goes only to `provider.baseUrl`.
 */
export interface ShapeProviderOptions {
  provider: CatalogueProvider;
  model: CatalogueModel;
  apiKey: string;
  /** Between two polls of a job at the service. */
  pollIntervalMs: number;
  /** The whole job, create to result. */
  timeoutMs: number;
  /** Largest starting image read, for shapes that send the image's bytes. */
  maxImageBytes: number;
  /** VIDEO_DOWNLOAD_TIMEOUT_MS: one download of a result. */
  downloadTimeoutMs?: number;
  /** ALLOW_PRIVATE_VIDEO_URLS: images and results may come from private or loopback addresses. */
  allowPrivateUrls: boolean;
  logger?: Logger;
  /** An undici dispatcher for tests and benchmarks; a provider makes its own Agent otherwise. */
  dispatcher?: Dispatcher;
}
