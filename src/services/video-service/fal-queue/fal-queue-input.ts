import type { CatalogueModel } from '../../catalogue/catalogue.ts';
import { requestedDuration } from '../catalogue-request.ts';
import { modelInput } from '../polled-job/model-input.ts';
import type { VideoRequest } from '../video-provider.ts';

/**
 * The body of a fal submit: the model's own input. fal's video models take `duration` as a
 * string enum: `"5"` (Kling, Seedance, Hailuo, Pixverse, Wan), or with a unit, `"8s"`, for
 * Veo and Luma's Ray. The starting image goes as `image_url` unless the catalogue renames it
 * (Kling 3's `start_image_url`).
 */

const DURATION_WITH_UNIT = /(?:^|\/)(?:veo|luma-dream-machine)/i;

export function falInput(
  model: CatalogueModel,
  modelPath: string,
  request: VideoRequest,
): Record<string, unknown> {
  const seconds = requestedDuration(request, model);
  const withUnit = DURATION_WITH_UNIT.test(modelPath);
  return modelInput(
    model,
    {
      prompt: request.prompt,
      image: request.imageUrl,
      duration: seconds === undefined ? undefined : withUnit ? `${seconds}s` : String(seconds),
      aspect_ratio: request.aspectRatio,
    },
    { image: 'image_url' },
  );
}

/** The path a request goes to: the image model when an image is given and the catalogue names one. */
export function falModelPath(model: CatalogueModel, request: VideoRequest): string {
  return request.imageUrl && model.imageModel ? model.imageModel : model.model;
}
