import { SlashCommandBuilder } from 'discord.js';
import { type Translator, translatorFor } from '../../services/i18n/translator.ts';
import {
  describeLimit,
  describeRuleSource,
  describeServerTotal,
  periodText,
  relativeTime,
  videosText,
} from '../../services/quotas/quota-format.ts';
import type { QuotaService, UsageSummary } from '../../services/quotas/quota-service.ts';
import type { SlashCommand } from '../command.ts';
import { requesterOf } from '../input/requester.ts';
import { describe } from '../localized.ts';
import { replyPrivately } from '../replies.ts';

export interface UsageCommandOptions {
  quotas: QuotaService;
}

/** `/usage`: a member's own videos this period, what they are allowed and when it resets. */
export function createUsageCommand({ quotas }: UsageCommandOptions): SlashCommand {
  return {
    kind: 'slash',
    definition: usageCommandDefinition(),
    async execute(interaction) {
      const usage = await quotas.usage(requesterOf(interaction));
      await replyPrivately(interaction, describeUsage(usage, translatorFor(interaction.locale)));
    },
  };
}

function describeUsage(usage: UsageSummary, t: Translator): string {
  const period = periodText(usage.period);
  const source = describeRuleSource(usage.rule, t);
  const lines = usage.limit
    ? [
        t('usage.limited', {
          period,
          used: usage.used,
          count: usage.limit.count,
          remaining: usage.remaining ?? 0,
          time: relativeTime(usage.periodEnd),
        }),
        t('usage.yourLimit', { limit: describeLimit(usage.limit, t), source }),
      ]
    : [t('usage.unlimited', { period, used: usage.used, source })];
  const running = videosText(usage.running);
  lines.push(
    usage.maxRunning > 0
      ? t('usage.runningCapped', { videos: running, max: usage.maxRunning })
      : t('usage.running', { videos: running }),
  );
  if (usage.serverTotal)
    lines.push(t('usage.serverTotal', { total: describeServerTotal(usage.serverTotal, t) }));
  if (usage.cooldownEndsAt)
    lines.push(t('quota.block.cooldown', { time: relativeTime(usage.cooldownEndsAt) }));
  return lines.join('\n');
}

export function usageCommandDefinition() {
  return describe(new SlashCommandBuilder(), 'commands.usage').toJSON();
}
