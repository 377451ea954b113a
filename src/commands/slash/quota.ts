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
import { type Translator, translatorFor } from '../../services/i18n/translator.ts';
import type { Logger } from '../../services/logging/logger.ts';
import {
  describeLimit,
  describeSeconds,
  describeServerTotal,
  money,
  periodText,
  relativeTime,
  roleMention,
  userMention,
  videosText,
} from '../../services/quotas/quota-format.ts';
import type { Limit, Period, Unit } from '../../services/quotas/quota-rules.ts';
import type {
  QuotaService,
  RulesOverview,
  RuleTarget,
  ServerUsage,
} from '../../services/quotas/quota-service.ts';
import type { SlashCommand } from '../command.ts';
import { choice, describe } from '../localized.ts';
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
  const handlers: Record<string, (interaction: GuildCommand, t: Translator) => Promise<string>> = {
    limit: async (interaction, t) => {
      const target = readTarget(interaction);
      const limit = readLimit(interaction);
      await quotas.setRule(interaction.guildId, target, limit);
      const key = target.kind === 'server-total' ? 'quota.reply.limitSetTogether' : 'quota.reply.limitSet';
      return capitalise(
        t(key, { target: targetLabel(target, t), limit: describeLimit(limit, t, quotas.currency) }),
        t,
      );
    },
    clear: async (interaction, t) => {
      const target = readTarget(interaction);
      const existed = await quotas.clearRule(interaction.guildId, target);
      return t(existed ? 'quota.reply.cleared' : 'quota.reply.noLimit', { target: targetLabel(target, t) });
    },
    'max-running': async (interaction, t) => {
      const count = interaction.options.getInteger('count', true);
      await quotas.setMaxRunning(interaction.guildId, count);
      return count === 0
        ? t('quota.reply.maxRunningNone')
        : t('quota.reply.maxRunning', { videos: videosText(count) });
    },
    cooldown: async (interaction, t) => {
      const seconds = interaction.options.getInteger('seconds', true);
      await quotas.setCooldown(interaction.guildId, seconds);
      return seconds === 0
        ? t('quota.reply.cooldownNone')
        : t('quota.reply.cooldown', { duration: describeSeconds(seconds, t) });
    },
    exempt: async (interaction, t) => {
      const roleId = interaction.options.getRole('role', true).id;
      await quotas.setRoleExempt(interaction.guildId, roleId, true);
      return t('quota.reply.exempt', { role: roleMention(roleId) });
    },
    unexempt: async (interaction, t) => {
      const roleId = interaction.options.getRole('role', true).id;
      await quotas.setRoleExempt(interaction.guildId, roleId, false);
      return t('quota.reply.unexempt', { role: roleMention(roleId) });
    },
    show: async (interaction, t) => {
      const [overview, usage] = await Promise.all([
        quotas.listRules(interaction.guildId),
        quotas.serverUsage(interaction.guildId, Date.now(), TOP_MEMBERS_SHOWN),
      ]);
      return `${describeRules(overview, t, quotas.currency)}\n\n${describeServerUsage(usage, t, quotas.currency)}`;
    },
    reset: async (interaction, t) => {
      const userId = interaction.options.getUser('member', true).id;
      await quotas.resetUsage(interaction.guildId, userId);
      return t('quota.reply.reset', { member: userMention(userId) });
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
      await replyPrivately(interaction, await handler(interaction, translatorFor(interaction.locale)));
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

/**
 * The amount may have decimals (money). Read untyped: servers whose command registration predates
 * units still send it as an integer option. Videos and seconds are whole; spend is kept to cents.
 */
function readLimit(interaction: GuildCommand): Limit {
  const unit = (interaction.options.getString('unit') ?? 'videos') as Unit;
  const amount = Number(interaction.options.get('count', true).value);
  const count = unit === 'spend' ? Math.round(amount * 100) / 100 : Math.floor(amount);
  const period = interaction.options.getString('period', true) as Period;
  // A videos limit is stored as before there were units.
  return unit === 'videos' ? { count, period } : { count, period, unit };
}

function targetLabel(target: RuleTarget, t: Translator): string {
  switch (target.kind) {
    case 'everyone':
      return t('quota.target.everyone');
    case 'role':
      return t('quota.target.role', { role: roleMention(target.roleId) });
    case 'member':
      return t('quota.target.member', { member: userMention(target.userId) });
    case 'server-total':
      return t('quota.target.server');
  }
}

/** A sentence that starts with a label ("every member can…") starts with a capital, where the script has them. */
function capitalise(text: string, t: Translator): string {
  return text.charAt(0).toLocaleUpperCase(t.locale) + text.slice(1);
}

function describeRules({ rules, defaults }: RulesOverview, t: Translator, currency: string): string {
  const byDefault = (value: string) => t('quota.rules.botDefault', { value });
  const describe = (limit: Limit | null) => describeLimit(limit, t, currency);
  const unit = defaults.unit === 'videos' ? undefined : defaults.unit;
  const limitOrDefault = (limit: Limit | undefined, defaultCount: number) =>
    limit
      ? describe(limit)
      : byDefault(describe(defaultCount > 0 ? { count: defaultCount, period: defaults.period, unit } : null));
  const { maxRunningPerMember, cooldownSeconds } = rules;
  const maxRunning = describeCap(maxRunningPerMember ?? defaults.maxRunningPerMember, t);
  const cooldown = describeSeconds(cooldownSeconds ?? defaults.cooldownSeconds, t);
  const exempt =
    rules.exemptRoleIds.length > 0 ? rules.exemptRoleIds.map(roleMention).join(', ') : t('common.none');
  return [
    t('quota.rules.title'),
    t('quota.rules.everyone', { limit: limitOrDefault(rules.everyone, defaults.memberLimit) }),
    ...Object.entries(rules.roles).map(([roleId, limit]) =>
      t('quota.rules.role', { role: roleMention(roleId), limit: describe(limit) }),
    ),
    ...Object.entries(rules.members).map(([userId, limit]) =>
      t('quota.rules.member', { member: userMention(userId), limit: describe(limit) }),
    ),
    t('quota.rules.server', { limit: limitOrDefault(rules.serverTotal, defaults.serverLimit) }),
    t('quota.rules.maxRunning', {
      value: maxRunningPerMember === undefined ? byDefault(maxRunning) : maxRunning,
    }),
    t('quota.rules.cooldown', { value: cooldownSeconds === undefined ? byDefault(cooldown) : cooldown }),
    t('quota.rules.exemptRoles', { roles: exempt }),
  ].join('\n');
}

function describeCap(count: number, t: Translator): string {
  return count === 0 ? t('quota.rules.noLimit') : t.number(count);
}

function describeServerUsage(usage: ServerUsage, t: Translator, currency: string): string {
  const lines = [
    t('quota.usage.title', {
      period: periodText(usage.period),
      videos: videosText(usage.total),
      time: relativeTime(usage.periodEnd),
    }),
  ];
  if (usage.serverTotal) lines.push(describeServerTotal(usage.serverTotal, t, currency));
  lines.push(
    ...usage.members.map(({ userId, used }, index) =>
      t('quota.usage.member', { rank: index + 1, member: userMention(userId), videos: videosText(used) }),
    ),
  );
  // Admins always see money, whatever SHOW_PRICES hides from members.
  if (usage.spend > 0) {
    lines.push(
      t('quota.usage.spend', { period: periodText(usage.period), cost: money(usage.spend, t, currency) }),
    );
    lines.push(
      ...usage.spenders.map(({ userId, used }, index) =>
        t('quota.usage.spender', {
          rank: index + 1,
          member: userMention(userId),
          cost: money(used, t, currency),
        }),
      ),
      ...usage.models.map(({ model, spend }) =>
        t('quota.usage.model', { model, cost: money(spend, t, currency) }),
      ),
    );
  }
  return lines.join('\n');
}

const PERIODS = ['day', 'week', 'month'] as const;
const periodChoices = () => PERIODS.map((period) => choice(`commands.quota.period.${period}`, period));
const UNITS = ['videos', 'seconds', 'spend'] as const;
const unitChoices = () => UNITS.map((unit) => choice(`commands.quota.unit.${unit}`, unit));

const requiredRole = (option: SlashCommandRoleOption) =>
  describe(option, 'commands.quota.options.role').setRequired(true);
const requiredMember = (option: SlashCommandUserOption) =>
  describe(option, 'commands.quota.options.member').setRequired(true);
const requiredWholeNumber = (key: string, max: number) => (option: SlashCommandIntegerOption) =>
  describe(option, `commands.quota.options.${key}`).setRequired(true).setMinValue(0).setMaxValue(max);

interface TargetSubcommand {
  /** Under `commands.quota.target`. */
  key: 'everyone' | 'role' | 'member' | 'server';
  addTargetOption?: (subcommand: SlashCommandSubcommandBuilder) => SlashCommandSubcommandBuilder;
}

/** The four things a limit can apply to, each a subcommand of `limit` and of `clear`. */
const TARGET_SUBCOMMANDS: TargetSubcommand[] = [
  { key: 'everyone' },
  { key: 'role', addTargetOption: (s) => s.addRoleOption(requiredRole) },
  { key: 'member', addTargetOption: (s) => s.addUserOption(requiredMember) },
  { key: 'server' },
];

/** A target's subcommand of `group` ("limit" or "clear"): "Limit every member (the server default)". */
function targetSubcommand(
  subcommand: SlashCommandSubcommandBuilder,
  target: TargetSubcommand,
  group: 'limit' | 'clear',
) {
  const key = `commands.quota.target.${target.key}`;
  describe(subcommand, key, `commands.quota.${group}.subcommand`, {
    target: { key: `${key}.description` },
  });
  return target.addTargetOption?.(subcommand) ?? subcommand;
}

export function quotaCommandDefinition() {
  return describe(new SlashCommandBuilder(), 'commands.quota')
    .setDefaultMemberPermissions(PermissionFlagsBits.ManageGuild)
    .setContexts(InteractionContextType.Guild)
    .addSubcommandGroup((group) => {
      describe(group, 'commands.quota.limit');
      for (const target of TARGET_SUBCOMMANDS) {
        group.addSubcommand((subcommand) =>
          targetSubcommand(subcommand, target, 'limit')
            .addNumberOption((option) =>
              describe(option, 'commands.quota.options.count')
                .setRequired(true)
                .setMinValue(0)
                .setMaxValue(100_000),
            )
            .addStringOption((option) =>
              describe(option, 'commands.quota.options.period')
                .setRequired(true)
                .addChoices(...periodChoices()),
            )
            .addStringOption((option) =>
              describe(option, 'commands.quota.options.unit').addChoices(...unitChoices()),
            ),
        );
      }
      return group;
    })
    .addSubcommandGroup((group) => {
      describe(group, 'commands.quota.clear');
      for (const target of TARGET_SUBCOMMANDS) {
        group.addSubcommand((subcommand) => targetSubcommand(subcommand, target, 'clear'));
      }
      return group;
    })
    .addSubcommand((subcommand) =>
      describe(subcommand, 'commands.quota.maxRunning').addIntegerOption(
        requiredWholeNumber('maxCount', 100),
      ),
    )
    .addSubcommand((subcommand) =>
      describe(subcommand, 'commands.quota.cooldown').addIntegerOption(
        requiredWholeNumber('seconds', 7 * 86_400),
      ),
    )
    .addSubcommand((subcommand) => describe(subcommand, 'commands.quota.exempt').addRoleOption(requiredRole))
    .addSubcommand((subcommand) =>
      describe(subcommand, 'commands.quota.unexempt').addRoleOption(requiredRole),
    )
    .addSubcommand((subcommand) => describe(subcommand, 'commands.quota.show'))
    .addSubcommand((subcommand) => describe(subcommand, 'commands.quota.reset').addUserOption(requiredMember))
    .toJSON();
}
