import { ASPECT_RATIOS, type AspectRatio, type Catalogue, type CatalogueModel } from './catalogue.ts';

/**
 * What the front doors offer before a model is chosen: Discord's choices are fixed at
 * registration, so they list what any model of the catalogue can do; the request is then fitted
 * to the model it gets (fit-request.ts).
 */

/** Discord allows at most 25 choices on an option. */
export const MAX_CHOICES = 25;

export function modelIds(catalogue: Catalogue): string[] {
  return catalogue.models.map((model) => model.id);
}

export function defaultModelOf(catalogue: Catalogue): CatalogueModel {
  const model = catalogue.models.find((each) => each.id === catalogue.defaultModel);
  if (!model)
    throw new Error(`the catalogue's default model "${catalogue.defaultModel}" is not among its models`);
  return model;
}

/** Every length some model offers, ascending. */
export function offeredDurations(catalogue: Catalogue): number[] {
  return [...new Set(catalogue.models.flatMap((model) => model.durations))].sort((a, b) => a - b);
}

/** Every frame some model offers, landscape, portrait, square in that order. */
export function offeredAspectRatios(catalogue: Catalogue): AspectRatio[] {
  return ASPECT_RATIOS.filter((ratio) =>
    catalogue.models.some((model) => model.aspectRatios.includes(ratio)),
  );
}

/** The models as Discord choices: the label shown, the id sent back; the default first. */
export function modelChoices(catalogue: Catalogue): { name: string; value: string }[] {
  const byDefault = [
    defaultModelOf(catalogue),
    ...catalogue.models.filter((model) => model.id !== catalogue.defaultModel),
  ];
  return byDefault
    .slice(0, MAX_CHOICES)
    .map((model) => ({ name: model.label.slice(0, 100), value: model.id }));
}
