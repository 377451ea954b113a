import type { Collection, Store } from '../store/store.ts';
import { wordsOf } from './word-matcher.ts';

/**
 * A server's safety policy as its admins set it with /video-settings: kept in the store (so it
 * survives restarts and every process on Redis reads the same), apart from the other settings.
 */
export interface ServerSafety {
  /** Jobs only in age-restricted channels (threads follow their channel). */
  ageRestrictedOnly: boolean;
  /** Refused words and phrases, as the admin typed them. */
  blockedWords: string[];
  /** Members whose requests are refused. */
  blockedMemberIds: string[];
  /** Where a line is posted for each job event; null: no log. */
  logChannelId: string | null;
  /** Who set the log channel: told once if the bot cannot post there. */
  logChannelSetBy?: string;
  /** The log channel the bot was found unable to post in and the admin was told about. */
  logChannelUnwritable?: string;
  /** Delivered files are marked as spoilers. */
  spoiler: boolean;
}

export const MAX_BLOCKED_WORDS = 300;
/** Long enough for a phrase, short enough that a list of them fits in a Discord message or two. */
export const MAX_BLOCKED_WORD_LENGTH = 100;

const UNSET: ServerSafety = {
  ageRestrictedOnly: false,
  blockedWords: [],
  blockedMemberIds: [],
  logChannelId: null,
  spoiler: false,
};

export type BlockedWordChange = 'added' | 'removed' | 'already-there' | 'not-there' | 'full' | 'no-words';

export class SafetySettings {
  private readonly safety: Collection<ServerSafety>;

  constructor({ store }: { store: Store }) {
    this.safety = store.collection('guild-safety');
  }

  async get(guildId: string): Promise<ServerSafety> {
    return { ...UNSET, ...(await this.safety.get(guildId)) };
  }

  setAgeRestrictedOnly(guildId: string, on: boolean): Promise<ServerSafety> {
    return this.change(guildId, (current) => ({ ...current, ageRestrictedOnly: on }));
  }

  setSpoiler(guildId: string, on: boolean): Promise<ServerSafety> {
    return this.change(guildId, (current) => ({ ...current, spoiler: on }));
  }

  setLogChannel(guildId: string, channelId: string | null, adminId: string): Promise<ServerSafety> {
    return this.change(guildId, (current) => {
      const { logChannelUnwritable: _told, logChannelSetBy: _by, ...rest } = current;
      return channelId
        ? { ...rest, logChannelId: channelId, logChannelSetBy: adminId }
        : { ...rest, logChannelId: null };
    });
  }

  /** Records that the admin was told the bot cannot post in the log channel; false if already told. */
  async markLogChannelUnwritable(guildId: string, channelId: string): Promise<boolean> {
    return this.safety.update(guildId, (stored) => {
      const current = { ...UNSET, ...stored };
      if (current.logChannelId !== channelId || current.logChannelUnwritable === channelId)
        return { next: undefined, result: false };
      return { next: { ...current, logChannelUnwritable: channelId }, result: true };
    });
  }

  block(guildId: string, memberId: string): Promise<ServerSafety> {
    return this.change(guildId, (current) => ({
      ...current,
      blockedMemberIds: [...current.blockedMemberIds.filter((id) => id !== memberId), memberId],
    }));
  }

  unblock(guildId: string, memberId: string): Promise<ServerSafety> {
    return this.change(guildId, (current) => ({
      ...current,
      blockedMemberIds: current.blockedMemberIds.filter((id) => id !== memberId),
    }));
  }

  /** Adds a word or phrase; the same words in another case or accent count as already there. */
  async addBlockedWord(guildId: string, entry: string): Promise<BlockedWordChange> {
    const words = wordsOf(entry);
    if (words.length === 0) return 'no-words';
    return this.safety.update(guildId, (stored) => {
      const current = { ...UNSET, ...stored };
      if (current.blockedWords.some((each) => sameWords(wordsOf(each), words)))
        return { next: undefined, result: 'already-there' as const };
      if (current.blockedWords.length >= MAX_BLOCKED_WORDS)
        return { next: undefined, result: 'full' as const };
      return {
        next: { ...current, blockedWords: [...current.blockedWords, entry.trim()] },
        result: 'added' as const,
      };
    });
  }

  async removeBlockedWord(guildId: string, entry: string): Promise<BlockedWordChange> {
    const words = wordsOf(entry);
    return this.safety.update(guildId, (stored) => {
      const current = { ...UNSET, ...stored };
      const kept = current.blockedWords.filter((each) => !sameWords(wordsOf(each), words));
      if (kept.length === current.blockedWords.length)
        return { next: undefined, result: 'not-there' as const };
      return { next: { ...current, blockedWords: kept }, result: 'removed' as const };
    });
  }

  private change(guildId: string, change: (current: ServerSafety) => ServerSafety): Promise<ServerSafety> {
    return this.safety.update(guildId, (stored) => {
      const next = change({ ...UNSET, ...stored });
      return { next, result: next };
    });
  }
}

function sameWords(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((word, index) => word === b[index]);
}
