import type { Dispatcher } from 'undici';
import { type MemberText, memberText } from '../../i18n/member-text.ts';
import { isRefusalStatus } from '../never-sent.ts';
import { describeCreateFailure, excerpt, serviceMessageOf } from '../service-error-text.ts';
import type { ServiceTextRedaction } from '../service-text-redaction.ts';
import { VideoServiceError } from '../video-provider.ts';

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

/** The same, as message keys: what the member reads, in their language. */
export const RELAY_MEMBER_TEXTS: Record<keyof typeof RELAY_USER_MESSAGES, MemberText> = {
  auth: memberText('failure.service.auth'),
  rateLimited: memberText('failure.service.rateLimited'),
  unreachable: memberText('failure.service.unreachable'),
  connectionLost: memberText('failure.service.connectionLost'),
  stalled: memberText('failure.service.stalled'),
  timeout: memberText('failure.service.timeout'),
  unreadable: memberText('failure.service.unreadable'),
};

/**
 * An HTTP error answer turned into a VideoServiceError. A refusal (429, 4xx) made no video, so it
 * may be sent again; a 5xx may come from a relay that took the request and then failed, and may
 * have billed it, so it is not.
 */
export async function httpErrorOf(
  response: Dispatcher.ResponseData,
  redaction: ServiceTextRedaction,
): Promise<VideoServiceError> {
  const status = response.statusCode;
  const body = redaction.withoutSecrets(await readBounded(response.body, MAX_ERROR_BODY_BYTES));
  const said = serviceMessageOf(body);
  // Every relay answer is to the create itself (the stream is the job).
  const { kind, userMessage, memberText } = describeCreateFailure(status, said, body);
  return new VideoServiceError({
    kind,
    userMessage,
    memberText,
    status,
    beforeAnyEvent: isRefusalStatus(status),
    logMessage: `video service answered HTTP ${status}: ${excerpt(body)}`,
  });
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
