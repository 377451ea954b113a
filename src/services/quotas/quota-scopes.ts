import type { PeriodKeys } from '../store/store.ts';
import { periodKey } from './quota-rules.ts';

/** Where a member's videos are counted: their server's scope, or their own for DMs. */

export function periodKeysAt(now: number): PeriodKeys {
  return { day: periodKey('day', now), week: periodKey('week', now), month: periodKey('month', now) };
}

export function guildScope(guildId: string): string {
  return `guild-${guildId}`;
}

const DM_SCOPE_PREFIX = 'dm-';

/** Which ledger a member's videos go to: their server's, or their own for DMs. */
export function scopeKey({ guildId, userId }: { guildId: string | null; userId: string }): string {
  return guildId ? guildScope(guildId) : `${DM_SCOPE_PREFIX}${userId}`;
}

export function guildIdOf(scope: string): string | null {
  return scope.startsWith(DM_SCOPE_PREFIX) ? null : scope.slice('guild-'.length);
}
