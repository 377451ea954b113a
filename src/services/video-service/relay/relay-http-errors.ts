import type { Dispatcher } from 'undici';
import { excerpt, serviceMessageOf } from '../service-error-text.ts';
import type { ServiceTextRedaction } from '../service-text-redaction.ts';
import { VideoServiceError, type VideoServiceErrorKind } from '../video-provider.ts';

const MAX_ERROR_BODY_BYTES = 8 * 1024;

/** What members are told when the relay fails; the relay's own words are added where they help. */
export const RELAY_USER_MESSAGES = {
  auth: "The video service rejected the bot's credentials, or the bot's balance there is empty. Please tell the bot's owner.",
  rateLimited: 'The video service is busy right now. Please try again in a minute.',
  unreachable: 'The bot could not reach the video service. Please try again in a few minutes.',
  connectionLost: 'The connection to the video service was lost while the video was being made.',
  stalled: 'The video service stopped responding while the video was being made.',
  timeout: 'The video took too long to make, so the bot stopped waiting.',
  unreadable: 'The video service sent a reply the bot could not read.',
} as const;

/** An HTTP error answer turned into a VideoServiceError: nothing had started, so it may be retried. */
export async function httpErrorOf(
  response: Dispatcher.ResponseData,
  redaction: ServiceTextRedaction,
): Promise<VideoServiceError> {
  const status = response.statusCode;
  const body = redaction.withoutSecrets(await readBounded(response.body, MAX_ERROR_BODY_BYTES));
  const said = serviceMessageOf(body);
  const { kind, userMessage } = describeHttpFailure(status, said);
  return new VideoServiceError({
    kind,
    userMessage,
    status,
    beforeAnyEvent: true,
    logMessage: `video service answered HTTP ${status}: ${excerpt(body)}`,
  });
}

function describeHttpFailure(
  status: number,
  said: string | undefined,
): { kind: VideoServiceErrorKind; userMessage: string } {
  if (status === 401 || status === 403) return { kind: 'auth', userMessage: RELAY_USER_MESSAGES.auth };
  if (status === 429) return { kind: 'rate_limited', userMessage: RELAY_USER_MESSAGES.rateLimited };
  if (status >= 500) {
    const detail = said ? ` (it said: ${said})` : '';
    return {
      kind: 'unavailable',
      userMessage: `The video service is having trouble right now${detail}. Please try again later.`,
    };
  }
  const detail = said ? `: ${said}` : '.';
  return { kind: 'rejected', userMessage: `The video service refused this request${detail}` };
}

export async function readBounded(body: Dispatcher.ResponseData['body'], maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= maxBytes) break;
  }
  return Buffer.concat(chunks).subarray(0, maxBytes).toString('utf8');
}
