import type { CatalogueModel } from '../../catalogue/catalogue.ts';

/**
 * A catalogue model's input, the same for every shape that sends a model its own fields (fal,
 * Replicate): the bot's names (`prompt`, `image`, `duration`, `aspect_ratio`) with the values
 * in the shape's types, then renamed as the model's `input:` says (`image: start_image_url`).
 */

/** The names a catalogue's `input:` renames. */
export type BotField = 'prompt' | 'image' | 'duration' | 'aspect_ratio';

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
