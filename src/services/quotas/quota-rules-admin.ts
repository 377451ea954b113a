import type { Logger } from '../logging/logger.ts';
import type { Collection } from '../store/store.ts';
import { type GuildQuotaRules, type Limit, NO_RULES } from './quota-rules.ts';

/**
 * A server's quota rules as its admins set them (`/quota`): read by every reservation, changed one
 * at a time under the store's key lock.
 */

/** Whose limit a rule change is about. */
export type RuleTarget =
  | { kind: 'everyone' }
  | { kind: 'role'; roleId: string }
  | { kind: 'member'; userId: string }
  | { kind: 'server-total' };

export class QuotaRulesAdmin {
  constructor(
    private readonly rules: Collection<GuildQuotaRules>,
    private readonly logger: Logger,
  ) {}

  async rulesFor(guildId: string | null): Promise<GuildQuotaRules> {
    return (guildId && (await this.rules.get(guildId))) || NO_RULES;
  }

  async setRule(guildId: string, target: RuleTarget, limit: Limit): Promise<void> {
    await this.changeRules(guildId, (rules) => withLimit(rules, target, limit));
  }

  /** Resolves false when there was no such rule. */
  async clearRule(guildId: string, target: RuleTarget): Promise<boolean> {
    const previous = await this.changeRules(guildId, (rules) => withLimit(rules, target, undefined));
    return limitOf(previous, target) !== undefined;
  }

  /** 0 lifts the cap. */
  async setMaxRunning(guildId: string, maxRunningPerMember: number): Promise<void> {
    await this.changeRules(guildId, (rules) => ({ ...rules, maxRunningPerMember }));
  }

  /** 0 removes the cooldown. */
  async setCooldown(guildId: string, cooldownSeconds: number): Promise<void> {
    await this.changeRules(guildId, (rules) => ({ ...rules, cooldownSeconds }));
  }

  async setRoleExempt(guildId: string, roleId: string, exempt: boolean): Promise<void> {
    await this.changeRules(guildId, (rules) => {
      const others = rules.exemptRoleIds.filter((id) => id !== roleId);
      return { ...rules, exemptRoleIds: exempt ? [...others, roleId] : others };
    });
  }

  /** Resolves the rules as they were before the change. */
  private async changeRules(
    guildId: string,
    change: (rules: GuildQuotaRules) => GuildQuotaRules,
  ): Promise<GuildQuotaRules> {
    const previous = await this.rules.update(guildId, (stored) => {
      const rules = stored ?? NO_RULES;
      return { next: change(rules), result: rules };
    });
    this.logger.info('quota_rules_changed', { guildId });
    return previous;
  }
}

function withLimit(rules: GuildQuotaRules, target: RuleTarget, limit: Limit | undefined): GuildQuotaRules {
  switch (target.kind) {
    case 'everyone':
      return { ...rules, everyone: limit };
    case 'server-total':
      return { ...rules, serverTotal: limit };
    case 'role':
      return { ...rules, roles: withKey(rules.roles, target.roleId, limit) };
    case 'member':
      return { ...rules, members: withKey(rules.members, target.userId, limit) };
  }
}

function limitOf(rules: GuildQuotaRules, target: RuleTarget): Limit | undefined {
  switch (target.kind) {
    case 'everyone':
      return rules.everyone;
    case 'server-total':
      return rules.serverTotal;
    case 'role':
      return rules.roles[target.roleId];
    case 'member':
      return rules.members[target.userId];
  }
}

function withKey<V>(record: Record<string, V>, key: string, value: V | undefined): Record<string, V> {
  const { [key]: _replaced, ...rest } = record;
  return value === undefined ? rest : { ...rest, [key]: value };
}
