import type { DownloadedVideo, JobSnapshot, JobSurface, SurfaceLocation } from '../jobs/job.ts';
import type { Logger } from '../logger.ts';
import { type DiscordMessages, isDeadToken, NO_PINGS } from './discord-messages.ts';
import { outgoing, writeFinalMessage } from './final-message.ts';

export interface InteractionReplySurfaceOptions {
  messages: DiscordMessages;
  applicationId: string;
  token: string;
  channelId: string;
  /** When the bot stops using the token: a margin before Discord's 15 minutes run out. */
  usableUntil: number;
  uploadLimitBytes: number;
  logger: Logger;
  /** Where the job continues once the token can no longer be used. */
  openFallback: () => JobSurface;
}

/**
 * A job's progress in the (deferred) reply to an interaction. The token behind it dies after 15
 * minutes, or earlier when Discord says so; the job then moves to a channel message the bot owns,
 * and no request is ever sent with a token known to be dead.
 */
export class InteractionReplySurface implements JobSurface {
  readonly uploadLimitBytes: number;
  private fallback: JobSurface | undefined;
  private tokenDead = false;

  constructor(private readonly options: InteractionReplySurfaceOptions) {
    this.uploadLimitBytes = options.uploadLimitBytes;
  }

  location(): SurfaceLocation {
    if (this.fallback) return this.fallback.location();
    const { applicationId, token, usableUntil, channelId, uploadLimitBytes } = this.options;
    return { kind: 'interaction', applicationId, token, usableUntil, channelId, uploadLimitBytes };
  }

  show(snapshot: JobSnapshot): Promise<void> {
    return this.viaTokenOrFallback(
      async () => {
        await this.editReply(outgoing(snapshot));
      },
      (fallback) => fallback.show(snapshot),
    );
  }

  finish(snapshot: JobSnapshot, video?: DownloadedVideo): Promise<JobSnapshot['delivery']> {
    return this.viaTokenOrFallback(
      () => writeFinalMessage((message, file) => this.editReply(message, file), snapshot, video),
      (fallback) => fallback.finish(snapshot, video),
    );
  }

  private tokenUsable(): boolean {
    return !this.tokenDead && Date.now() < this.options.usableUntil;
  }

  private async viaTokenOrFallback<T>(
    viaToken: () => Promise<T>,
    viaFallback: (fallback: JobSurface) => Promise<T>,
  ) {
    if (!this.fallback && this.tokenUsable()) {
      try {
        return await viaToken();
      } catch (error) {
        if (!isDeadToken(error)) throw error;
        this.tokenDead = true;
        this.options.logger.warn('interaction_token_dead', { error });
      }
    }
    if (!this.fallback) await this.handOver();
    return viaFallback(this.fallback as JobSurface);
  }

  private async handOver(): Promise<void> {
    this.fallback = this.options.openFallback();
    this.options.logger.info('progress_moved_to_channel_message', { tokenDead: this.tokenDead });
    if (!this.tokenUsable()) return;
    try {
      await this.editReply({
        content: '⤵️ This video is taking a while: its progress continues in a new message below.',
        components: [],
        allowed_mentions: NO_PINGS,
      });
    } catch (error) {
      this.options.logger.debug('handover_note_failed', { error });
    }
  }

  private editReply(
    message: Parameters<DiscordMessages['editInteractionReply']>[2],
    video?: DownloadedVideo,
  ) {
    return this.options.messages.editInteractionReply(
      this.options.applicationId,
      this.options.token,
      message,
      video,
    );
  }
}
