import { InteractionContextType, SlashCommandBuilder } from 'discord.js';
import {
  currentPeriod,
  describeLimit,
  describeRuleSource,
  describeServerTotal,
  relativeTime,
  videos,
} from '../../services/quotas/quota-format.ts';
import type { QuotaService, UsageSummary } from '../../services/quotas/quota-service.ts';
import type { SlashCommand } from '../command.ts';
import { requesterOf } from '../input/requester.ts';
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
      await replyPrivately(interaction, describeUsage(usage));
    },
  };
}

function describeUsage(usage: UsageSummary): string {
  const period = currentPeriod(usage.period);
  const lines = usage.limit
    ? [
        `**Your videos ${period}:** ${usage.used} of ${usage.limit.count} used, ${usage.remaining} left. Resets ${relativeTime(usage.periodEnd)}.`,
        `Your limit: ${describeLimit(usage.limit)}, from ${describeRuleSource(usage.rule)}.`,
      ]
    : [`**Your videos ${period}:** ${usage.used}, unlimited (${describeRuleSource(usage.rule)}).`];
  const cap = usage.maxRunning > 0 ? ` (at most ${usage.maxRunning} at once)` : '';
  lines.push(`In progress now: ${videos(usage.running)}${cap}.`);
  if (usage.serverTotal) lines.push(`${describeServerTotal(usage.serverTotal)}.`);
  if (usage.cooldownEndsAt) lines.push(`You can start another video ${relativeTime(usage.cooldownEndsAt)}.`);
  return lines.join('\n');
}

export function usageCommandDefinition() {
  return new SlashCommandBuilder()
    .setName('usage')
    .setDescription('How many videos you have made this period and how many you have left')
    .setContexts(InteractionContextType.Guild, InteractionContextType.BotDM)
    .toJSON();
}
