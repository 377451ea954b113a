import { type MemberText, memberText } from '../i18n/member-text.ts';
import type { AspectRatio, CatalogueModel } from './catalogue.ts';

/**
 * Fits what a member asked for to the model that will make it, the one policy for every way in
 * (slash, mention flags, forms, Retry, Regenerate, Remix): a length the model cannot do is
 * snapped to the nearest it can and said; a frame it cannot do, or an image for a model that
 * takes none, is refused with what it can do, never silently changed or dropped.
 */

export interface Ask {
  durationSeconds?: number;
  aspectRatio?: AspectRatio;
  imageUrl?: string;
}

export type Fit =
  | {
      ok: true;
      durationSeconds?: number;
      aspectRatio?: AspectRatio;
      /** What was changed, to tell the member with the job. */
      notices: MemberText[];
    }
  | { ok: false; message: MemberText };

export function fitRequest(model: CatalogueModel, ask: Ask): Fit {
  if (ask.imageUrl && !model.imageInput) {
    return { ok: false, message: memberText('fit.imageRefused', { model: model.label }) };
  }
  if (ask.aspectRatio && !model.aspectRatios.includes(ask.aspectRatio)) {
    return {
      ok: false,
      message: memberText('fit.aspectRatioRefused', {
        model: model.label,
        aspectRatio: ask.aspectRatio,
        aspectRatios: model.aspectRatios.join(', '),
      }),
    };
  }
  const notices: MemberText[] = [];
  let durationSeconds = ask.durationSeconds;
  if (durationSeconds !== undefined && !model.durations.includes(durationSeconds)) {
    const snapped = nearestDuration(durationSeconds, model.durations);
    if (snapped !== undefined) {
      notices.push(
        memberText('fit.durationSnapped', {
          model: model.label,
          asked: durationSeconds,
          seconds: snapped,
          durations: model.durations.join(', '),
        }),
      );
    }
    durationSeconds = snapped;
  }
  return { ok: true, durationSeconds, aspectRatio: ask.aspectRatio, notices };
}

/** The allowed length closest to the one asked for; on a tie the shorter, so a member never pays for more. */
export function nearestDuration(requested: number, allowed: readonly number[]): number | undefined {
  let best: number | undefined;
  for (const candidate of allowed) {
    const distance = Math.abs(candidate - requested);
    const bestDistance = best === undefined ? Number.POSITIVE_INFINITY : Math.abs(best - requested);
    if (distance < bestDistance || (distance === bestDistance && best !== undefined && candidate < best)) {
      best = candidate;
    }
  }
  return best;
}
