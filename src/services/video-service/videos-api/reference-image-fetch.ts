import { Agent, type Dispatcher, request } from 'undici';
import { hasPrivateHostLiteral, publicOnlyLookup } from '../download/network-guard.ts';
import { readCapped } from '../download/read-capped.ts';
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
  /** Used instead of the guarded agent when `allowPrivate` is set (tests). */
  dispatcher?: Dispatcher;
}

const MAX_REDIRECTS = 3;
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

export const IMAGE_MESSAGES = {
  unreachable: 'The bot could not fetch the starting image. Please try again.',
  gone: 'The bot could not fetch the starting image (its link may have expired). Please attach it again.',
  notImage: 'The starting image is not a picture the video service can use (PNG, JPEG or WebP).',
  refused: 'The bot does not fetch images from that address.',
  tooLarge: (maxBytes: number) =>
    `The starting image is larger than ${Math.floor(maxBytes / (1024 * 1024))} MB, more than the bot sends to the video service.`,
} as const;

export class ReferenceImageFetcher {
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;

  constructor(private readonly options: ReferenceImageFetchOptions) {
    this.ownsDispatcher = !(options.allowPrivate && options.dispatcher);
    this.dispatcher =
      options.allowPrivate && options.dispatcher
        ? options.dispatcher
        : options.allowPrivate
          ? new Agent()
          : new Agent({ connect: { lookup: publicOnlyLookup } });
  }

  /** Throws a VideoServiceError (nothing was sent to the service yet) or, on cancel, `signal.reason`. */
  async fetch(imageUrl: string, signal: AbortSignal): Promise<ReferenceImage> {
    signal.throwIfAborted();
    if (DATA_URL.test(imageUrl)) return this.decodeDataUrl(imageUrl);
    const timeout = AbortSignal.timeout(this.options.timeoutMs);
    try {
      return await this.follow(imageUrl, AbortSignal.any([signal, timeout]));
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      if (error instanceof VideoServiceError) throw error;
      const code = (error as NodeJS.ErrnoException | undefined)?.code;
      if (code === 'EPRIVATEADDRESS') throw imageError('rejected', IMAGE_MESSAGES.refused, 'private address');
      const what = timeout.aborted ? 'timed out' : (code ?? String(error));
      throw imageError('network', IMAGE_MESSAGES.unreachable, what, error);
    }
  }

  async close(): Promise<void> {
    if (this.ownsDispatcher) await this.dispatcher.close();
  }

  private async follow(startUrl: string, signal: AbortSignal): Promise<ReferenceImage> {
    let url = startUrl;
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      const refusal = this.refusal(url);
      if (refusal) throw imageError('rejected', IMAGE_MESSAGES.refused, refusal);
      const response = await request(url, { method: 'GET', signal, dispatcher: this.dispatcher });
      const location = response.headers.location;
      if (response.statusCode >= 300 && response.statusCode < 400 && typeof location === 'string') {
        await response.body.dump();
        url = new URL(location, url).toString();
        continue;
      }
      return await this.read(response, url);
    }
    throw imageError('rejected', IMAGE_MESSAGES.unreachable, 'too many redirects');
  }

  private refusal(url: string): string | undefined {
    if (!URL.canParse(url)) return 'not a URL';
    const parsed = new URL(url);
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return `${parsed.protocol} URL`;
    if (this.options.allowPrivate) return undefined;
    if (parsed.protocol !== 'https:') return 'only https images are fetched';
    if (hasPrivateHostLiteral(parsed)) return 'private address';
    return undefined;
  }

  private async read(response: Dispatcher.ResponseData, url: string): Promise<ReferenceImage> {
    const { statusCode, headers, body } = response;
    if (statusCode !== 200) {
      await body.dump();
      const kind = statusCode >= 500 || statusCode === 429 ? 'network' : 'rejected';
      const message = kind === 'network' ? IMAGE_MESSAGES.unreachable : IMAGE_MESSAGES.gone;
      throw imageError(kind, message, `HTTP ${statusCode}`);
    }
    const { maxBytes } = this.options;
    const read = await readCapped(response, maxBytes);
    if (!read.ok) throw imageError('rejected', IMAGE_MESSAGES.tooLarge(maxBytes), read.detail);
    const { bytes } = read;
    return this.image(bytes, String(headers['content-type'] ?? ''), fileNameOf(url));
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
  userMessage: string,
  detail: string,
  cause?: unknown,
): VideoServiceError {
  return new VideoServiceError({
    kind,
    userMessage,
    logMessage: `starting image not usable: ${detail}`,
    beforeAnyEvent: true,
    cause,
  });
}
