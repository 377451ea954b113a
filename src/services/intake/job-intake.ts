import { type MemberText, memberText } from '../i18n/member-text.ts';
import type { JobAsk } from '../jobs/job.ts';
import { STORE_DOWN } from '../jobs/job-admission.ts';
import type { JobAdmission, JobDispatch } from '../jobs/job-ports.ts';
import type { Logger } from '../logging/logger.ts';
import type { DiscordMessages } from '../progress-message/discord-messages.ts';
import { interactionTokenWindow } from '../progress-message/interaction-token-window.ts';
import type { MessageStyle } from '../progress-message/job-message.ts';
import { surfaceAt } from '../progress-message/surfaces.ts';
import type { Requester } from '../quotas/requester.ts';

export interface JobIntakeOptions {
  /** This process's runner, or the cluster's queue. */
  jobs: JobDispatch;
  messages: DiscordMessages;
  logger: Logger;
  admission: JobAdmission;
  /** Discord's interaction token lifetime (15 minutes; shorter in tests). */
  tokenLifetimeMs: number;
  /** How job messages look (`MESSAGE_STYLE`). */
  style?: MessageStyle;
}

/**
 * What the front door replies to, as it knows it (ids only): not yet a location. The intake turns
 * it into the job's `SurfaceLocation`, the usable-until times worked out from `createdAt`.
 */
export type ReplyTarget =
  | {
      /** The deferred reply to an interaction. */
      kind: 'interaction-reply';
      applicationId: string;
      token: string;
      /** When Discord created the interaction: its token dies a fixed time after. */
      createdAt: number;
      channelId: string;
      /** Discord's upload limit for this interaction, when it said. */
      uploadLimitBytes?: number;
      /** A member's own install where the bot is not: past the token the job goes to their DMs. */
      directMessageTo?: string;
    }
  | {
      /** The bot's reply to a chat message. */
      kind: 'chat-reply';
      channelId: string;
      replyTo: string;
    };

export type IntakeResult =
  | { ok: true; jobId: string }
  | { ok: false; message: MemberText | string; premiumSkuIds?: string[] };

export const RESTARTING: MemberText = memberText('error.restarting');

/** Used where Discord does not say (messages carry no attachment_size_limit). */
export const DEFAULT_UPLOAD_LIMIT_BYTES = 10 * 1024 * 1024;

/**
 * Where every front door hands over: it admits the request (quotas, channel rules), chooses where
 * the progress will live, and submits the job. One pipeline, several front doors; a refusal goes
 * back to the front door, which knows how to tell the member.
 */
export class JobIntake {
  /** The last upload limit Discord told us per guild, for messages that do not carry one. */
  private readonly uploadLimits = new Map<string, number>();
  private closed = false;

  constructor(private readonly options: JobIntakeOptions) {}

  /** Shutdown began: new requests are told the bot is restarting. */
  close(): void {
    this.closed = true;
  }

  async start(ask: JobAsk, requester: Requester, target: ReplyTarget): Promise<IntakeResult> {
    if (this.closed) return { ok: false, message: RESTARTING };
    const admission = await this.options.admission.admit(ask, requester);
    if (!admission.ok) return admission;
    const { request, charge } = admission;
    const surface = surfaceAt(this.locationFor(target, request.guildId), this.options, {
      replyTo: target.kind === 'chat-reply' ? target.replyTo : undefined,
    });
    try {
      const jobId = await this.options.jobs.submit(request, { surface, charge });
      return { ok: true, jobId };
    } catch (error) {
      // Not handed on (the queue's Redis is away): nothing will run, so nothing stays reserved.
      this.options.logger.warn('job_submit_failed', { jobId: charge?.reservation.jobId, error });
      await charge?.release().catch(() => undefined);
      return { ok: false, message: STORE_DOWN };
    }
  }

  private locationFor(target: ReplyTarget, guildId: string | null) {
    if (target.kind === 'chat-reply') {
      const uploadLimitBytes = (guildId && this.uploadLimits.get(guildId)) || DEFAULT_UPLOAD_LIMIT_BYTES;
      return { kind: 'channel', channelId: target.channelId, uploadLimitBytes } as const;
    }
    const uploadLimitBytes = target.uploadLimitBytes || DEFAULT_UPLOAD_LIMIT_BYTES;
    if (guildId) this.uploadLimits.set(guildId, uploadLimitBytes);
    return {
      kind: 'interaction',
      applicationId: target.applicationId,
      token: target.token,
      channelId: target.channelId,
      ...interactionTokenWindow(target.createdAt, this.options.tokenLifetimeMs),
      uploadLimitBytes,
      ...(target.directMessageTo ? { directMessageTo: target.directMessageTo } : {}),
    } as const;
  }
}
