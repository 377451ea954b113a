import { SlashCommandBuilder } from 'discord.js';
import { type Translator, translatorFor } from '../../services/i18n/translator.ts';
import type { Credits } from '../../services/quotas/credits.ts';
import {
  describeAmount,
  describeLimit,
  describeRuleSource,
  describeServerTotal,
  money,
  periodText,
  relativeTime,
  videosText,
} from '../../services/quotas/quota-format.ts';
import { fromLedger } from '../../services/quotas/quota-rules.ts';
import type { QuotaService, UsageSummary } from '../../services/quotas/quota-service.ts';
import type { SlashCommand } from '../command.ts';
import { requesterOf } from '../input/requester.ts';
import { describe } from '../localized.ts';
import { replyPrivately } from '../replies.ts';

export interface UsageCommandOptions {
  quotas: QuotaService;
  /** False hides money from members (SHOW_PRICES); an allowance in money is still shown. */
  showPrices?: boolean;
  /** Credits bought in Discord, when CREDIT_SKUS sells any. */
  credits?: Credits;
}

/** `/usage`: a member's own videos this period, what they are allowed and when it resets. */
export function createUsageCommand({
  quotas,
  credits,
  showPrices = true,
}: UsageCommandOptions): SlashCommand {
  return {
    kind: 'slash',
    definition: usageCommandDefinition(),
    async execute(interaction) {
      const usage = await quotas.usage(requesterOf(interaction));
      const t = translatorFor(interaction.locale);
      const lines = [describeUsage(usage, t, quotas.currency, showPrices)];
      if (credits?.enabled) {
        const balance = await credits.balance(interaction.user.id);
        lines.push(
          t('usage.balance', {
            seconds: balance.seconds,
            cost: money(fromLedger('spend', balance.spend), t, quotas.currency),
          }),
        );
      }
      await replyPrivately(interaction, lines.join('\n'));
    },
  };
}

function describeUsage(usage: UsageSummary, t: Translator, currency: string, showPrices: boolean): string {
  const period = periodText(usage.period);
  const source = describeRuleSource(usage.rule, t);
  const amount = (value: number) => describeAmount(usage.unit, value, t, currency);
  const lines = usage.limit
    ? [
        usage.unit === 'videos'
          ? t('usage.limited', {
              period,
              used: usage.used,
              count: usage.limit.count,
              remaining: usage.remaining ?? 0,
              time: relativeTime(usage.periodEnd),
            })
          : t('usage.limitedIn', {
              period,
              used: amount(usage.used),
              count: amount(usage.limit.count),
              remaining: amount(usage.remaining ?? 0),
              time: relativeTime(usage.periodEnd),
            }),
        t('usage.yourLimit', { limit: describeLimit(usage.limit, t, currency), source }),
      ]
    : [t('usage.unlimited', { period, used: usage.used, source })];
  const { videos: made, seconds, spend } = usage.usedByUnit;
  if (made > 0 && (usage.unit !== 'videos' || seconds > 0))
    lines.push(
      showPrices && spend > 0
        ? t('usage.madeWithCost', { videos: videosText(made), seconds, cost: money(spend, t, currency) })
        : t('usage.made', { videos: videosText(made), seconds }),
    );
  const running = videosText(usage.running);
  lines.push(
    usage.maxRunning > 0
      ? t('usage.runningCapped', { videos: running, max: usage.maxRunning })
      : t('usage.running', { videos: running }),
  );
  if (usage.serverTotal)
    lines.push(t('usage.serverTotal', { total: describeServerTotal(usage.serverTotal, t, currency) }));
  if (usage.cooldownEndsAt)
    lines.push(t('quota.block.cooldown', { time: relativeTime(usage.cooldownEndsAt) }));
  return lines.join('\n');
}

export function usageCommandDefinition() {
  return describe(new SlashCommandBuilder(), 'commands.usage').toJSON();
}
