import type { ModelCapabilities, Orientation } from '../video-provider.ts';

/**
 * What the job-based Videos API offers per model. Lengths are sent as `seconds` (a string) and
 * orientations as `size`; both differ from the chat shape's 5/10/15 s named in the prompt text.
 */

/**
 * The `size` sent for each orientation. sora-2-pro also takes 1792x1024 / 1024x1792, but at a
 * higher price per second and with files that more often pass Discord's upload limit, so both
 * models get the sizes every relay accepts.
 */
export const VIDEOS_API_SIZES = {
  landscape: '1280x720',
  portrait: '720x1280',
} as const satisfies Record<Orientation, string>;

const SORA_2: ModelCapabilities = {
  durations: [4, 8, 12],
  orientations: ['landscape', 'portrait'],
  imageInput: true,
  progress: 'percent',
  remix: true,
};

const MODELS: Record<string, ModelCapabilities> = {
  'sora-2': SORA_2,
  'sora-2-pro': SORA_2,
};

/** Unknown models (relays sell many under this shape) get the sora-2 set, which most accept. */
export function videosApiCapabilities(model: string): ModelCapabilities {
  return MODELS[model.trim().toLowerCase()] ?? SORA_2;
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
