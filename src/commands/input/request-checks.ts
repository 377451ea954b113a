import { english, type Translator } from '../../services/i18n/translator.ts';
import { plainText } from '../../services/shared/plain-text.ts';

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
export function sanitiseFileName(name: string, t: Translator = english): string {
  const visible = name.replace(/[\p{Cc}\u200B-\u200F\u202A-\u202E\u2060-\u2069\uFEFF]/gu, '').trim();
  const short = visible.length > FILE_NAME_LENGTH ? `${visible.slice(0, FILE_NAME_LENGTH - 1)}…` : visible;
  return short || t('common.unnamedFile');
}

export function checkImage(image: ImageInfo, maxBytes: number, t: Translator = english): string | undefined {
  const name = `**${plainText(sanitiseFileName(image.name, t), FILE_NAME_LENGTH)}**`;
  if (!isAcceptedImage(image)) return t('check.imageType', { name });
  if (image.size > maxBytes) {
    return t('check.imageSize', { name, size: formatBytes(image.size, t), max: formatBytes(maxBytes, t) });
  }
  return undefined;
}

export function checkPrompt(prompt: string, maxLength: number, t: Translator = english): string | undefined {
  const length = prompt.trim().length;
  if (length === 0) return t('check.promptEmpty');
  if (length > maxLength) return t('check.promptTooLong', { length, max: maxLength });
  return undefined;
}

export function formatBytes(bytes: number, t: Translator = english): string {
  if (bytes < 1024 * 1024) return t('common.kilobytes', { value: Math.ceil(bytes / 1024) });
  return t('common.megabytes', { value: Math.round((bytes / (1024 * 1024)) * 10) / 10 });
}
