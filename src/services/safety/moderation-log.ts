import { channelMention, userMention } from '@discordjs/formatters';
import { type APIChannel, DiscordAPIError, type REST, Routes } from 'discord.js';
import type { Catalogue } from '../catalogue/catalogue.ts';
import type { MemberText } from '../i18n/member-text.ts';
import { type Translator, translatorFor } from '../i18n/translator.ts';
import { isFinal, type JobAsk, type JobSnapshot } from '../jobs/job.ts';
import type { SurfaceLocation } from '../jobs/job-ports.ts';
import type { JobUpdate } from '../jobs/job-runner.ts';
import type { Logger } from '../logging/logger.ts';
import type { VideoSettings } from '../settings/video-settings.ts';
import { plainText } from '../shared/plain-text.ts';
import type { RefusalReason } from './safety-policy.ts';
import type { SafetySettings } from './safety-settings.ts';

/**
 * The moderation log: one message per job event in the channel a server's admins chose, for
 * moderators to read who made what. It needs only REST, so whichever process runs a job (a queue
 * worker included) posts that job's events. It never holds a job up: a post that fails is logged
 * and dropped, and a channel the bot cannot post in is reported once to the admin who chose it.
 */

export type ModerationEventKind =
  | 'started'
  | 'delivered'
  | 'failed'
  | 'cancelled'
  | 'content-filter'
  | 'interrupted'
  | 'refused';

interface ModerationEntry {
  kind: ModerationEventKind;
  jobId?: string;
  request: Pick<JobAsk, 'requesterId' | 'guildId' | 'channelId' | 'prompt' | 'model' | 'durationSeconds'> & {
    serverLocale?: string;
  };
  /** The delivered message, as a jump link. */
  link?: string;
  refusal?: RefusalReason;
}

export interface ModerationLogOptions {
  rest: REST;
  safety: SafetySettings;
  settings: VideoSettings;
  catalogue: Catalogue;
  logger: Logger;
}

/** What the providers' content filters say when they refuse a video (see the providers). */
const CONTENT_FILTER_KEYS: ReadonlySet<string> = new Set([
  'failure.service.contentFilter',
  'failure.service.moderated',
]);
/** Far above any process's running jobs (MAX_CONCURRENT_JOBS, WORKER_CONCURRENCY). */
const MAX_TRACKED_JOBS = 10_000;
/** A Discord message holds 2,000 characters; the rest of an entry takes well under 500. */
const PROMPT_LENGTH = 1_400;

const TITLES: Record<ModerationEventKind, string> = {
  started: 'moderation.started',
  delivered: 'moderation.delivered',
  failed: 'moderation.failed',
  cancelled: 'moderation.cancelled',
  'content-filter': 'moderation.contentFilter',
  interrupted: 'moderation.interrupted',
  refused: 'moderation.refused',
};

const REFUSAL_KEYS: Record<RefusalReason, string> = {
  'blocked-member': 'moderation.why.blockedMember',
  'age-restricted': 'moderation.why.ageRestricted',
  'blocked-word': 'moderation.why.blockedWord',
};

export class ModerationLog {
  /** Jobs whose start this process has logged, and where their message was last seen. */
  private readonly running = new Map<string, { location?: SurfaceLocation; posted: Promise<void> }>();

  constructor(private readonly options: ModerationLogOptions) {}

  /** A refusal by the server's policy (from admission, before anything was reserved). */
  refused(ask: JobAsk, reason: RefusalReason): void {
    if (!ask.guildId) return;
    void this.post({ kind: 'refused', request: ask, refusal: reason });
  }

  /** The runner's onUpdate: logs a job's start once, and remembers where its message is. */
  jobUpdated({ snapshot, location }: JobUpdate): void {
    if (!snapshot.request.guildId) return;
    const known = this.running.get(snapshot.jobId);
    if (known) {
      known.location = location;
      return;
    }
    // Started means taken up by the service; a job that ends before that gets its last line only.
    if (snapshot.state === 'waiting' || isFinal(snapshot.state)) return;
    const posted = this.post({ kind: 'started', jobId: snapshot.jobId, request: snapshot.request });
    this.running.set(snapshot.jobId, { location, posted });
    // A job another process takes over never finishes here: forget the oldest beyond a bound.
    if (this.running.size > MAX_TRACKED_JOBS) this.running.delete(this.running.keys().next().value as string);
  }

