import { readFileSync } from 'node:fs';
import { ConfigError } from '../../config.ts';
import { type MemberText, memberText } from '../i18n/member-text.ts';
import type { JobAsk } from '../jobs/job.ts';
import type { Logger } from '../logging/logger.ts';
import type { SafetySettings, ServerSafety } from './safety-settings.ts';
import { WordMatcher } from './word-matcher.ts';

/** Why the policy refused a job: for logs and the moderation log, never shown with the word. */
export type RefusalReason = 'blocked-member' | 'age-restricted' | 'blocked-word';

export type PolicyDecision =
  | { ok: true; safety: ServerSafety | undefined }
  | { ok: false; reason: RefusalReason; message: MemberText };

export const POLICY_REFUSALS: Record<RefusalReason, MemberText> = {
  'blocked-member': memberText('safety.blockedMember'),
  'age-restricted': memberText('safety.ageRestrictedOnly'),
  'blocked-word': memberText('safety.blockedWord'),
};

export interface SafetyPolicyOptions {
  safety: SafetySettings;
  /** The operator's AGE_RESTRICTED_ONLY: every server, and DMs, as if each had it on. */
  ageRestrictedEverywhere: boolean;
  /** The operator's BLOCKED_WORDS_FILE entries, refused in every server and in DMs. */
  operatorWords: readonly string[];
  logger: Logger;
  /** Told of each refusal, with the ask as it came: for the moderation log. */
  onRefused?: (ask: JobAsk, reason: RefusalReason) => void;
}

/**
 * A server's safety policy, checked for every request before anything is reserved or any
 * provider called: blocked members, age-restricted channels only, refused words. The one place
 * that decides it; admission calls it for every way in (slash, mention, form, Retry, Remix).
 */
export class SafetyPolicy {
  private readonly operatorWords: WordMatcher;
  /** Matchers of servers' lists, rebuilt only when a list changes. */
  private readonly serverWords = new Map<string, { list: string; matcher: WordMatcher }>();

  constructor(private readonly options: SafetyPolicyOptions) {
    this.operatorWords = new WordMatcher(options.operatorWords);
  }

  async check(ask: JobAsk): Promise<PolicyDecision> {
    const safety = ask.guildId ? await this.options.safety.get(ask.guildId) : undefined;
    const reason = this.refusalOf(ask, safety);
    if (!reason) return { ok: true, safety };
    this.options.logger.info('job_refused_by_policy', {
      userId: ask.requesterId,
      guildId: ask.guildId,
      channelId: ask.channelId,
      source: ask.source,
      reason,
    });
    this.options.onRefused?.(ask, reason);
    return { ok: false, reason, message: POLICY_REFUSALS[reason] };
  }

  private refusalOf(ask: JobAsk, safety: ServerSafety | undefined): RefusalReason | undefined {
    if (safety?.blockedMemberIds.includes(ask.requesterId)) return 'blocked-member';
    const ageRestrictedOnly = this.options.ageRestrictedEverywhere || safety?.ageRestrictedOnly;
    // Unknown is not age-restricted: a channel the bot could not see is refused, not let through.
    if (ageRestrictedOnly && ask.channelAgeRestricted !== true) return 'age-restricted';
    if (this.operatorWords.find(ask.prompt) !== undefined) return 'blocked-word';
    if (ask.guildId && safety && this.serverMatcher(ask.guildId, safety).find(ask.prompt) !== undefined)
      return 'blocked-word';
    return undefined;
  }

  private serverMatcher(guildId: string, safety: ServerSafety): WordMatcher {
    const list = JSON.stringify(safety.blockedWords);
    const known = this.serverWords.get(guildId);
    if (known?.list === list) return known.matcher;
    const matcher = new WordMatcher(safety.blockedWords);
    this.serverWords.set(guildId, { list, matcher });
    return matcher;
  }
}

/** BLOCKED_WORDS_FILE read at start; an unreadable file stops the start like a bad setting. */
export function loadBlockedWords(file: string | undefined): string[] {
  if (!file) return [];
  try {
    return parseBlockedWordsFile(readFileSync(file, 'utf8'));
  } catch (error) {
    const code = (error as { code?: string }).code ?? 'unreadable';
    throw new ConfigError([`BLOCKED_WORDS_FILE could not be read (${code}): ${file}`]);
  }
}

/** The operator's word file: one word or phrase a line; blank lines and `#` comments ignored. */
export function parseBlockedWordsFile(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0 && !line.startsWith('#'));
}
