/**
 * What a process does. `all` is the whole bot in one process (the default); with REDIS_URL, a
 * `gateway` takes requests from Discord and queues them, and a `worker` runs queued jobs over REST.
 */
export const BOT_ROLES = ['all', 'gateway', 'worker'] as const;
export type BotRole = (typeof BOT_ROLES)[number];

export function runsFrontDoors(role: BotRole): boolean {
  return role !== 'worker';
}

export function runsJobs(role: BotRole): boolean {
  return role !== 'gateway';
}
