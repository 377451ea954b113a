import { channelMention } from '@discordjs/formatters';
import type { AspectRatio, Catalogue, CatalogueModel } from '../catalogue/catalogue.ts';
import { fitRequest } from '../catalogue/fit-request.ts';
import { type MemberText, memberText } from '../i18n/member-text.ts';
import { translatorFor } from '../i18n/translator.ts';
import type { Logger } from '../logging/logger.ts';
import { estimatedCost } from '../quotas/job-cost.ts';
import type { QuotaCharges } from '../quotas/quota-charges.ts';
import { money } from '../quotas/quota-format.ts';
import type { Unit } from '../quotas/quota-rules.ts';
import type { Shortfall } from '../quotas/quota-service.ts';
import type { Requester } from '../quotas/requester.ts';
import type { SafetyPolicy } from '../safety/safety-policy.ts';
import { allowsChannel, type VideoSettings } from '../settings/video-settings.ts';
import { StoreUnavailableError } from '../shared/errors.ts';
import type { JobAsk } from './job.ts';
import type { Admission, JobAdmission } from './job-ports.ts';
import { newJobId } from './job-runner.ts';

export interface QuotaAdmissionOptions {
  charges: QuotaCharges;
  settings: VideoSettings;
  /** The models members may pick; each request is fitted to the one it gets. */
  catalogue: Catalogue;
  logger: Logger;
  /** A member's roles in a server, for a request made elsewhere (Retry pressed in a DM). */
  rolesIn?: (guildId: string, userId: string) => Promise<string[] | undefined>;
  /** The server's safety policy, checked before anything else: a refusal reserves nothing. */
  policy?: SafetyPolicy;
  /** False hides money from members (SHOW_PRICES). */
  showPrices?: boolean;
  /** The SKUs sold as credits (CREDIT_SKUS), offered on a refusal for a used-up allowance. */
  creditSkuIds?: readonly string[];
}

export const STORE_DOWN: MemberText = memberText('error.storeDown');

/**
 * The gate every front door goes through: the server's channel rules, its default duration and
 * model, the request fitted to that model (fit-request.ts), then an atomic quota reservation that
 * the job commits on delivery or releases otherwise. A request the model cannot do reserves nothing.
 */
export class QuotaAdmission implements JobAdmission {
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
    // A length left to the service is priced at the model's longest: never less than it can cost.
    const seconds = fit.durationSeconds ?? chosen.durations.at(-1) ?? 0;
    const cost = { ...estimatedCost(chosen, seconds), model: chosen.label, modelId: chosen.id };
    const reserved = await this.options.charges.reserve(requester, jobId, ask.locale, cost);
    if (!reserved.ok) {
      const instead =
        reserved.shortfall &&
        whatWouldFit(catalogue, chosen, { ...fit, durationSeconds: seconds }, reserved.shortfall, ask);
      const t = translatorFor(ask.locale);
      const message = [reserved.reason, instead && t.text(instead)].filter(Boolean).join(' ');
      const skus = this.options.creditSkuIds ?? [];
      return reserved.allowanceUsedUp && skus.length > 0
        ? { ok: false, message, premiumSkuIds: [...skus] }
        : { ok: false, message };
    }
    const price = this.priceNotice(cost, reserved.unit, catalogue.currency, ask.locale);
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
        notice: withNotices(ask.notice, [...fit.notices, ...(price ? [price] : [])], ask.locale),
        ...(this.showsMoney(cost) ? { priceCurrency: catalogue.currency } : {}),
        serverLocale,
        requesterRoleIds: requester.roleIds,
        spoiler: policy?.safety?.spoiler ? true : undefined,
      },
      charge: this.options.charges.chargeFor(reserved.reservation),
    };
  }

  /**
   * The price a member sees before the video is made, in their allowance's unit: money unless
   * SHOW_PRICES hides it, the seconds it uses under a seconds allowance. Nothing when the model
   * has no price and the allowance counts videos.
   */
  private priceNotice(
    cost: { seconds: number; spend: number; model: string },
    unit: Unit,
    currency: string,
    locale: string | undefined,
  ): MemberText | undefined {
    const showMoney = this.showsMoney(cost);
    if (unit === 'seconds')
      return memberText('quota.priceSeconds', { model: cost.model, seconds: cost.seconds });
    if (!showMoney) return undefined;
    return memberText('quota.priceEstimate', {
      model: cost.model,
      seconds: cost.seconds,
      cost: money(cost.spend, translatorFor(locale), currency),
    });
  }

  private showsMoney(cost: { spend: number }): boolean {
    return (this.options.showPrices ?? true) && cost.spend > 0;
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
}

/**
 * What would fit the allowance that is short: the longest shorter length of the same model, else
 * (for money) the first model in the catalogue that makes this length for less than is left.
 */
function whatWouldFit(
  catalogue: Catalogue,
  chosen: CatalogueModel,
  fit: { durationSeconds: number; aspectRatio?: AspectRatio },
  shortfall: Shortfall,
  ask: JobAsk,
): MemberText | undefined {
  const within = (model: CatalogueModel, seconds: number) => {
    const cost = estimatedCost(model, seconds);
    return (shortfall.unit === 'seconds' ? cost.seconds : cost.spend) <= shortfall.left;
  };
  const shorter = [...chosen.durations]
    .reverse()
    .find((seconds) => seconds < fit.durationSeconds && within(chosen, seconds));
  if (shorter !== undefined) return memberText('quota.fitsShorter', { seconds: shorter });
  if (shortfall.unit !== 'spend') return undefined;
  const cheaper = catalogue.models.find(
    (model) =>
      model.id !== chosen.id &&
      model.durations.includes(fit.durationSeconds) &&
      (!ask.imageUrl || model.imageInput) &&
      (!fit.aspectRatio || model.aspectRatios.includes(fit.aspectRatio)) &&
      within(model, fit.durationSeconds),
  );
  return cheaper && memberText('quota.fitsModel', { model: cheaper.label, seconds: fit.durationSeconds });
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
