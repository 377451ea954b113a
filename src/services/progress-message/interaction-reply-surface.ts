import { translatorFor } from '../i18n/translator.ts';
import type { JobSnapshot } from '../jobs/job.ts';
import type { JobSurface, SurfaceLocation } from '../jobs/job-ports.ts';
import type { Logger } from '../logging/logger.ts';
import { isDeadToken } from '../shared/discord-errors.ts';
import type { DownloadedVideo } from '../video-service/download/downloaded-video.ts';
import { type DiscordMessages, NO_PINGS, type OutgoingMessage } from './discord-messages.ts';
import { type FinalMessageRoute, outgoing, writeFinalMessage } from './final-message.ts';
import { type MessageStyle, noteMessage } from './job-message.ts';
import { MoveListeners } from './move-listeners.ts';

export interface InteractionReplySurfaceOptions {
  messages: DiscordMessages;
  applicationId: string;
  token: string;
  channelId: string;
  /** When progress moves to a channel message (default `usableUntil`). */
  handOverAt?: number;
  /** When the bot stops using the token: a margin before Discord's 15 minutes run out. */
  usableUntil: number;
  /** The reply's message id, when an earlier run learnt it. */
  messageId?: string;
  uploadLimitBytes: number;
  logger: Logger;
  /** Cards (the default) or text (`MESSAGE_STYLE`). */
  style?: MessageStyle;
  /** Where the job continues once the token can no longer be used. */
  openFallback: () => JobSurface | Promise<JobSurface>;
  /**
   * A member's own install where the bot is not: the fallback is their DMs, and nothing is ever
   * sent to the channel (or read from it) with the bot's token.
   */
  directMessageTo?: string;
}

/**
 * A job's progress in the (deferred) reply to an interaction. The token behind it dies after 15
 * minutes, or earlier when Discord says so; the job then moves to a channel message the bot owns,
 * and no request is ever sent with a token known to be dead or past `usableUntil`.
 *
 * The move happens at `handOverAt`, a little before `usableUntil`, so the reply can still be told
 * through the token where the job went. When the token is already dead, the reply is edited with
 * the bot's own token instead (it is the bot's message), so it is not left showing progress and a
 * Cancel button forever.
 */
export class InteractionReplySurface implements JobSurface {
  private readonly moves = new MoveListeners();
  readonly uploadLimitBytes: number;
  private fallback: JobSurface | undefined;
  private handingOver: Promise<void> | undefined;
  private tokenDead = false;
  private messageId: string | undefined;

  constructor(private readonly options: InteractionReplySurfaceOptions) {
    this.uploadLimitBytes = options.uploadLimitBytes;
    this.messageId = options.messageId;
  }

  onMove(listener: () => void): void {
    this.moves.add(listener);
  }

  location(): SurfaceLocation {
    if (this.fallback) return this.fallback.location();
    const { applicationId, token, handOverAt, usableUntil, channelId, uploadLimitBytes, directMessageTo } =
      this.options;
    const { messageId } = this;
    return {
      kind: 'interaction',
      applicationId,
      token,
      handOverAt,
      usableUntil,
      channelId,
      messageId,
      uploadLimitBytes,
      ...(directMessageTo ? { directMessageTo } : {}),
    };
  }

  show(snapshot: JobSnapshot): Promise<void> {
    return this.viaTokenOrFallback(
      async () => {
        await this.editReply(outgoing(snapshot, undefined, { style: this.options.style }));
      },
      (fallback) => fallback.show(snapshot),
      snapshot,
    );
  }

  finish(snapshot: JobSnapshot, video?: DownloadedVideo): Promise<JobSnapshot['delivery']> {
    // Once an upload failed it may still have landed, so the fallback gets the link, never the file.
    let remaining = { snapshot, video };
    const { applicationId, token, channelId, messages, logger } = this.options;
    const route: FinalMessageRoute = {
      write: (message, file) => this.editReply(message, file),
      fallbacks: [
        (message) => messages.followUp(applicationId, token, message),
        // Where the bot is not a member, the channel is closed to it.
        ...(this.options.directMessageTo
          ? []
          : [(message: OutgoingMessage) => messages.send(channelId, message)]),
      ],
      onUploadFailed: (delivery) => {
        remaining = { snapshot: { ...snapshot, delivery }, video: undefined };
      },
      style: this.options.style,
      logger,
    };
    return this.viaTokenOrFallback(
      () => writeFinalMessage(route, snapshot, video),
      (fallback) => fallback.finish(remaining.snapshot, remaining.video),
      snapshot,
    );
  }

  private tokenUsable(): boolean {
    return !this.tokenDead && Date.now() < this.options.usableUntil;
  }

  private handOverDue(): boolean {
    return !this.tokenUsable() || Date.now() >= (this.options.handOverAt ?? this.options.usableUntil);
  }

  private async viaTokenOrFallback<T>(
    viaToken: () => Promise<T>,
    viaFallback: (fallback: JobSurface) => Promise<T>,
    snapshot: JobSnapshot,
  ) {
    if (!this.fallback && !this.handOverDue()) {
      try {
        return await viaToken();
      } catch (error) {
        if (!isDeadToken(error)) throw error;
        this.tokenDead = true;
        this.options.logger.warn('interaction_token_dead', { error });
      }
    }
    if (!this.fallback) {
      this.handingOver ??= this.handOver(snapshot);
      await this.handingOver;
    }
    return viaFallback(this.fallback as unknown as JobSurface);
  }

  /** The reply says where the job went, in the language of the member it answers. */
  private async handOver(snapshot: JobSnapshot): Promise<void> {
    const { directMessageTo } = this.options;
    let fallback: JobSurface;
    try {
      fallback = await this.options.openFallback();
    } catch (error) {
      // Tried again on the next update; the reply is left as it is meanwhile.
      this.handingOver = undefined;
      throw error;
    }
    this.fallback = fallback;
    fallback.onMove(() => this.moves.moved());
    this.moves.moved();
    this.options.logger.info(
      directMessageTo ? 'progress_moved_to_direct_message' : 'progress_moved_to_channel_message',
      { jobId: snapshot.jobId, tokenDead: this.tokenDead },
    );
    const note: OutgoingMessage = {
      ...noteMessage(
        translatorFor(snapshot.request.locale)(
          directMessageTo ? 'job.handoverDirectMessage' : 'job.handover',
        ),
        this.options.style,
      ),
      allowed_mentions: NO_PINGS,
    };
    if (this.tokenUsable()) {
      try {
        await this.editReply(note);
        return;
      } catch (error) {
        this.options.logger.debug('handover_note_failed', { error });
        if (!isDeadToken(error)) return;
        this.tokenDead = true;
      }
    }
    // The bot's own token reaches only channels it is in.
    if (!this.messageId || directMessageTo) return;
    try {
      await this.options.messages.edit(this.options.channelId, this.messageId, note);
    } catch (error) {
      this.options.logger.debug('handover_note_failed', { error, viaBotToken: true });
    }
  }

  private async editReply(message: OutgoingMessage, video?: DownloadedVideo): Promise<void> {
    const sent = await this.options.messages.editInteractionReply(
      this.options.applicationId,
      this.options.token,
      message,
      video,
    );
    if (sent.id === this.messageId) return;
    this.messageId = sent.id;
    this.moves.moved();
  }
}
