import type { Dispatcher } from 'undici';
import { type MemberText, memberText } from '../../i18n/member-text.ts';
import { english } from '../../i18n/translator.ts';
import { isRefusalStatus } from '../never-sent.ts';
import { describeCreateFailure, excerpt, serviceMessageOf } from '../service-error-text.ts';
import type { ServiceTextRedaction } from '../service-text-redaction.ts';
import { VideoServiceError } from '../video-provider.ts';

const MAX_ERROR_BODY_BYTES = 8 * 1024;

/**
 * What members are told when the relay fails, as message keys read in their language; the relay's
 * own words are added where they help.
 */
export const RELAY_MEMBER_TEXTS = {
  auth: memberText('failure.service.auth'),
  rateLimited: memberText('failure.service.rateLimited'),
  unreachable: memberText('failure.service.unreachable'),
  connectionLost: memberText('failure.service.connectionLost'),
  stalled: memberText('failure.service.stalled'),
  timeout: memberText('failure.service.timeout'),
  unreadable: memberText('failure.service.unreadable'),
} satisfies Record<string, MemberText>;

/** The same in English (logs, the CLI, the error's message), from en-US.json: one copy of each text. */
export const RELAY_USER_MESSAGES = Object.fromEntries(
  Object.entries(RELAY_MEMBER_TEXTS).map(([name, text]) => [name, english.text(text)]),
) as Record<keyof typeof RELAY_MEMBER_TEXTS, string>;

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
