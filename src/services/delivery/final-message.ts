import type { DownloadedVideo, JobSnapshot } from '../jobs/job.ts';
import { isMissingPermission, isUploadTooLarge, NO_PINGS, type OutgoingMessage } from './discord-messages.ts';
import { renderJobMessage } from './job-message.ts';

export type WriteMessage = (message: OutgoingMessage, video?: DownloadedVideo) => Promise<unknown>;

export function outgoing(snapshot: JobSnapshot): OutgoingMessage {
  return { ...renderJobMessage(snapshot), allowed_mentions: NO_PINGS };
}

/**
 * Posts the final message of a job through `write`: with the video as a file when there is one,
 * and with its link when Discord refuses the upload (too large, or no Attach Files permission).
 */
export async function writeFinalMessage(
  write: WriteMessage,
  snapshot: JobSnapshot,
  video: DownloadedVideo | undefined,
  decorate: (message: OutgoingMessage) => OutgoingMessage = (message) => message,
): Promise<JobSnapshot['delivery']> {
  if (video) {
    try {
      await write(decorate(outgoing({ ...snapshot, delivery: { kind: 'file' } })), video);
      return { kind: 'file' };
    } catch (error) {
      if (!isUploadTooLarge(error) && !isMissingPermission(error)) throw error;
    }
  }
  const delivery: JobSnapshot['delivery'] = video
    ? { kind: 'link', why: 'upload-refused' }
    : snapshot.delivery;
  await write(decorate(outgoing({ ...snapshot, delivery })));
  return delivery;
}
