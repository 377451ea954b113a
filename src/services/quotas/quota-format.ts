import { roleMention, TimestampStyles, time, userMention } from '@discordjs/formatters';
import { type MemberText, memberText } from '../i18n/member-text.ts';
import { english, type Translator } from '../i18n/translator.ts';
import type { AppliedRule, Limit, Period, QuotaBlock } from './quota-rules.ts';

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

/** "3 videos a day", or "no videos" for a limit of 0. */
export function describeLimit(limit: Limit | null, t: Translator = english): string {
  if (!limit) return t('quota.unlimited');
  if (limit.count === 0) return t('quota.noVideos');
  return t(`quota.per.${limit.period}`, { videos: videosText(limit.count) });
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

/** "Whole server: 5 of 20 this week, resets <t:…:R>" */
export function describeServerTotal(
  { limit, used, periodEnd }: { limit: Limit; used: number; periodEnd: number },
  t: Translator = english,
): string {
  return t('quota.serverTotal', {
    used,
    count: limit.count,
    period: periodText(limit.period),
    time: relativeTime(periodEnd),
  });
}

/** The sentence a member sees when a video is refused, as a message key and its parameters. */
export function blockText(block: QuotaBlock): MemberText {
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
export function describeBlock(block: QuotaBlock, t: Translator = english): string {
  const sentence = t.text(blockText(block));
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
