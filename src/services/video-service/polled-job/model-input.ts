import type { AspectRatio, CatalogueModel } from '../../catalogue/catalogue.ts';
import type { ModelCapabilities, Orientation, VideoRequest } from '../video-provider.ts';
import { nearestDuration } from '../videos-api/videos-api-capabilities.ts';

/**
 * A catalogue model's input, the same for every shape that sends a model its own fields (fal,
 * Replicate): the bot's names (`prompt`, `image`, `duration`, `aspect_ratio`) with the values
 * in the shape's types, then renamed as the model's `input:` says (`image: start_image_url`).
 */

/** The names a catalogue's `input:` renames. */
export type BotField = 'prompt' | 'image' | 'duration' | 'aspect_ratio';

const ORIENTATION_OF: Partial<Record<AspectRatio, Orientation>> = { '16:9': 'landscape', '9:16': 'portrait' };
const FRAME_OF: Record<Orientation, AspectRatio> = { landscape: '16:9', portrait: '9:16' };

/** The fields to send, named as the model wants; absent values are left out. */
export function modelInput(
  model: CatalogueModel,
  fields: Partial<Record<BotField, unknown>>,
  /** The shape's own name for a field when the catalogue renames nothing (fal: `image: image_url`). */
  shapeNames: Partial<Record<BotField, string>> = {},
): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(fields) as [BotField, unknown][]) {
    if (value === undefined) continue;
    input[model.input[field] ?? shapeNames[field] ?? field] = value;
  }
  return input;
}

/** The length to ask for: the model's allowed one nearest the request (commands already checked it). */
export function durationFor(model: CatalogueModel, request: VideoRequest): number | undefined {
  if (request.durationSeconds === undefined) return undefined;
  return nearestDuration(request.durationSeconds, model.durations) ?? request.durationSeconds;
}

/** The frame asked for, from `aspectRatio` or, for callers not yet moved to it, `orientation`. */
export function aspectRatioFor(request: VideoRequest): AspectRatio | undefined {
  return request.aspectRatio ?? (request.orientation ? FRAME_OF[request.orientation] : undefined);
}

/** What a catalogue model offers, for the commands and forms: its own lengths, frames and image input. */
export function catalogueCapabilities(model: CatalogueModel): ModelCapabilities {
  return {
    durations: [...model.durations],
    orientations: model.aspectRatios.flatMap((ratio) => {
      const orientation = ORIENTATION_OF[ratio];
      return orientation ? [orientation] : [];
    }),
    imageInput: model.imageInput,
    progress: 'none',
    remix: false,
  };
}
