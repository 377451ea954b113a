import {
  type ChatInputCommandInteraction,
  InteractionContextType,
  PermissionFlagsBits,
  SlashCommandBuilder,
  type SlashCommandIntegerOption,
  type SlashCommandRoleOption,
  type SlashCommandSubcommandBuilder,
  type SlashCommandUserOption,
} from 'discord.js';
import type { Logger } from '../../services/logging/logger.ts';
import {
  currentPeriod,
  describeLimit,
  describeSeconds,
  describeServerTotal,
  relativeTime,
  roleMention,
  userMention,
  videos,
} from '../../services/quotas/quota-format.ts';
import type { Limit, Period } from '../../services/quotas/quota-rules.ts';
import type {
  QuotaService,
  RulesOverview,
  RuleTarget,
  ServerUsage,
} from '../../services/quotas/quota-service.ts';
import type { SlashCommand } from '../command.ts';
import { managesServer } from '../preconditions.ts';
import { replyPrivately } from '../replies.ts';

export interface QuotaCommandOptions {
  quotas: QuotaService;
  logger: Logger;
}

type GuildCommand = ChatInputCommandInteraction<'cached' | 'raw'>;

const TOP_MEMBERS_SHOWN = 10;

/**
 * `/quota`: how many videos members may make. Admin only, checked here as well as by Discord's
 * default permission, because server admins can widen who sees the command.
 */
export function createQuotaCommand({ quotas, logger }: QuotaCommandOptions): SlashCommand {
  const handlers: Record<string, (interaction: GuildCommand) => Promise<string>> = {
    limit: async (interaction) => {
      const target = readTarget(interaction);
      const limit = readLimit(interaction);
      await quotas.setRule(interaction.guildId, target, limit);
      const together = target.kind === 'server-total' ? ' together' : '';
      return `${capitalise(targetLabel(target))} can now make ${describeLimit(limit)}${together}.`;
    },
    clear: async (interaction) => {
      const target = readTarget(interaction);
      const existed = await quotas.clearRule(interaction.guildId, target);
      return existed
        ? `Removed the limit for ${targetLabel(target)}.`
        : `There was no limit for ${targetLabel(target)}.`;
    },
    'max-running': async (interaction) => {
      const count = interaction.options.getInteger('count', true);
      await quotas.setMaxRunning(interaction.guildId, count);
      return count === 0
        ? 'Members can now run any number of videos at once.'
        : `Members can now run at most ${videos(count)} at once.`;
    },
    cooldown: async (interaction) => {
      const seconds = interaction.options.getInteger('seconds', true);
      await quotas.setCooldown(interaction.guildId, seconds);
      return seconds === 0
        ? 'Members no longer wait between videos.'
        : `Members now wait ${describeSeconds(seconds)} between starting videos.`;
    },
    exempt: async (interaction) => {
      const roleId = interaction.options.getRole('role', true).id;
      await quotas.setRoleExempt(interaction.guildId, roleId, true);
      return `Members with ${roleMention(roleId)} are now exempt from member limits. The server total still applies.`;
    },
    unexempt: async (interaction) => {
      const roleId = interaction.options.getRole('role', true).id;
      await quotas.setRoleExempt(interaction.guildId, roleId, false);
      return `Members with ${roleMention(roleId)} are no longer exempt.`;
    },
    show: async (interaction) => {
      const [overview, usage] = await Promise.all([
        quotas.listRules(interaction.guildId),
        quotas.serverUsage(interaction.guildId, Date.now(), TOP_MEMBERS_SHOWN),
      ]);
      return `${describeRules(overview)}\n\n${describeServerUsage(usage)}`;
    },
    reset: async (interaction) => {
      const userId = interaction.options.getUser('member', true).id;
      await quotas.resetUsage(interaction.guildId, userId);
      return `Reset ${userMention(userId)}'s usage: delivered videos no longer count and any cooldown is over. Videos still running stay reserved.`;
    },
  };

  return {
    kind: 'slash',
    definition: quotaCommandDefinition(),
    preconditions: [managesServer],
    async execute(interaction) {
      if (!interaction.inGuild()) throw new Error('/quota outside a server passed its precondition');
      const action = interaction.options.getSubcommandGroup(false) ?? interaction.options.getSubcommand();
      const handler = handlers[action];
      if (!handler) throw new Error(`Unknown /quota action "${action}"`);
      logger.info('quota_command', { userId: interaction.user.id, guildId: interaction.guildId, action });
      await replyPrivately(interaction, await handler(interaction));
    },
  };
}

