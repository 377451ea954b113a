import type { AspectRatio, CatalogueModel } from '../catalogue/catalogue.ts';
import type { ModelCapabilities, Orientation, VideoRequest } from './video-provider.ts';
import { nearestDuration } from './videos-api/videos-api-capabilities.ts';

/**
 * What a provider built from the catalogue reads of a request: the model's own options, whatever
 * the member asked, so every catalogue shape sends the same length and frame for the same ask.
 */

const RATIO_OF: Record<Orientation, AspectRatio> = { landscape: '16:9', portrait: '9:16' };

/** The frame asked for: `aspectRatio`, else the older `orientation`; absent leaves the model's default. */
export function requestedAspectRatio(request: VideoRequest): AspectRatio | undefined {
  return request.aspectRatio ?? (request.orientation ? RATIO_OF[request.orientation] : undefined);
}

/** The model's length closest to the one asked for; absent leaves the model's default. */
export function requestedDuration(request: VideoRequest, model: CatalogueModel): number | undefined {
  return request.durationSeconds === undefined
    ? undefined
    : nearestDuration(request.durationSeconds, model.durations);
}

/** The provider's own model name for this request: `image_model` when an image is given and it has one. */
export function providerModelName(request: VideoRequest, model: CatalogueModel): string {
  return request.imageUrl && model.imageModel ? model.imageModel : model.model;
}

/** What a catalogue model offers, in the words the commands read. */
export function catalogueCapabilities(
  model: CatalogueModel,
  shape: Pick<ModelCapabilities, 'progress' | 'remix'>,
): ModelCapabilities {
  const orientations = (Object.keys(RATIO_OF) as Orientation[]).filter((orientation) =>
    model.aspectRatios.includes(RATIO_OF[orientation]),
  );
  return { durations: model.durations, orientations, imageInput: model.imageInput, ...shape };
}
