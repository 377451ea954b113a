import { type APIMessage, type REST, Routes } from 'discord.js';
import type { JobRecord } from '../jobs/job-records.ts';
import { JOB_BUTTON } from '../shared/custom-ids.ts';
import { allComponents, visibleText } from './job-card.ts';

const RECENT_MESSAGES = 50;

/**
 * After a crash during an upload, whether the video reached the member: the job's own message (or,
 * when the result went out as a new message, a recent one of the channel carrying the job's
 * Regenerate button) holds the mp4 or the video's link.
 */
export class PostedVideoCheck {
  constructor(private readonly rest: REST) {}

  async isPosted(record: JobRecord, now = Date.now()): Promise<boolean> {
    const messages = await this.candidates(record, now);
    return messages.some((message) => showsVideo(message, record));
  }

  private async candidates(record: JobRecord, now: number): Promise<APIMessage[]> {
    const { location } = record;
    const found: APIMessage[] = [];
    const add = async (read: () => Promise<unknown>) => {
      const answer = await read().catch(() => undefined);
      if (Array.isArray(answer)) found.push(...(answer as APIMessage[]));
      else if (answer) found.push(answer as APIMessage);
    };
    if (location.kind === 'interaction' && now < location.usableUntil) {
      await add(() =>
        this.rest.get(Routes.webhookMessage(location.applicationId, location.token, '@original'), {
          auth: false,
        }),
      );
    }
    // Where only the member's own install reaches, the channel is not the bot's to read.
    const inChannel = !(location.kind === 'interaction' && location.directMessageTo);
    if (location.messageId && inChannel)
      await add(() => this.rest.get(Routes.channelMessage(location.channelId, location.messageId as string)));
    const query = new URLSearchParams({ limit: String(RECENT_MESSAGES) });
    if (inChannel) await add(() => this.rest.get(Routes.channelMessages(location.channelId), { query }));
    return found.filter((message) => message.id === location.messageId || carriesJob(message, record.id));
  }
}

/** Its Regenerate button, in a row of a text message or anywhere in a card. */
function carriesJob(message: APIMessage, jobId: string): boolean {
  return allComponents(message.components).some(
    (component) => component.custom_id === `${JOB_BUTTON.retry}:${jobId}`,
  );
}

function showsVideo(message: APIMessage, record: JobRecord): boolean {
  if (message.attachments.some((file) => /\.mp4$/i.test(file.filename))) return true;
  return !!record.videoUrl && visibleText(message).includes(record.videoUrl);
}
