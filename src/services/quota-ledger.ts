import { retentionStart } from './quota-rules.ts';

/**
 * One quota scope's record of videos (a server, or one member's DMs), kept as a single document so
 * every change to it is one atomic write. Released reservations are deleted; delivered ones stay
 * until no period can count them any more; pending ones stay until committed or released.
 */

export interface LedgerEntry {
  id: string;
  userId: string;
  createdAt: number;
  periodKey: string;
  state: 'pending' | 'committed';
}

export interface Ledger {
  entries: LedgerEntry[];
  /** Each member's latest reservation time, kept apart because released entries are deleted. */
  lastReserveAt: Record<string, number>;
}

export const EMPTY_LEDGER: Ledger = { entries: [], lastReserveAt: {} };

/** Committed and pending videos since `since`, for one member or (without `userId`) everyone. */
export function countSince(ledger: Ledger, since: number, userId?: string): number {
  return ledger.entries.filter(
    (entry) => entry.createdAt >= since && (userId === undefined || entry.userId === userId),
  ).length;
}

export function countPending(ledger: Ledger, userId: string): number {
  return ledger.entries.filter((entry) => entry.userId === userId && entry.state === 'pending').length;
}

export function withEntry(ledger: Ledger, entry: LedgerEntry): Ledger {
  return {
    entries: [...ledger.entries, entry],
    lastReserveAt: { ...ledger.lastReserveAt, [entry.userId]: entry.createdAt },
  };
}

/** Marks a pending entry delivered; null when there is nothing to change (already committed or released). */
export function withCommitted(ledger: Ledger, id: string): Ledger | null {
  const entry = ledger.entries.find((candidate) => candidate.id === id);
  if (entry?.state !== 'pending') return null;
  const entries = ledger.entries.map((candidate) =>
    candidate === entry ? { ...candidate, state: 'committed' as const } : candidate,
  );
  return { ...ledger, entries };
}

/** Drops a pending entry; null when there is nothing to change. A delivered video stays counted. */
export function withReleased(ledger: Ledger, id: string): Ledger | null {
  const entries = ledger.entries.filter((entry) => !(entry.id === id && entry.state === 'pending'));
  return entries.length === ledger.entries.length ? null : { ...ledger, entries };
}

/** Forgets one member's delivered videos and cooldown; their running jobs stay reserved. */
export function withMemberReset(ledger: Ledger, userId: string): Ledger {
  const entries = ledger.entries.filter((entry) => entry.userId !== userId || entry.state === 'pending');
  const { [userId]: _forgotten, ...lastReserveAt } = ledger.lastReserveAt;
  return { entries, lastReserveAt };
}

/** Drops what no rule can count any more, so the document stays the size of about a month. */
export function pruned(ledger: Ledger, now: number, cooldownMs: number): Ledger {
  const keepSince = retentionStart(now);
  const entries = ledger.entries.filter((entry) => entry.state === 'pending' || entry.createdAt >= keepSince);
  const lastReserveAt = Object.fromEntries(
    Object.entries(ledger.lastReserveAt).filter(([, at]) => at + cooldownMs > now),
  );
  return { entries, lastReserveAt };
}

/** Members by videos since `since`, most first. */
export function topMembers(
  ledger: Ledger,
  since: number,
  count: number,
): Array<{ userId: string; used: number }> {
  const perMember = new Map<string, number>();
  for (const entry of ledger.entries) {
    if (entry.createdAt >= since) perMember.set(entry.userId, (perMember.get(entry.userId) ?? 0) + 1);
  }
  return [...perMember]
    .map(([userId, used]) => ({ userId, used }))
    .sort((a, b) => b.used - a.used || a.userId.localeCompare(b.userId))
    .slice(0, count);
}
