import type { CatalogueModel } from '../catalogue/catalogue.ts';
import { nearestDuration } from '../catalogue/fit-request.ts';
import type { VideoRequest } from './video-provider.ts';

/**
 * What a provider built from the catalogue reads of a request: the model's own options, whatever
 * the member asked, so every catalogue shape sends the same length for the same ask.
 */

/** The model's length closest to the one asked for; absent leaves the model's default. */
export function requestedDuration(request: VideoRequest, model: CatalogueModel): number | undefined {
  return request.durationSeconds === undefined
    ? undefined
    : (nearestDuration(request.durationSeconds, model.durations) ?? request.durationSeconds);
}

/** The provider's own model name for this request: `image_model` when an image is given and it has one. */
export function providerModelName(request: VideoRequest, model: CatalogueModel): string {
  return request.imageUrl && model.imageModel ? model.imageModel : model.model;
}
