import type { Dispatcher } from 'undici';
import { type MemberText, memberText } from '../../i18n/member-text.ts';
import { english } from '../../i18n/translator.ts';
import { type GuardedFetchFailure, guardedFetch, IMAGE_TYPES } from '../download/guarded-fetch.ts';
import { VideoServiceError, type VideoServiceErrorKind } from '../video-provider.ts';

/**
 * Fetches the member's starting image (a Discord CDN link or a `data:` URL) into memory, capped,
 * so it can be uploaded as the multipart `input_reference` part: a relay cannot always reach
 * Discord's CDN, and its signed links expire.
 */

export interface ReferenceImage {
  bytes: Buffer;
  contentType: string;
  fileName: string;
}

export interface ReferenceImageFetchOptions {
  maxBytes: number;
  timeoutMs: number;
  /** Allows http and private addresses: for local testing and self-hosted setups only. */
  allowPrivate: boolean;
  /** Used instead of the shared agent when `allowPrivate` is set (tests). */
  dispatcher?: Dispatcher;
}

const DATA_URL = /^data:([^,]*?),/i;
const SIGNATURES: Array<{ type: string; test: (bytes: Buffer) => boolean }> = [
  { type: 'image/png', test: (b) => b.subarray(0, 8).equals(Buffer.from('89504e470d0a1a0a', 'hex')) },
  { type: 'image/jpeg', test: (b) => b.subarray(0, 3).equals(Buffer.from('ffd8ff', 'hex')) },
  {
    type: 'image/webp',
    test: (b) =>
      b.subarray(0, 4).toString('latin1') === 'RIFF' && b.subarray(8, 12).toString('latin1') === 'WEBP',
  },
  { type: 'image/gif', test: (b) => b.subarray(0, 4).toString('latin1') === 'GIF8' },
];
const EXTENSIONS: Record<string, string> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/webp': 'webp',
  'image/gif': 'gif',
};

/** What the member reads when their starting image cannot be used, in their language. */
export const IMAGE_MESSAGES = {
  unreachable: memberText('failure.image.unreachable'),
  gone: memberText('failure.image.gone'),
  notImage: memberText('failure.image.notImage'),
  refused: memberText('failure.image.refused'),
  tooLarge: (maxBytes: number) =>
    memberText('failure.image.tooLarge', { megabytes: Math.floor(maxBytes / (1024 * 1024)) }),
} satisfies Record<string, MemberText | ((maxBytes: number) => MemberText)>;

export class ReferenceImageFetcher {
  constructor(private readonly options: ReferenceImageFetchOptions) {}

  /** Throws a VideoServiceError (nothing was sent to the service yet) or, on cancel, `signal.reason`. */
  async fetch(imageUrl: string, signal: AbortSignal): Promise<ReferenceImage> {
    signal.throwIfAborted();
    if (DATA_URL.test(imageUrl)) return this.decodeDataUrl(imageUrl);
    const { maxBytes, timeoutMs, allowPrivate, dispatcher } = this.options;
    // A member's link: no hop is trusted, the first one included.
    const fetched = await guardedFetch(imageUrl, {
      maxBytes,
      allowedTypes: IMAGE_TYPES,
      allowPrivate,
      timeoutMs,
      signal,
      dispatcher: allowPrivate ? dispatcher : undefined,
    });
    if (!fetched.ok) throw this.failure(fetched);
    return this.image(fetched.bytes, fetched.contentType ?? '', fileNameOf(fetched.url));
  }

  /** Nothing of its own to close: the guarded fetch's connection pools are shared. */
  async close(): Promise<void> {}

  private failure(failure: GuardedFetchFailure): VideoServiceError {
    switch (failure.why) {
      case 'refused':
        return imageError('rejected', IMAGE_MESSAGES.refused, failure.detail);
      case 'too-large':
        return imageError('rejected', IMAGE_MESSAGES.tooLarge(this.options.maxBytes), failure.detail);
      case 'wrong-type':
        return imageError('rejected', IMAGE_MESSAGES.notImage, failure.detail);
      case 'http-status': {
        const busy = failure.status >= 500 || failure.status === 429;
        return busy
          ? imageError('network', IMAGE_MESSAGES.unreachable, failure.detail)
          : imageError('rejected', IMAGE_MESSAGES.gone, failure.detail);
      }
      case 'too-many-redirects':
        return imageError('rejected', IMAGE_MESSAGES.unreachable, failure.detail);
      case 'timeout':
        return imageError('network', IMAGE_MESSAGES.unreachable, 'timed out');
      case 'network':
        return imageError('network', IMAGE_MESSAGES.unreachable, failure.detail, failure.cause);
    }
  }

  private decodeDataUrl(imageUrl: string): ReferenceImage {
    const header = DATA_URL.exec(imageUrl)?.[1] ?? '';
    const payload = imageUrl.slice(imageUrl.indexOf(',') + 1);
    const base64 = /;base64$/i.test(header);
    const { maxBytes } = this.options;
    // Checked before decoding, so a huge data URL is never turned into an even larger buffer.
    const estimated = base64 ? Math.floor((payload.length * 3) / 4) : payload.length;
    if (estimated > maxBytes + 2) {
      throw imageError('rejected', IMAGE_MESSAGES.tooLarge(maxBytes), `data URL of about ${estimated} bytes`);
    }
    const bytes = base64
      ? Buffer.from(payload, 'base64')
      : Buffer.from(decodeURIComponent(payload), 'latin1');
    if (bytes.length > maxBytes) {
      throw imageError('rejected', IMAGE_MESSAGES.tooLarge(maxBytes), `data URL of ${bytes.length} bytes`);
    }
    return this.image(bytes, header.split(';')[0] ?? '', undefined);
  }

  /** The bytes decide the type when they can: CDNs and data URLs do not always name it right. */
  private image(bytes: Buffer, declaredType: string, fileName: string | undefined): ReferenceImage {
    const sniffed = SIGNATURES.find((signature) => signature.test(bytes))?.type;
    const declared = declaredType.split(';')[0]?.trim().toLowerCase() ?? '';
    const contentType = sniffed ?? (declared.startsWith('image/') ? declared : undefined);
    if (!contentType || bytes.length === 0) {
      throw imageError('rejected', IMAGE_MESSAGES.notImage, `not an image (${declared || 'no type'})`);
    }
    return { bytes, contentType, fileName: fileName ?? `reference.${EXTENSIONS[contentType] ?? 'png'}` };
  }
}

/** The last path segment of an image link (Discord's carry the attachment's name), without its query. */
function fileNameOf(url: string): string | undefined {
  const segment = new URL(url).pathname.split('/').pop() ?? '';
  let name: string;
  try {
    name = decodeURIComponent(segment);
  } catch {
    name = segment;
  }
  return /^[\w.-]{1,100}\.\w{2,5}$/.test(name) ? name : undefined;
}

function imageError(
  kind: VideoServiceErrorKind,
  text: MemberText,
  detail: string,
  cause?: unknown,
): VideoServiceError {
  return new VideoServiceError({
    kind,
    // In English for logs and the CLI, from en-US.json; the member reads `memberText`.
    userMessage: english.text(text),
    memberText: text,
    logMessage: `starting image not usable: ${detail}`,
    beforeAnyEvent: true,
    cause,
  });
}
