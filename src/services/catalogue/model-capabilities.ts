import type { ModelCapabilities } from '../video-service/video-provider.ts';
import type { CatalogueModel, CatalogueProvider, ProviderShape } from './catalogue.ts';

/**
 * What a catalogue model offers, known without a connection (the commands registered, the flags
 * read, the forms shown): its own lengths, frames and image input, and what its shape can report
 * and do.
 */

const PROGRESS_OF_SHAPE: Record<ProviderShape, ModelCapabilities['progress']> = {
  'chat-relay': 'text',
  'openai-videos': 'percent',
  'fal-queue': 'queue',
  replicate: 'none',
  gemini: 'none',
};

export function capabilitiesOfModel(model: CatalogueModel, provider: CatalogueProvider): ModelCapabilities {
  const plainVideosApi = provider.shape === 'openai-videos' && (provider.variant ?? 'openai') === 'openai';
  return {
    durations: model.durations,
    aspectRatios: model.aspectRatios,
    imageInput: model.imageInput,
    progress:
      plainVideosApi || provider.shape !== 'openai-videos' ? PROGRESS_OF_SHAPE[provider.shape] : 'none',
    // Only OpenAI's own Videos API has `POST /videos/{id}/remix`.
    remix: plainVideosApi,
  };
}
