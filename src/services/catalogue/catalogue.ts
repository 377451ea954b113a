/**
 * The words of the models catalogue (`MODELS_FILE`): which providers the bot reaches, how, and
 * which models members may pick on each, with their own lengths, aspect ratios and prices.
 * Types only, with no imports, so every room can name a model without loading a provider.
 */

/** The kinds of video service the bot speaks. */
export const PROVIDER_SHAPES = ['chat-relay', 'openai-videos', 'fal-queue', 'replicate', 'gemini'] as const;
export type ProviderShape = (typeof PROVIDER_SHAPES)[number];

/** `openai-videos` comes in OpenAI's own wording (default) and OpenRouter's. */
export const OPENAI_VIDEOS_VARIANTS = ['openai', 'openrouter'] as const;
export type OpenAiVideosVariant = (typeof OPENAI_VIDEOS_VARIANTS)[number];

/** The frames a member may ask for: landscape, portrait, square. */
export const ASPECT_RATIOS = ['16:9', '9:16', '1:1'] as const;
export type AspectRatio = (typeof ASPECT_RATIOS)[number];

export interface CatalogueProvider {
  /** The key it has under `providers:` in the file. */
  name: string;
  shape: ProviderShape;
  /** Without a trailing slash. */
  baseUrl: string;
  /** The environment variable that holds the key; the key itself never enters the catalogue. */
  apiKeyEnv: string;
  /** Only for `openai-videos`. */
  variant?: OpenAiVideosVariant;
}

export interface CatalogueModel {
  /** What members pick: lowercase letters, digits, `.`, `_`, `-`. */
  id: string;
  /** Shown in Discord. */
  label: string;
  /** A name under `providers:`. */
  provider: string;
  /** The provider's own name for it (fal, Replicate: the model path). */
  model: string;
  /** Used instead of `model` when a starting image is given (fal's image-to-video paths). */
  imageModel?: string;
  /** Field renames for this model's input, e.g. `{ image: 'start_image_url' }`. */
  input: Record<string, string>;
  /** Lengths a member may pick, in seconds, ascending. */
  durations: number[];
  aspectRatios: AspectRatio[];
  imageInput: boolean;
  /** In the catalogue's `currency`; absent when the operator set none. */
  pricePerSecond?: number;
  /** Model ids tried in order when this one is unavailable at create time. */
  fallback: string[];
}

export interface Catalogue {
  /** The id of the model a member gets unless they or their server pick another. */
  defaultModel: string;
  currency: string;
  providers: ReadonlyMap<string, CatalogueProvider>;
  /** In file order; the default is among them. */
  models: readonly CatalogueModel[];
}
