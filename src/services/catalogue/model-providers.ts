import type { ServiceConfig } from '../../config.ts';
import type { Logger } from '../logging/logger.ts';
import { providerModelName } from '../video-service/catalogue-request.ts';
import { FalQueueProvider } from '../video-service/fal-queue/fal-queue-provider.ts';
import { GeminiProvider } from '../video-service/gemini/gemini-provider.ts';
import { RelayVideoProvider } from '../video-service/relay/relay-video-provider.ts';
import { ReplicateProvider } from '../video-service/replicate/replicate-provider.ts';
import type { ShapeProviderOptions } from '../video-service/shape-options.ts';
import type {
  ModelCapabilities,
  VideoEvent,
  VideoProvider,
  VideoRequest,
} from '../video-service/video-provider.ts';
import { VideosApiProvider } from '../video-service/videos-api/videos-api-provider.ts';
import type { Catalogue, CatalogueModel, CatalogueProvider, ProviderShape } from './catalogue.ts';
import { capabilitiesOfModel } from './model-capabilities.ts';

/**
 * One provider per catalogue model, made on first use: the runner, the CLI and the commands ask
 * here by the model id a member picked, and never learn which shape answers. Each provider gets
 * only its own key, read from the environment variable its catalogue entry names.
 */

/** What the shapes of the seed need beyond ShapeProviderOptions; the newer shapes ignore them. */
export interface SeedShapeSettings {
  /** chat-relay: gives up when the stream sends no byte for this long. */
  stallTimeoutMs: number;
  /** openai-videos: the starting image as bytes (multipart) or its URL. */
  imageInput: 'bytes' | 'url';
}

export type ShapeFactoryOptions = ShapeProviderOptions & SeedShapeSettings;
type ProviderWithClose = VideoProvider & { close?(): Promise<void> };

/** shape → provider class, one line each. */
const SHAPE_FACTORIES: Record<ProviderShape, (options: ShapeFactoryOptions) => ProviderWithClose> = {
  'chat-relay': (options) =>
    new RelayForModel(
      new RelayVideoProvider({
        apiUrl: options.provider.baseUrl,
        apiKey: options.apiKey,
        stallTimeoutMs: options.stallTimeoutMs,
        timeoutMs: options.timeoutMs,
        logger: options.logger,
        dispatcher: options.dispatcher,
      }),
      options.model,
      options.provider,
    ),
  'openai-videos': (options) =>
    VideosApiProvider.fromShape({
      ...options,
      // OpenRouter fetches the image from its link itself; other gateways take what SORA_IMAGE_INPUT says.
      imageInput: options.provider.variant === 'openrouter' ? 'url' : options.imageInput,
    }),
  'fal-queue': (options) => new FalQueueProvider(options),
  replicate: (options) => new ReplicateProvider(options),
  gemini: (options) => new GeminiProvider(options),
};

export interface ModelProvidersOptions {
  catalogue: Catalogue;
  /** Where keys are read, by each provider's `api_key_env`. */
  env: NodeJS.ProcessEnv;
  settings: Omit<ShapeFactoryOptions, 'provider' | 'model' | 'apiKey' | 'logger'>;
  logger?: Logger;
}

/** The settings every provider is made with, read once from the bot's (or the CLI's) settings. */
export function shapeSettingsOf(
  config: Pick<
    ServiceConfig,
    | 'SORA_POLL_INTERVAL_MS'
    | 'SERVICE_TIMEOUT_MS'
    | 'SERVICE_STALL_TIMEOUT_MS'
    | 'SORA_IMAGE_INPUT'
    | 'MAX_IMAGE_BYTES'
    | 'ALLOW_PRIVATE_VIDEO_URLS'
    | 'VIDEO_DOWNLOAD_TIMEOUT_MS'
  >,
): ModelProvidersOptions['settings'] {
  return {
    pollIntervalMs: config.SORA_POLL_INTERVAL_MS,
    timeoutMs: config.SERVICE_TIMEOUT_MS,
    stallTimeoutMs: config.SERVICE_STALL_TIMEOUT_MS,
    imageInput: config.SORA_IMAGE_INPUT,
    maxImageBytes: config.MAX_IMAGE_BYTES,
    allowPrivateUrls: config.ALLOW_PRIVATE_VIDEO_URLS,
    downloadTimeoutMs: config.VIDEO_DOWNLOAD_TIMEOUT_MS,
  };
}

export class ModelProviders {
  private readonly made = new Map<string, ProviderWithClose>();
  private readonly models: ReadonlyMap<string, { model: CatalogueModel; provider: CatalogueProvider }>;

  constructor(private readonly options: ModelProvidersOptions) {
    this.models = new Map(
      options.catalogue.models.flatMap((model) => {
        const provider = options.catalogue.providers.get(model.provider);
        return provider ? [[model.id, { model, provider }] as const] : [];
      }),
    );
  }

  get catalogue(): Catalogue {
    return this.options.catalogue;
  }

  /** Whether the catalogue has this model (a job recorded before a model was removed may not). */
  has(modelId: string): boolean {
    return this.models.has(modelId);
  }

  /** Whether a recorded job of this model can be followed again (job-based shapes, not the chat stream). */
  canResume(modelId: string): boolean {
    return this.has(modelId) && Boolean(this.providerFor(modelId).resume);
  }

  /** The catalogue entry of a model, if the catalogue has it. */
  entryOf(modelId: string): { model: CatalogueModel; provider: CatalogueProvider } | undefined {
    return this.models.get(modelId);
  }

  capabilitiesOf(modelId: string): ModelCapabilities | undefined {
    const entry = this.models.get(modelId);
    return entry && capabilitiesOfModel(entry.model, entry.provider);
  }

  /** The provider that makes this model's videos; throws for an id the catalogue does not have. */
  providerFor(modelId: string): VideoProvider {
    const existing = this.made.get(modelId);
    if (existing) return existing;
    const entry = this.models.get(modelId);
    if (!entry) throw new Error(`model ${modelId} is not in the catalogue`);
    const { model, provider } = entry;
    const made = SHAPE_FACTORIES[provider.shape]({
      ...this.options.settings,
      provider,
      model,
      apiKey: this.options.env[provider.apiKeyEnv]?.trim() ?? '',
      logger: this.options.logger?.child({ provider: provider.name, shape: provider.shape }),
    });
    this.made.set(modelId, made);
    return made;
  }

  async close(): Promise<void> {
    const made = [...this.made.values()];
    this.made.clear();
    await Promise.all(made.map((provider) => provider.close?.()));
  }
}

/**
 * The chat relay serving one catalogue model: the relay reads `request.model`, so this sends the
 * entry's own name (or `image_model` when an image is given) and offers what the entry says. Every
 * other shape takes the entry's name itself. The chat stream has nothing to resume, remix or fetch
 * with a key.
 */
class RelayForModel implements VideoProvider {
  constructor(
    private readonly inner: RelayVideoProvider,
    private readonly model: CatalogueModel,
    private readonly provider: CatalogueProvider,
  ) {}

  capabilities(): ModelCapabilities {
    return capabilitiesOfModel(this.model, this.provider);
  }

  generate(request: VideoRequest, signal: AbortSignal): AsyncIterable<VideoEvent> {
    return this.inner.generate({ ...request, model: providerModelName(request, this.model) }, signal);
  }
}
