import { ASPECT_RATIOS, type AspectRatio } from './catalogue.ts';

/**
 * Frames before the catalogue were named by orientation (`landscape`, `portrait`): job records of
 * the previous version and old `/video` registrations still say so. One name now: aspect ratio.
 */
const ASPECT_RATIO_OF_ORIENTATION: Readonly<Record<string, AspectRatio>> = {
  landscape: '16:9',
  portrait: '9:16',
};

export function isAspectRatio(value: unknown): value is AspectRatio {
  return typeof value === 'string' && (ASPECT_RATIOS as readonly string[]).includes(value);
}

/** An aspect ratio, or a legacy orientation word read as one; anything else is no frame asked. */
export function aspectRatioOf(value: unknown): AspectRatio | undefined {
  if (isAspectRatio(value)) return value;
  return typeof value === 'string' ? ASPECT_RATIO_OF_ORIENTATION[value.toLowerCase()] : undefined;
}
