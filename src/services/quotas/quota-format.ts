import { roleMention, TimestampStyles, time, userMention } from '@discordjs/formatters';
import type { AppliedRule, Limit, Period, QuotaBlock } from './quota-rules.ts';

/**
 * Member-facing wording for quotas, shared by the quota service's refusals and the /quota and
 * /usage replies. Plain strings with Discord markup (mentions, timestamps) and no Discord imports.
 */

/** A Discord timestamp that each reader sees in their own time zone and language, e.g. "in 3 hours". */
export function relativeTime(epochMs: number): string {
  return time(Math.ceil(epochMs / 1000), TimestampStyles.RelativeTime);
}

export { roleMention, userMention };

export function videos(count: number): string {
  return plural(count, 'video');
}

const CURRENT_PERIOD: Record<Period, string> = { day: 'today', week: 'this week', month: 'this month' };
const PER_PERIOD: Record<Period, string> = { day: 'a day', week: 'a week', month: 'a month' };

export function currentPeriod(period: Period): string {
  return CURRENT_PERIOD[period];
}

/** "3 videos a day", or "no videos" for a limit of 0. */
export function describeLimit(limit: Limit | null): string {
  if (!limit) return 'unlimited';
  if (limit.count === 0) return 'no videos';
  return `${videos(limit.count)} ${PER_PERIOD[limit.period]}`;
}

/** Where a member's allowance comes from, e.g. "the rule for <@&123>". */
export function describeRuleSource(rule: AppliedRule): string {
  switch (rule.source) {
    case 'owner':
      return 'bot owner, never limited';
    case 'member':
      return 'a limit set for this member';
    case 'exempt-role':
      return `exempt through ${roleMention(rule.roleId)}`;
    case 'role':
      return `the rule for ${roleMention(rule.roleId)}`;
    case 'everyone':
      return "the server's rule for everyone";
    case 'default':
      return "the bot's default";
  }
}

/** "Whole server: 5 of 20 this week, resets <t:…:R>" */
export function describeServerTotal({
  limit,
  used,
  periodEnd,
}: {
  limit: Limit;
  used: number;
  periodEnd: number;
}): string {
  return `Whole server: ${used} of ${limit.count} ${currentPeriod(limit.period)}, resets ${relativeTime(periodEnd)}`;
}

function tryAgain(retryAt: number | undefined): string {
  return retryAt === undefined ? '' : ` Try again ${relativeTime(retryAt)}.`;
}

/** The sentence a member sees when a video is refused. */
export function describeBlock(block: QuotaBlock): string {
  switch (block.kind) {
    case 'member-limit':
      if (block.limit.count === 0) return "This server's quota allows you no videos.";
      return `You have used ${block.used} of ${block.limit.count} videos ${currentPeriod(block.limit.period)}.${tryAgain(block.retryAt)}`;
    case 'server-limit':
      if (block.limit.count === 0) return 'This server allows no videos at the moment.';
      return `This server has used all ${videos(block.limit.count)} it allows ${currentPeriod(block.limit.period)}.${tryAgain(block.retryAt)}`;
    case 'max-running':
      return `You already have ${videos(block.running)} in progress, the most you can run at once. Wait for one to finish.`;
    case 'cooldown':
      return `You can start another video ${relativeTime(block.retryAt)}.`;
  }
}

/** "none", "45 seconds", "5 minutes", "2 hours": whole units where they fit. */
export function describeSeconds(seconds: number): string {
  if (seconds === 0) return 'none';
  if (seconds % 3600 === 0) return plural(seconds / 3600, 'hour');
  if (seconds % 60 === 0) return plural(seconds / 60, 'minute');
  return plural(seconds, 'second');
}

function plural(count: number, unit: string): string {
  return `${count} ${unit}${count === 1 ? '' : 's'}`;
}
