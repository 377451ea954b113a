import type { DownloadedVideo, JobSnapshot, JobSurface, SurfaceLocation } from '../jobs/job.ts';
import type { Logger } from '../logger.ts';
import { type DiscordMessages, isUnknownMessage, type OutgoingMessage } from './discord-messages.ts';
import { outgoing, writeFinalMessage } from './final-message.ts';

export interface ChannelMessageSurfaceOptions {
  messages: DiscordMessages;
  channelId: string;
  uploadLimitBytes: number;
  logger: Logger;
  /** Continue in an existing message of the bot's instead of posting a new one. */
  messageId?: string;
  /** Post the first message as a reply to this one (without pinging its author). */
  replyTo?: string;
  /**
   * Deliver the result as a new message that pings the requester: used when a job moved here
   * from an expired interaction and the member may no longer be watching.
   */
  pingOnFinish?: boolean;
}

/** A job's progress in a channel message the bot owns: not bound to any interaction token. */
export class ChannelMessageSurface implements JobSurface {
  readonly uploadLimitBytes: number;
  private messageId: string | undefined;

  constructor(private readonly options: ChannelMessageSurfaceOptions) {
    this.uploadLimitBytes = options.uploadLimitBytes;
    this.messageId = options.messageId;
  }

  location(): SurfaceLocation {
    const { channelId, uploadLimitBytes } = this.options;
    return { kind: 'channel', channelId, messageId: this.messageId, uploadLimitBytes };
  }

  async show(snapshot: JobSnapshot): Promise<void> {
    await this.write(outgoing(snapshot));
  }

  async finish(snapshot: JobSnapshot, video?: DownloadedVideo): Promise<JobSnapshot['delivery']> {
    if (!this.options.pingOnFinish) {
      return writeFinalMessage((message, file) => this.write(message, file), snapshot, video);
    }
    // Also when no progress message was posted here yet (the job moved at its very end): the
    // result must still ping the requester, who may no longer be watching.
    const progressMessageId = this.messageId;
    const requesterId = snapshot.request.requesterId;
    const delivery = await writeFinalMessage(
      (message, file) => this.options.messages.send(this.options.channelId, message, file),
      snapshot,
      video,
      (message) => ({ ...message, allowed_mentions: { parse: [], users: [requesterId] } }),
    );
    if (progressMessageId) await this.removeProgressMessage(snapshot, progressMessageId);
    return delivery;
  }

  private async write(message: OutgoingMessage, video?: DownloadedVideo): Promise<void> {
    const { messages, channelId, replyTo } = this.options;
    if (!this.messageId) {
      const reference = replyTo
        ? { message_id: replyTo, channel_id: channelId, fail_if_not_exists: false }
        : undefined;
      const sent = await messages.send(channelId, { ...message, message_reference: reference }, video);
      this.messageId = sent.id;
      return;
    }
    try {
      await messages.edit(channelId, this.messageId, message, video);
    } catch (error) {
      if (!isUnknownMessage(error)) throw error;
      this.options.logger.info('progress_message_deleted', { channelId, messageId: this.messageId });
      this.messageId = undefined;
      await this.write(message, video);
    }
  }

  /** The result now stands in its own message; the progress one would only repeat it. */
  private async removeProgressMessage(snapshot: JobSnapshot, messageId: string): Promise<void> {
    const summary = { content: `-# Finished below ⤵️ (${snapshot.state}).`, components: [] };
    try {
      await this.options.messages.edit(this.options.channelId, messageId, {
        ...summary,
        allowed_mentions: outgoing(snapshot).allowed_mentions,
      });
    } catch (error) {
      this.options.logger.debug('progress_message_cleanup_failed', { error });
    }
  }
}
