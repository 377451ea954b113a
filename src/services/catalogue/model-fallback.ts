import type { AspectRatio, Catalogue, CatalogueModel } from './catalogue.ts';
import { fitRequest } from './fit-request.ts';

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
 * Whether the member's allowance can pay for a fallback (the cost rules); `held` is what the job's
 * charge reserved, so the check can stay within it.
 */
export type CanPay = (
  ask: FallbackAsk,
  model: CatalogueModel,
  held?: { amounts?: { seconds: number; spend: number }; limitedBy?: Array<'videos' | 'seconds' | 'spend'> },
) => boolean;
export const canPayAny: CanPay = () => true;

/**
 * The first model in `failed`'s fallback list not tried yet that the request fits (fitRequest)
 * and the allowance can pay for.
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
    // The same fitting admission applies: an image needs image input, the frame must be offered,
    // a length the model does not make is snapped to its nearest.
    const fit = fitRequest(model, ask);
    if (!fit.ok || !canPay(ask, model)) continue;
    const snapped = fit.durationSeconds !== ask.durationSeconds;
    return {
      model,
      durationSeconds: fit.durationSeconds,
      ...(snapped ? { snappedFrom: ask.durationSeconds } : {}),
    };
  }
  return undefined;
}
