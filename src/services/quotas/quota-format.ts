import { roleMention, TimestampStyles, time, userMention } from '@discordjs/formatters';
import { type MemberText, memberText } from '../i18n/member-text.ts';
import { english, type Translator } from '../i18n/translator.ts';
import {
  type AppliedRule,
  type Limit,
  type Period,
  type QuotaBlock,
  type Unit,
  unitOf,
} from './quota-rules.ts';

/**
 * Member-facing wording for quotas, shared by the quota service's refusals and the /quota and
 * /usage replies, in the language of the translator given (English by default). Plain strings
 * with Discord markup (mentions, timestamps) and no Discord imports.
 */

/** A Discord timestamp that each reader sees in their own time zone and language, e.g. "in 3 hours". */
export function relativeTime(epochMs: number): string {
  return time(Math.ceil(epochMs / 1000), TimestampStyles.RelativeTime);
}

export { roleMention, userMention };

export function videosText(count: number): MemberText {
  return memberText('common.videos', { count });
}

export function videos(count: number, t: Translator = english): string {
  return t.text(videosText(count));
}

export function periodText(period: Period): MemberText {
  return memberText(`quota.current.${period}`);
}

export function currentPeriod(period: Period, t: Translator = english): string {
  return t.text(periodText(period));
}

/** The currency of prices and spend allowances when the catalogue names none. */
export const DEFAULT_CURRENCY = 'USD';

/** "$3.20" (in the reader's language), "8 seconds", "2 videos". */
export function describeAmount(
  unit: Unit,
  amount: number,
  t: Translator = english,
  currency = DEFAULT_CURRENCY,
): string {
  if (unit === 'spend') return money(amount, t, currency);
  if (unit === 'seconds') return t('common.seconds', { count: amount });
  return videos(amount, t);
}

export function money(amount: number, t: Translator = english, currency = DEFAULT_CURRENCY): string {
  return new Intl.NumberFormat(t.locale, { style: 'currency', currency }).format(amount);
}

/** "3 videos a day", "$5.00 a week", or "no videos" for a limit of 0. */
export function describeLimit(
  limit: Limit | null,
  t: Translator = english,
  currency = DEFAULT_CURRENCY,
): string {
  if (!limit) return t('quota.unlimited');
  if (limit.count === 0) return t('quota.noVideos');
  return t(`quota.per.${limit.period}`, { videos: describeAmount(unitOf(limit), limit.count, t, currency) });
}

/** Where a member's allowance comes from, e.g. "the rule for <@&123>". */
export function describeRuleSource(rule: AppliedRule, t: Translator = english): string {
  switch (rule.source) {
    case 'exempt-role':
      return t('quota.source.exemptRole', { role: roleMention(rule.roleId) });
    case 'role':
      return t('quota.source.role', { role: roleMention(rule.roleId) });
    default:
      return t(`quota.source.${rule.source}`);
  }
}

/** "Whole server: 5 of 20 this week, resets <t:…:R>" (in the limit's unit). */
export function describeServerTotal(
  { limit, used, periodEnd }: { limit: Limit; used: number; periodEnd: number },
  t: Translator = english,
  currency = DEFAULT_CURRENCY,
): string {
  const unit = unitOf(limit);
  if (unit !== 'videos')
    return t('quota.serverTotalIn', {
      used: describeAmount(unit, used, t, currency),
      count: describeAmount(unit, limit.count, t, currency),
      period: periodText(limit.period),
      time: relativeTime(periodEnd),
    });
  return t('quota.serverTotal', {
    used,
    count: limit.count,
    period: periodText(limit.period),
    time: relativeTime(periodEnd),
  });
}

/** The job a refusal is about, to name its length, model and price. */
export interface RefusedJob {
  seconds: number;
  model: string;
  currency: string;
}

/** "An 8-second Veo 3.1 video needs $3.20; you have $1.10 left today." */
function costBlockText(
  block: Extract<QuotaBlock, { kind: 'member-limit' | 'server-limit' }>,
  job: RefusedJob,
  t: Translator,
): MemberText {
  const unit = unitOf(block.limit);
  return memberText(block.kind === 'member-limit' ? 'quota.block.memberCost' : 'quota.block.serverCost', {
    seconds: job.seconds,
    model: job.model,
    needed: describeAmount(unit, block.needed ?? 0, t, job.currency),
    left: describeAmount(unit, Math.max(0, block.limit.count - block.used), t, job.currency),
    period: periodText(block.limit.period),
  });
}

/** The sentence a member sees when a video is refused, as a message key and its parameters. */
export function blockText(block: QuotaBlock, job?: RefusedJob, t: Translator = english): MemberText {
  if (
    job &&
    (block.kind === 'member-limit' || block.kind === 'server-limit') &&
    block.needed !== undefined &&
    block.limit.count > 0
  )
    return costBlockText(block, job, t);
  switch (block.kind) {
    case 'member-limit':
      if (block.limit.count === 0) return memberText('quota.block.memberNone');
      return memberText('quota.block.member', {
        used: block.used,
        count: block.limit.count,
        period: periodText(block.limit.period),
      });
    case 'server-limit':
      if (block.limit.count === 0) return memberText('quota.block.serverNone');
      return memberText('quota.block.server', {
        videos: videosText(block.limit.count),
        period: periodText(block.limit.period),
      });
    case 'max-running':
      return memberText('quota.block.maxRunning', { videos: videosText(block.running) });
    case 'cooldown':
      return memberText('quota.block.cooldown', { time: relativeTime(block.retryAt) });
  }
}

/** The sentence a member sees when a video is refused, with when to try again where it applies. */
export function describeBlock(block: QuotaBlock, t: Translator = english, job?: RefusedJob): string {
  const sentence = t.text(blockText(block, job, t));
  const retryAt = block.kind === 'cooldown' ? undefined : 'retryAt' in block ? block.retryAt : undefined;
  return retryAt === undefined
    ? sentence
    : `${sentence} ${t('quota.tryAgain', { time: relativeTime(retryAt) })}`;
}

/** "none", "45 seconds", "5 minutes", "2 hours": whole units where they fit. */
export function describeSeconds(seconds: number, t: Translator = english): string {
  if (seconds === 0) return t('common.none');
  if (seconds % 3600 === 0) return t('common.hours', { count: seconds / 3600 });
  if (seconds % 60 === 0) return t('common.minutes', { count: seconds / 60 });
  return t('common.seconds', { count: seconds });
}
