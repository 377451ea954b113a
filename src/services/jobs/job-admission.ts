import { channelMention } from '@discordjs/formatters';
import pRetry from 'p-retry';
import type { Catalogue } from '../catalogue/catalogue.ts';
import { fitRequest } from '../catalogue/fit-request.ts';
import { type MemberText, memberText } from '../i18n/member-text.ts';
import { translatorFor } from '../i18n/translator.ts';
import type { Logger } from '../logging/logger.ts';
import type { Requester } from '../quotas/quota-rules.ts';
import type { QuotaService, Reservation } from '../quotas/quota-service.ts';
import type { SafetyPolicy } from '../safety/safety-policy.ts';
import { allowsChannel, type VideoSettings } from '../settings/video-settings.ts';
import { StoreUnavailableError } from '../shared/errors.ts';
import { withDeadline } from '../timing/deadline.ts';
import type { JobAsk } from './job.ts';
import type { Admission, JobAdmission, JobCharge } from './job-ports.ts';
import { newJobId } from './job-runner.ts';

export interface QuotaAdmissionOptions {
  quotas: QuotaService;
  settings: VideoSettings;
  /** The models members may pick; each request is fitted to the one it gets. */
  catalogue: Catalogue;
  logger: Logger;
  /** A member's roles in a server, for a request made elsewhere (Retry pressed in a DM). */
  rolesIn?: (guildId: string, userId: string) => Promise<string[] | undefined>;
  /** The server's safety policy, checked before anything else: a refusal reserves nothing. */
  policy?: SafetyPolicy;
}

export const STORE_DOWN: MemberText = memberText('error.storeDown');

/** Settlements retry until the store takes them: never lost, and applying one twice changes nothing. */
const SETTLE_RETRY = {
  retries: Number.POSITIVE_INFINITY,
  minTimeout: 200,
  maxTimeout: 5_000,
  factor: 2,
} as const;

/**
 * The gate every front door goes through: the server's channel rules, its default duration and
 * model, the request fitted to that model (fit-request.ts), then an atomic quota reservation that
 * the job commits on delivery or releases otherwise. A request the model cannot do reserves nothing.
 */
export class QuotaAdmission implements JobAdmission {
  private readonly settling = new Set<Promise<void>>();
  private readonly stopSettling = new AbortController();

  constructor(private readonly options: QuotaAdmissionOptions) {}

  async admit(ask: JobAsk, requester: Requester): Promise<Admission> {
    try {
      return await this.decide(ask, await this.quotaRequester(ask, requester));
    } catch (error) {
      if (!(error instanceof StoreUnavailableError)) throw error;
      this.options.logger.warn('admission_store_unavailable', { userId: requester.userId, error });
      return { ok: false, message: STORE_DOWN };
    }
  }

  /** Commits a unit, retrying until the store takes it; for recovery and sweeps. */
  commit(reservation: Reservation): Promise<void> {
    return this.settle(reservation, 'commit');
  }

  /** Releases a unit, retrying until the store takes it. */
  release(reservation: Reservation): Promise<void> {
    return this.settle(reservation, 'release');
  }

  /** Waits (at most `timeoutMs`) for settlements still retrying, then gives up on them. */
  async drain(timeoutMs: number): Promise<void> {
    await withDeadline(Promise.all(this.settling), timeoutMs);
    this.stopSettling.abort();
  }

