import type { APIMessage, RESTAPIMessageReference } from 'discord.js';
import { translatorFor } from '../i18n/translator.ts';
import type { JobSnapshot } from '../jobs/job.ts';
import type { JobSurface, SurfaceLocation } from '../jobs/job-ports.ts';
import type { Logger } from '../logging/logger.ts';
import { isMissingPermission, isUnknownMessage } from '../shared/discord-errors.ts';
import type { DownloadedVideo } from '../video-service/download/downloaded-video.ts';
import { type DiscordMessages, NO_PINGS, type OutgoingMessage } from './discord-messages.ts';
import { type FinalMessageRoute, outgoing, writeFinalMessage } from './final-message.ts';
import { type MessageStyle, noteMessage } from './job-message.ts';
import { MoveListeners } from './move-listeners.ts';

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
  /**
   * Speak the server's language (`request.serverLocale`) rather than the job's: for a job moved
   * here from an interaction, whose messages are now the channel's, not one member's reply.
   */
  inServerLanguage?: boolean;
  /** Cards (the default) or text (`MESSAGE_STYLE`). */
  style?: MessageStyle;
}

/**
 * A job's progress in a channel message the bot owns: not bound to any interaction token. Where
 * the bot may not post at all (no Send Messages, or no access), the job moves to a direct message
 * to the requester, so they are told rather than left waiting for a message that never comes.
 */
export class ChannelMessageSurface implements JobSurface {
  private readonly moves = new MoveListeners();
  readonly uploadLimitBytes: number;
  private messageId: string | undefined;
  private channelId: string;
  private inDirectMessage = false;

  constructor(private readonly options: ChannelMessageSurfaceOptions) {
    this.uploadLimitBytes = options.uploadLimitBytes;
    this.messageId = options.messageId;
    this.channelId = options.channelId;
  }

  onMove(listener: () => void): void {
    this.moves.add(listener);
  }

  location(): SurfaceLocation {
    const { channelId, messageId } = this;
    return { kind: 'channel', channelId, messageId, uploadLimitBytes: this.options.uploadLimitBytes };
  }

  async show(snapshot: JobSnapshot): Promise<void> {
    await this.write(
      snapshot.request.requesterId,
      outgoing(snapshot, this.localeOf(snapshot), { style: this.options.style }),
    );
  }

  private localeOf(snapshot: JobSnapshot): string | undefined {
    const { locale, serverLocale } = snapshot.request;
    return this.options.inServerLanguage ? (serverLocale ?? locale) : locale;
  }

  async finish(snapshot: JobSnapshot, video?: DownloadedVideo): Promise<JobSnapshot['delivery']> {
    const requesterId = snapshot.request.requesterId;
    const { logger } = this.options;
    if (!this.options.pingOnFinish) {
      const route: FinalMessageRoute = {
        write: (message, file) => this.write(requesterId, message, file),
        fallbacks: [(message) => this.postAnew(requesterId, message)],
        locale: this.localeOf(snapshot),
        style: this.options.style,
        logger,
      };
      return writeFinalMessage(route, snapshot, video);
    }
    // Also when no progress message was posted here yet (the job moved at its very end): the
    // result must still ping the requester, who may no longer be watching.
    const progress = this.messageId ? { channelId: this.channelId, messageId: this.messageId } : undefined;
    const delivery = await writeFinalMessage(
      {
        write: (message, file) => this.post(requesterId, message, file),
        locale: this.localeOf(snapshot),
        style: this.options.style,
        logger,
      },
      snapshot,
      video,
      (message) => ({ ...message, allowed_mentions: { parse: [], users: [requesterId] } }),
    );
    if (progress) await this.removeProgressMessage(snapshot, progress);
    return delivery;
  }

  private async write(requesterId: string, message: OutgoingMessage, video?: DownloadedVideo): Promise<void> {
    const { channelId } = this;
    if (!this.messageId) {
      const sent = await this.post(
        requesterId,
        { ...message, message_reference: this.replyReference() },
        video,
      );
      this.messageId = sent.id;
      this.moves.moved();
      return;
    }
    try {
      await this.options.messages.edit(channelId, this.messageId, message, video);
    } catch (error) {
      if (!isUnknownMessage(error)) throw error;
      this.options.logger.info('progress_message_deleted', { channelId, messageId: this.messageId });
      this.messageId = undefined;
      await this.write(requesterId, message, video);
    }
  }

  /** The final message as a new one, for when the progress message cannot be edited; it is the job's message from then on. */
  private async postAnew(requesterId: string, message: OutgoingMessage): Promise<void> {
    const sent = await this.post(requesterId, { ...message, message_reference: this.replyReference() });
    this.messageId = sent.id;
    this.moves.moved();
  }

  private replyReference(): RESTAPIMessageReference | undefined {
    const { replyTo } = this.options;
    return replyTo
      ? { message_id: replyTo, channel_id: this.channelId, fail_if_not_exists: false }
      : undefined;
  }

  /** A new message here, or in the requester's DMs when the bot may not post here. */
  private async post(
    requesterId: string,
    message: OutgoingMessage,
    video?: DownloadedVideo,
  ): Promise<APIMessage> {
    const { messages, logger } = this.options;
    try {
      return await messages.send(this.channelId, message, video);
    } catch (error) {
      // With a file, a missing Attach Files permission is the link fallback's to handle.
      if (video || this.inDirectMessage || !isMissingPermission(error)) throw error;
      logger.warn('cannot_post_in_channel', { channelId: this.channelId, error });
      this.channelId = await messages.openDirectMessage(requesterId);
      this.inDirectMessage = true;
      this.messageId = undefined;
      return messages.send(this.channelId, { ...message, message_reference: undefined });
    }
  }

  /** The result now stands in its own message; the progress one would only repeat it. */
  private async removeProgressMessage(
    snapshot: JobSnapshot,
    { channelId, messageId }: { channelId: string; messageId: string },
  ): Promise<void> {
    const t = translatorFor(this.localeOf(snapshot));
    const summary = noteMessage(
      t('job.finishedBelow', { state: t(`job.state.${snapshot.state}`) }),
      this.options.style,
    );
    try {
      await this.options.messages.edit(channelId, messageId, { ...summary, allowed_mentions: NO_PINGS });
    } catch (error) {
      this.options.logger.debug('progress_message_cleanup_failed', { error });
    }
  }
}