  /** The runner's onFinished: the job's last entry, after its start. */
  jobFinished(snapshot: JobSnapshot): void {
    if (!snapshot.request.guildId) return;
    const known = this.running.get(snapshot.jobId);
    this.running.delete(snapshot.jobId);
    const entry: ModerationEntry = {
      kind: kindOf(snapshot),
      jobId: snapshot.jobId,
      request: snapshot.request,
      link:
        snapshot.state === 'delivered' ? messageLink(snapshot.request.guildId, known?.location) : undefined,
    };
    // After the start entry, so a quick job's lines still read in order.
    void (known?.posted ?? Promise.resolve()).then(() => this.post(entry));
  }

  private async post(entry: ModerationEntry): Promise<void> {
    const { guildId } = entry.request;
    if (!guildId) return;
    const { logger } = this.options;
    try {
      const safety = await this.options.safety.get(guildId);
      const channelId = safety.logChannelId;
      if (!channelId) return;
      const t = translatorFor(
        (await this.options.settings.get(guildId)).language ?? entry.request.serverLocale,
      );
      try {
        await this.options.rest.post(Routes.channelMessages(channelId), {
          body: { content: this.render(entry, t), allowed_mentions: { parse: [] } },
        });
      } catch (error) {
        if (!(error instanceof DiscordAPIError && (error.status === 403 || error.status === 404)))
          throw error;
        logger.warn('moderation_log_unwritable', {
          guildId,
          channelId,
          jobId: entry.jobId,
          code: error.code,
        });
        if (
          safety.logChannelSetBy &&
          (await this.options.safety.markLogChannelUnwritable(guildId, channelId))
        )
          await this.tellAdmin(safety.logChannelSetBy, channelId, t);
      }
    } catch (error) {
      logger.warn('moderation_log_failed', { guildId, jobId: entry.jobId, kind: entry.kind, error });
    }
  }

  private async tellAdmin(adminId: string, channelId: string, t: Translator): Promise<void> {
    const { rest } = this.options;
    const dm = (await rest.post(Routes.userChannels(), { body: { recipient_id: adminId } })) as APIChannel;
    await rest.post(Routes.channelMessages(dm.id), {
      body: {
        content: t('moderation.cannotPost', { channel: channelMention(channelId) }),
        allowed_mentions: { parse: [] },
      },
    });
  }

  private render(entry: ModerationEntry, t: Translator): string {
    const { request } = entry;
    const title = t(TITLES[entry.kind], {
      member: userMention(request.requesterId),
      why: entry.refusal ? t(REFUSAL_KEYS[entry.refusal]) : '',
    });
    const model = this.options.catalogue.models.find((each) => each.id === request.model);
    const seconds = request.durationSeconds;
    const details = t('moderation.details', {
      channel: channelMention(request.channelId),
      model: model?.label ?? request.model ?? t('moderation.unknown'),
      length: seconds === undefined ? t('moderation.unknown') : t('moderation.seconds', { seconds }),
      cost: this.costOf(entry.kind, model?.pricePerSecond, seconds, t),
    });
    const lines = [title, details];
    if (entry.link) lines.push(entry.link);
    if (entry.jobId) lines.push(t('moderation.job', { jobId: entry.jobId }));
    lines.push(`> ${plainText(request.prompt, PROMPT_LENGTH)}`);
    return lines.join('\n');
  }

  /** Price per second × seconds, as it will be charged; nothing for a job that was not made. */
  private costOf(
    kind: ModerationEventKind,
    pricePerSecond: number | undefined,
    seconds: number | undefined,
    t: Translator,
  ) {
    if (kind !== 'started' && kind !== 'delivered') return t('moderation.notCharged');
    if (pricePerSecond === undefined || seconds === undefined) return t('moderation.unknown');
    const amount = pricePerSecond * seconds;
    try {
      return t.number(amount, { style: 'currency', currency: this.options.catalogue.currency });
    } catch {
      return `${t.number(amount, { maximumFractionDigits: 4 })} ${this.options.catalogue.currency}`;
    }
  }
}

function kindOf(snapshot: JobSnapshot): ModerationEventKind {
  if (snapshot.state === 'delivered' || snapshot.state === 'cancelled' || snapshot.state === 'interrupted')
    return snapshot.state;
  const reason = snapshot.reason as MemberText | string | undefined;
  if (typeof reason === 'object' && CONTENT_FILTER_KEYS.has(reason.key)) return 'content-filter';
  return 'failed';
}

function messageLink(guildId: string | null, location: SurfaceLocation | undefined): string | undefined {
  if (!guildId || !location?.messageId) return undefined;
  return `https://discord.com/channels/${guildId}/${location.channelId}/${location.messageId}`;
}
