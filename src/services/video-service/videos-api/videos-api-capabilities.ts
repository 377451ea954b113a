import type { AspectRatio } from '../../catalogue/catalogue.ts';
import type { ModelCapabilities } from '../video-provider.ts';

/**
 * What the job-based Videos API offers per model. Lengths are sent as `seconds` (a string) and
 * aspect ratios as `size`; both differ from the chat shape's 5/10/15 s named in the prompt text.
 */

/**
 * The `size` sent for each aspect ratio. sora-2-pro also takes 1792x1024 / 1024x1792, but at a
 * higher price per second and with files that more often pass Discord's upload limit, so both
 * models get the sizes every relay accepts. Gateways selling other models under this shape take
 * 1024x1024 for a square frame (Sora itself offers none).
 */
export const VIDEOS_API_SIZES = {
  '16:9': '1280x720',
  '9:16': '720x1280',
  '1:1': '1024x1024',
} as const satisfies Record<AspectRatio, string>;

const SORA_2: ModelCapabilities = {
  durations: [4, 8, 12],
  aspectRatios: ['16:9', '9:16'],
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
