/**
 * What a process does. `all` is the whole bot in one process (the default); with REDIS_URL, a
 * `gateway` takes requests from Discord and queues them, and a `worker` runs queued jobs over REST.
 * An `interactions` process is a front door with no gateway connection: it answers commands,
 * buttons and forms that Discord POSTs to INTERACTIONS_PORT, and queues the jobs (mentions need a
 * gateway). Several can run side by side behind a load balancer.
 */
export const BOT_ROLES = ['all', 'gateway', 'worker', 'interactions'] as const;
export type BotRole = (typeof BOT_ROLES)[number];

export function runsFrontDoors(role: BotRole): boolean {
  return role !== 'worker';
}

export function runsJobs(role: BotRole): boolean {
  return role === 'all' || role === 'worker';
}

/** Whether the process logs in to Discord's gateway (for mentions, and interactions not sent over HTTP). */
export function connectsGateway(role: BotRole): boolean {
  return role === 'all' || role === 'gateway';
}
