import type { AspectRatio, Catalogue, CatalogueModel } from './catalogue.ts';
import { nearestDuration } from './fit-request.ts';

/**
 * Which model takes over a job whose model is gone (its create refused as unavailable, or its
 * provider unreachable) before anything was created: the next one in the model's `fallback` list
 * that can do what was asked. One policy, used by the runner only.
 */

/** What the member asked for that a fallback must be able to make. */
export interface FallbackAsk {
  model: string;
  imageUrl?: string;
  durationSeconds?: number;
  aspectRatio?: AspectRatio;
}

export interface FallbackChoice {
  model: CatalogueModel;
  /** The length sent: the one asked, or the nearest the fallback allows. */
  durationSeconds?: number;
  /** Set when the length asked is not one the fallback makes (the member is told). */
  snappedFrom?: number;
}

/**
 * Where the cost rules will refuse a fallback the member's allowance cannot pay for; until then
 * every fallback may be paid.
 */
/** `held` is what the job's charge reserved, so the check can stay within it. */
export type CanPay = (
  ask: FallbackAsk,
  model: CatalogueModel,
  held?: { amounts?: { seconds: number; spend: number }; limitedBy?: Array<'videos' | 'seconds' | 'spend'> },
) => boolean;
export const canPayAny: CanPay = () => true;

/**
 * The first model in `failed`'s fallback list not tried yet that takes an image when one was
 * given, makes the frame asked, and a length at or near the one asked.
 */
export function chooseFallback(
  catalogue: Catalogue,
  failed: string,
  ask: FallbackAsk,
  tried: ReadonlySet<string>,
  canPay: CanPay = canPayAny,
): FallbackChoice | undefined {
  const from = catalogue.models.find((model) => model.id === failed);
  for (const id of from?.fallback ?? []) {
    const model = catalogue.models.find((candidate) => candidate.id === id);
    if (!model || tried.has(id)) continue;
    if (ask.imageUrl && !model.imageInput) continue;
    if (ask.aspectRatio && !model.aspectRatios.includes(ask.aspectRatio)) continue;
    if (!canPay(ask, model)) continue;
    if (ask.durationSeconds === undefined || model.durations.includes(ask.durationSeconds)) {
      return { model, durationSeconds: ask.durationSeconds };
    }
    const snapped = nearestDuration(ask.durationSeconds, model.durations);
    return { model, durationSeconds: snapped, snappedFrom: ask.durationSeconds };
  }
  return undefined;
}
