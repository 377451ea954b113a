import { plainText } from '../../services/progress-message/job-message.ts';

/**
 * Cheap checks on what a member sent, done before anything is deferred or paid for. Each returns
 * a message that says what to fix, or undefined when all is well.
 */

export const ACCEPTED_IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/webp'] as const;
const EXTENSION_TYPES: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
};

export interface ImageInfo {
  name: string;
  contentType: string | null;
  size: number;
}

/** The image's type from its content type, else from its file name. */
export function imageType(image: ImageInfo): string | undefined {
  const declared = image.contentType?.split(';')[0]?.trim().toLowerCase();
  if (declared) return declared;
  const extension = image.name.split('.').pop()?.toLowerCase() ?? '';
  return EXTENSION_TYPES[extension];
}

export function isAcceptedImage(image: ImageInfo): boolean {
  const type = imageType(image);
  return type !== undefined && (ACCEPTED_IMAGE_TYPES as readonly string[]).includes(type);
}

const FILE_NAME_LENGTH = 80;

/**
 * A member's file name fit to show: without control or direction-override characters (which can
 * make `cat\u202Egnp.exe` read as `catexe.png`), on one line, and short.
 */
export function sanitiseFileName(name: string): string {
  const visible = name.replace(/[\p{Cc}\u200B-\u200F\u202A-\u202E\u2060-\u2069\uFEFF]/gu, '').trim();
  const short = visible.length > FILE_NAME_LENGTH ? `${visible.slice(0, FILE_NAME_LENGTH - 1)}…` : visible;
  return short || 'unnamed file';
}

export function checkImage(image: ImageInfo, maxBytes: number): string | undefined {
  const shown = `**${plainText(sanitiseFileName(image.name), FILE_NAME_LENGTH)}**`;
  if (!isAcceptedImage(image)) {
    return `${shown} is not an image the video service accepts. Please use a PNG, JPEG or WebP image.`;
  }
  if (image.size > maxBytes) {
    return `${shown} is ${formatBytes(image.size)}; images can be at most ${formatBytes(maxBytes)}. Please use a smaller one.`;
  }
  return undefined;
}

export function checkPrompt(prompt: string, maxLength: number): string | undefined {
  const length = prompt.trim().length;
  if (length === 0) return 'Please describe the video you want in the prompt.';
  if (length > maxLength) {
    return `The prompt is ${length} characters long; the limit is ${maxLength}. Please shorten it.`;
  }
  return undefined;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024 * 1024) return `${Math.ceil(bytes / 1024)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1).replace(/\.0$/, '')} MB`;
}
