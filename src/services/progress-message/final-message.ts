import pRetry from 'p-retry';
import type { JobSnapshot } from '../jobs/job.ts';
import type { Logger } from '../logging/logger.ts';
import {
  isDeadToken,
  isInvalidFormBody,
  isMissingPermission,
  isTransient,
  isUploadTooLarge,
} from '../shared/discord-errors.ts';
import type { DownloadedVideo } from '../video-service/download/downloaded-video.ts';
import { NO_PINGS, type OutgoingMessage } from './discord-messages.ts';
import { hasLinkButton, type MessageStyle, renderJob, withLinksInText } from './job-message.ts';

export type WriteMessage = (message: OutgoingMessage, video?: DownloadedVideo) => Promise<unknown>;
export type PostMessage = (message: OutgoingMessage) => Promise<unknown>;
type Delivery = JobSnapshot['delivery'];

/** Where a job's final message goes, as a surface knows it. */
export interface FinalMessageRoute {
  /** Writes the job's message in place; the only write ever given the video file. */
  write: WriteMessage;
  /** New messages to post instead, tried in order, when writing in place keeps failing. */
  fallbacks?: PostMessage[];
  /** Told how the video will be delivered once its upload failed (a link, and why). */
  onUploadFailed?: (delivery: Delivery) => void;
  /** The language to write in, when not the job's own (`request.locale`). */
  locale?: string;
  /** Cards (the default) or text, as configured (`MESSAGE_STYLE`). */
  style?: MessageStyle;
  logger: Logger;
}

/**
 * Sends of a text message that Discord had trouble with are tried again a few times, backing off;
 * a few seconds in all, so a member is not left waiting long before a new message is tried.
 */
const TEXT_RETRIES = { retries: 2, minTimeout: 1_000, factor: 2 } as const;

/** The job's message as sent: in the style configured, pinging no one; `fileName` is the upload's. */
export function outgoing(
  snapshot: JobSnapshot,
  locale = snapshot.request.locale,
  options: { style?: MessageStyle; fileName?: string } = {},
): OutgoingMessage {
  return { ...renderJob(snapshot, locale, options), allowed_mentions: NO_PINGS };
}

/**
 * Posts the final message of a job: with the video as a file when there is one, and with its link
 * when the upload does not go through. Uploads are never retried (a slow one may have been posted
 * after all), so whatever failed it (refused as too large or for a missing permission, a 5xx, a
 * timeout) the member gets the link rather than a message stuck at "fetching". The text message is
 * retried while Discord has trouble, then posted as a new message through `fallbacks`, so the
 * member always ends up seeing how the job ended. A dead interaction token is the caller's to
 * handle: it moves the job elsewhere.
 */
export async function writeFinalMessage(
  route: FinalMessageRoute,
  snapshot: JobSnapshot,
  video: DownloadedVideo | undefined,
  decorate: (message: OutgoingMessage) => OutgoingMessage = (message) => message,
): Promise<Delivery> {
  let delivery = snapshot.delivery;
  if (video) {
    try {
      await sendKeepingLinks(
        route.write,
        decorate(
          outgoing({ ...snapshot, delivery: { kind: 'file' } }, route.locale, {
            style: route.style,
            fileName: video.fileName,
          }),
        ),
        video,
      );
      return { kind: 'file' };
    } catch (error) {
      if (isDeadToken(error)) throw error;
      delivery = linkDeliveryAfter(error);
      route.logger.warn('video_upload_failed', { jobId: snapshot.jobId, why: delivery.why, error });
      route.onUploadFailed?.(delivery);
    }
  }
  await writeText(
    route,
    snapshot.jobId,
    decorate(outgoing({ ...snapshot, delivery }, route.locale, { style: route.style })),
  );
  return delivery;
}

function linkDeliveryAfter(error: unknown): Extract<Delivery, { kind: 'link' }> {
  const refused = isUploadTooLarge(error) || isMissingPermission(error);
  return { kind: 'link', why: refused ? 'upload-refused' : 'upload-failed' };
}

/** In place if Discord lets it, else as a new message, each tried again while Discord has trouble. */
async function writeText(route: FinalMessageRoute, jobId: string, message: OutgoingMessage): Promise<void> {
  let failure: unknown;
  try {
    await withRetries(route, jobId, () => sendKeepingLinks(route.write, message));
    return;
  } catch (error) {
    if (isDeadToken(error) || !route.fallbacks?.length) throw error;
    failure = error;
  }
  for (const [index, post] of route.fallbacks.entries()) {
    route.logger.warn('final_message_posted_anew', { jobId, fallback: index, error: failure });
    try {
      await withRetries(route, jobId, () => sendKeepingLinks(post, message));
      return;
    } catch (error) {
      failure = error;
    }
  }
  throw failure;
}

function withRetries(
  { logger }: FinalMessageRoute,
  jobId: string,
  send: () => Promise<unknown>,
): Promise<unknown> {
  return pRetry(send, {
    ...TEXT_RETRIES,
    shouldRetry: ({ error }) => isTransient(error),
    onFailedAttempt: ({ error, attemptNumber, retriesLeft }) =>
      logger.debug('final_message_attempt_failed', { jobId, attemptNumber, retriesLeft, error }),
  });
}

/**
 * Sends the message; when Discord refuses it as an invalid form and it has a link button (Discord
 * rejects some URLs there that it shows fine in text), sends it again with the links in its text.
 * Sending again is safe even with a file: a refused form means nothing was posted.
 */
async function sendKeepingLinks(
  write: WriteMessage,
  message: OutgoingMessage,
  video?: DownloadedVideo,
): Promise<unknown> {
  try {
    return await write(message, video);
  } catch (error) {
    if (!isInvalidFormBody(error) || !hasLinkButton(message)) throw error;
    return write(withLinksInText(message), video);
  }
}