/** Which limit a `limit` or `clear` subcommand is about; the @everyone role means every member. */
function readTarget(interaction: GuildCommand): RuleTarget {
  switch (interaction.options.getSubcommand()) {
    case 'role': {
      const roleId = interaction.options.getRole('role', true).id;
      return roleId === interaction.guildId ? { kind: 'everyone' } : { kind: 'role', roleId };
    }
    case 'member':
      return { kind: 'member', userId: interaction.options.getUser('member', true).id };
    case 'server':
      return { kind: 'server-total' };
    default:
      return { kind: 'everyone' };
  }
}

function readLimit(interaction: GuildCommand): Limit {
  return {
    count: interaction.options.getInteger('count', true),
    period: interaction.options.getString('period', true) as Period,
  };
}

function targetLabel(target: RuleTarget): string {
  switch (target.kind) {
    case 'everyone':
      return 'every member';
    case 'role':
      return `members with ${roleMention(target.roleId)}`;
    case 'member':
      return userMention(target.userId);
    case 'server-total':
      return 'the whole server';
  }
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function describeRules({ rules, defaults }: RulesOverview): string {
  const byDefault = (text: string) => `${text} *(bot default)*`;
  const limitOrDefault = (limit: Limit | undefined, defaultCount: number) =>
    limit
      ? describeLimit(limit)
      : byDefault(describeLimit(defaultCount > 0 ? { count: defaultCount, period: defaults.period } : null));
  const { maxRunningPerMember, cooldownSeconds } = rules;
  const maxRunning = describeCap(maxRunningPerMember ?? defaults.maxRunningPerMember);
  const cooldown = describeSeconds(cooldownSeconds ?? defaults.cooldownSeconds);
  return [
    '**Quota rules** (days, weeks and months start at 00:00 UTC; weeks on Monday)',
    `Every member: ${limitOrDefault(rules.everyone, defaults.memberLimit)}`,
    ...Object.entries(rules.roles).map(
      ([roleId, limit]) => `Members with ${roleMention(roleId)}: ${describeLimit(limit)}`,
    ),
    ...Object.entries(rules.members).map(
      ([userId, limit]) => `${userMention(userId)}: ${describeLimit(limit)}`,
    ),
    `Whole server: ${limitOrDefault(rules.serverTotal, defaults.serverLimit)}`,
    `Videos at once per member: ${maxRunningPerMember === undefined ? byDefault(maxRunning) : maxRunning}`,
    `Cooldown between videos: ${cooldownSeconds === undefined ? byDefault(cooldown) : cooldown}`,
    `Exempt roles: ${rules.exemptRoleIds.length > 0 ? rules.exemptRoleIds.map(roleMention).join(', ') : 'none'}`,
  ].join('\n');
}

function describeCap(count: number): string {
  return count === 0 ? 'no limit' : String(count);
}

function describeServerUsage(usage: ServerUsage): string {
  const lines = [
    `**Usage ${currentPeriod(usage.period)}**: ${videos(usage.total)}, resets ${relativeTime(usage.periodEnd)}`,
  ];
  if (usage.serverTotal) lines.push(describeServerTotal(usage.serverTotal));
  lines.push(
    ...usage.members.map(
      ({ userId, used }, index) => `${index + 1}. ${userMention(userId)}: ${videos(used)}`,
    ),
  );
  return lines.join('\n');
}

const PERIOD_CHOICES = [
  { name: 'Day (resets 00:00 UTC)', value: 'day' },
  { name: 'Week (resets Monday 00:00 UTC)', value: 'week' },
  { name: 'Month (resets on the 1st, 00:00 UTC)', value: 'month' },
];

const requiredRole = (option: SlashCommandRoleOption) =>
  option.setName('role').setDescription('The role').setRequired(true);
const requiredMember = (option: SlashCommandUserOption) =>
  option.setName('member').setDescription('The member').setRequired(true);
const requiredWholeNumber =
  (name: string, description: string, max: number) => (option: SlashCommandIntegerOption) =>
    option.setName(name).setDescription(description).setRequired(true).setMinValue(0).setMaxValue(max);

interface TargetSubcommand {
  name: string;
  description: string;
  addTargetOption?: (subcommand: SlashCommandSubcommandBuilder) => SlashCommandSubcommandBuilder;
}

/** The four things a limit can apply to, each a subcommand of `limit` and of `clear`. */
const TARGET_SUBCOMMANDS: TargetSubcommand[] = [
  { name: 'everyone', description: 'every member (the server default)' },
  { name: 'role', description: 'members with a role', addTargetOption: (s) => s.addRoleOption(requiredRole) },
  { name: 'member', description: 'one member', addTargetOption: (s) => s.addUserOption(requiredMember) },
  { name: 'server', description: 'the whole server together' },
];

function targetSubcommand(
  subcommand: SlashCommandSubcommandBuilder,
  target: TargetSubcommand,
  description: string,
) {
  subcommand.setName(target.name).setDescription(description);
  return target.addTargetOption?.(subcommand) ?? subcommand;
}

export function quotaCommandDefinition() {
  return new SlashCommandBuilder()
    .setName('quota')
    .setDescription('Set how many videos members can make')
    .setDefaultMemberPermissions(PermissionFlagsBits.ManageGuild)
    .setContexts(InteractionContextType.Guild)
    .addSubcommandGroup((group) => {
      group.setName('limit').setDescription('Set a video limit');
      for (const target of TARGET_SUBCOMMANDS) {
        group.addSubcommand((subcommand) =>
          targetSubcommand(subcommand, target, `Limit ${target.description}`)
            .addIntegerOption(requiredWholeNumber('count', 'Videos per period (0 allows none)', 100_000))
            .addStringOption((option) =>
              option
                .setName('period')
                .setDescription('Per day, week or month')
                .setRequired(true)
                .addChoices(...PERIOD_CHOICES),
            ),
        );
      }
      return group;
    })
    .addSubcommandGroup((group) => {
      group.setName('clear').setDescription('Remove a video limit');
      for (const target of TARGET_SUBCOMMANDS) {
        group.addSubcommand((subcommand) =>
          targetSubcommand(subcommand, target, `Remove the limit for ${target.description}`),
        );
      }
      return group;
    })
    .addSubcommand((subcommand) =>
      subcommand
        .setName('max-running')
        .setDescription('Most videos one member can have in progress at once')
        .addIntegerOption(requiredWholeNumber('count', '0 for no limit', 100)),
    )
    .addSubcommand((subcommand) =>
      subcommand
        .setName('cooldown')
        .setDescription('Time a member waits after starting a video before the next')
        .addIntegerOption(requiredWholeNumber('seconds', '0 for no cooldown (at most a week)', 7 * 86_400)),
    )
    .addSubcommand((subcommand) =>
      subcommand
        .setName('exempt')
        .setDescription('Free a role from member limits (the server total still applies)')
        .addRoleOption(requiredRole),
    )
    .addSubcommand((subcommand) =>
      subcommand
        .setName('unexempt')
        .setDescription('Make a role follow member limits again')
        .addRoleOption(requiredRole),
    )
    .addSubcommand((subcommand) =>
      subcommand.setName('show').setDescription('Show the rules and this period’s usage'),
    )
    .addSubcommand((subcommand) =>
      subcommand
        .setName('reset')
        .setDescription("Forget a member's delivered videos this period")
        .addUserOption(requiredMember),
    )
    .toJSON();
}
