import { type Message, MessageFlags, type RepliableInteraction } from 'discord.js';
import { memberContextOf, requesterOfMessage } from '../../commands/input/requester.ts';
import type { Admission, JobAdmission, JobAsk } from '../jobs/job.ts';
import type { JobRunner } from '../jobs/job-runner.ts';
import type { Logger } from '../logging/logger.ts';
import { type DiscordMessages, replyOrDirectMessage } from '../progress-message/discord-messages.ts';
import { surfaceAt } from '../progress-message/surfaces.ts';
import type { Requester } from '../quotas/quota-rules.ts';

export interface JobIntakeOptions {
  runner: JobRunner;
  messages: DiscordMessages;
  logger: Logger;
  admission: JobAdmission;
  /** Discord's interaction token lifetime (15 minutes; shorter in tests). */
  tokenLifetimeMs: number;
}

const RESTARTING = 'The bot is restarting right now. Please try again in a minute.';

/** Used where Discord does not say (messages carry no attachment_size_limit). */
export const DEFAULT_UPLOAD_LIMIT_BYTES = 10 * 1024 * 1024;

/**
 * Where every front door hands over: it admits the request (quotas, channel rules), picks the
 * surface the progress will live on, and submits the job. One pipeline, several front doors.
 */
export class JobIntake {
  /** The last upload limit Discord told us per guild, for messages that do not carry one. */
  private readonly uploadLimits = new Map<string, number>();

  constructor(private readonly options: JobIntakeOptions) {}

  /** For an interaction the caller has already deferred publicly. */
  async startFromInteraction(interaction: RepliableInteraction, ask: JobAsk): Promise<void> {
    const admission = await this.admit(ask, memberContextOf(interaction));
    if (!admission.ok) {
      await interaction.deleteReply().catch(() => undefined);
      await interaction.followUp({
        content: admission.message,
        flags: MessageFlags.Ephemeral,
        allowedMentions: { parse: [] },
      });
      return;
    }
    const { request } = admission;
    const uploadLimitBytes = interaction.attachmentSizeLimit || DEFAULT_UPLOAD_LIMIT_BYTES;
    if (request.guildId) this.uploadLimits.set(request.guildId, uploadLimitBytes);
    const { tokenLifetimeMs } = this.options;
    const expiresAt = interaction.createdTimestamp + tokenLifetimeMs;
    const margin = handoverMargin(tokenLifetimeMs);
    const surface = surfaceAt(
      {
        kind: 'interaction',
        applicationId: interaction.applicationId,
        token: interaction.token,
        channelId: request.channelId,
        // Progress moves a margin before expiry; the token stays usable for half of it more, so
        // the reply can still say where the job went, and nothing is ever sent near the expiry.
        handOverAt: expiresAt - margin,
        usableUntil: expiresAt - Math.floor(margin / 2),
        uploadLimitBytes,
      },
      this.options,
    );
    this.options.runner.submit(request, { surface, charge: admission.charge });
  }

  /** For a chat message: the progress lives in the bot's reply to it. */
  async startFromMessage(message: Message, ask: JobAsk): Promise<void> {
    const admission = await this.admit(ask, requesterOfMessage(message));
    if (!admission.ok) {
      await replyOrDirectMessage(message, admission.message);
      return;
    }
    const { request } = admission;
    const location = {
      kind: 'channel',
      channelId: message.channelId,
      uploadLimitBytes: this.uploadLimitFor(request.guildId),
    } as const;
    const surface = surfaceAt(location, this.options, { replyTo: message.id });
    this.options.runner.submit(request, { surface, charge: admission.charge });
  }

  uploadLimitFor(guildId: string | null): number {
    return (guildId && this.uploadLimits.get(guildId)) || DEFAULT_UPLOAD_LIMIT_BYTES;
  }

  private async admit(ask: JobAsk, requester: Requester): Promise<Admission> {
    if (!this.options.runner.accepting) return { ok: false, message: RESTARTING };
    return this.options.admission.admit(ask, requester);
  }
}

/** Leave a minute before the token dies (less when the lifetime is scaled down in tests). */
function handoverMargin(tokenLifetimeMs: number): number {
  return Math.min(60_000, Math.floor(tokenLifetimeMs / 10));
}
