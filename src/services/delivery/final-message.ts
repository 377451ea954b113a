import type { DownloadedVideo, JobSnapshot } from '../jobs/job.ts';
import {
  isDeadToken,
  isMissingPermission,
  isUploadTooLarge,
  NO_PINGS,
  type OutgoingMessage,
} from './discord-messages.ts';
import { renderJobMessage } from './job-message.ts';

export type WriteMessage = (message: OutgoingMessage, video?: DownloadedVideo) => Promise<unknown>;

export function outgoing(snapshot: JobSnapshot): OutgoingMessage {
  return { ...renderJobMessage(snapshot), allowed_mentions: NO_PINGS };
}

/**
 * Posts the final message of a job through `write`: with the video as a file when there is one,
 * and with its link when the upload does not go through. Uploads are never retried (a slow one
 * may have been posted after all), so whatever failed it (refused as too large or for a missing
 * permission, a 5xx, a timeout) the member gets the link rather than a message stuck at
 * "fetching". A dead interaction token is the caller's to handle: it moves the job elsewhere.
 */
export async function writeFinalMessage(
  write: WriteMessage,
  snapshot: JobSnapshot,
  video: DownloadedVideo | undefined,
  decorate: (message: OutgoingMessage) => OutgoingMessage = (message) => message,
): Promise<JobSnapshot['delivery']> {
  let delivery = snapshot.delivery;
  if (video) {
    try {
      await write(decorate(outgoing({ ...snapshot, delivery: { kind: 'file' } })), video);
      return { kind: 'file' };
    } catch (error) {
      if (isDeadToken(error)) throw error;
      const refused = isUploadTooLarge(error) || isMissingPermission(error);
      delivery = { kind: 'link', why: refused ? 'upload-refused' : 'upload-failed' };
    }
  }
  await write(decorate(outgoing({ ...snapshot, delivery })));
  return delivery;
}