  private async decide(ask: JobAsk, requester: Requester): Promise<Admission> {
    const policy = await this.options.policy?.check(ask);
    if (policy && !policy.ok) return { ok: false, message: policy.message };
    let model = ask.model;
    let durationSeconds = ask.durationSeconds;
    let serverLocale = ask.serverLocale;
    if (ask.guildId) {
      const settings = await this.options.settings.get(ask.guildId);
      // A Retry pressed in a DM is about the server job it repeats: its channel passed the rule.
      const elsewhere = requester.guildId !== ask.guildId;
      if (!elsewhere && !allowsChannel(settings, ask.channelId, ask.threadParentId))
        return { ok: false, message: channelRefusal(settings.allowedChannelIds) };
      model ??= settings.defaultModel ?? undefined;
      durationSeconds ??= settings.defaultDurationSeconds ?? undefined;
      serverLocale = settings.language ?? serverLocale;
    }
    const { catalogue } = this.options;
    const chosen = catalogue.models.find((each) => each.id === (model ?? catalogue.defaultModel));
    if (!chosen) {
      // A Retry of a job whose model the operator has since taken out of the catalogue.
      return {
        ok: false,
        message: memberText('check.model', {
          model: (model ?? '').slice(0, 60),
          models: catalogue.models.map((each) => each.id).join(', '),
        }),
      };
    }
    const fit = fitRequest(chosen, { durationSeconds, aspectRatio: ask.aspectRatio, imageUrl: ask.imageUrl });
    if (!fit.ok) {
      this.options.logger.info('job_request_unfit', {
        userId: requester.userId,
        model: chosen.id,
        reason: fit.message.key,
      });
      return fit;
    }
    const jobId = newJobId();
    const reserved = await this.options.quotas.reserve(requester, Date.now(), jobId, ask.locale);
    if (!reserved.ok) return { ok: false, message: reserved.reason };
    // A Retry or Remix of a job a fallback made asks that model itself: nothing fell back this time.
    const { fallbackFrom: _from, fallbackReason: _why, durationAskedSeconds: _asked, ...asked } = ask;
    if (fit.notices.length > 0)
      this.options.logger.info('job_request_fitted', {
        jobId,
        model: chosen.id,
        askedSeconds: durationSeconds,
        durationSeconds: fit.durationSeconds,
      });
    return {
      ok: true,
      request: {
        ...asked,
        model: chosen.id,
        durationSeconds: fit.durationSeconds,
        aspectRatio: fit.aspectRatio,
        notice: withNotices(ask.notice, fit.notices, ask.locale),
        serverLocale,
        requesterRoleIds: requester.roleIds,
        spoiler: policy?.safety?.spoiler ? true : undefined,
      },
      charge: this.chargeFor(reserved.reservation),
    };
  }

  /**
   * Quotas count where the job belongs: a Retry of a server's job pressed in a DM is charged to
   * that server, under the member's roles there (as Discord says now, or as they were recorded).
   */
  private async quotaRequester(ask: JobAsk, requester: Requester): Promise<Requester> {
    if (!ask.guildId || requester.guildId === ask.guildId) return requester;
    const roles = (await this.options.rolesIn?.(ask.guildId, requester.userId).catch(() => undefined)) ??
      ask.requesterRoleIds ?? [ask.guildId];
    return { guildId: ask.guildId, userId: requester.userId, roleIds: [...new Set([...roles, ask.guildId])] };
  }

  /** The charge of a reserved unit: for a new job, or one another run had started and this one resumes. */
  chargeFor(reservation: Reservation): JobCharge {
    return {
      reservation,
      commit: () => this.settle(reservation, 'commit'),
      release: () => this.settle(reservation, 'release'),
    };
  }

  /**
   * Settles at once when the store answers; otherwise resolves after the first failure and keeps
   * retrying in the background, so a member's final message never waits on an outage.
   */
  private settle(reservation: Reservation, how: 'commit' | 'release'): Promise<void> {
    const { quotas, logger } = this.options;
    const apply = () => (how === 'commit' ? quotas.commit(reservation) : quotas.release(reservation));
    let firstFailed!: () => void;
    const answered = new Promise<void>((resolve) => {
      firstFailed = resolve;
    });
    const retrying = pRetry(apply, {
      ...SETTLE_RETRY,
      signal: this.stopSettling.signal,
      shouldRetry: ({ error }) => error instanceof StoreUnavailableError,
      onFailedAttempt: ({ error, attemptNumber }) => {
        if (attemptNumber === 1) {
          logger.warn('charge_settle_retrying', { how, jobId: reservation.jobId, error });
          firstFailed();
        }
      },
    })
      .then(() => logger.debug('charge_settled', { how, jobId: reservation.jobId }))
      .catch((error) => logger.error('charge_settle_failed', { how, jobId: reservation.jobId, error }))
      .finally(() => this.settling.delete(retrying));
    this.settling.add(retrying);
    return Promise.race([retrying, answered]);
  }
}

function channelRefusal(allowedChannelIds: string[]): MemberText {
  return memberText('error.channelRefused', { channels: allowedChannelIds.map(channelMention).join(', ') });
}

/** The front door's remark and what fitting changed, in the language the job is shown in. */
function withNotices(notice: string | undefined, fitted: MemberText[], locale: string | undefined) {
  if (fitted.length === 0) return notice;
  const t = translatorFor(locale);
  return [notice, ...fitted.map((text) => t.text(text))].filter(Boolean).join(' ');
}
