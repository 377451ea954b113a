import { setTimeout as sleep } from 'node:timers/promises';
import { DefaultRestOptions, type RESTOptions } from 'discord.js';
import { closeRedisClient, createRedisClient, type RedisClient } from '../redis/redis-clients.ts';
import { TIMED_OUT, withDeadline } from '../timing/deadline.ts';

/**
 * Discord's global limit (50 requests a second by default) is per bot, not per process. discord.js
 * keeps each process under it, but several processes of one bot together would not be: each
 * request first takes a slot in a one-second window shared in Redis, and waits for the next window
 * when this one is full.
 *
 * Interaction routes (the defer, and the edits of a deferred reply) are exempt, as Discord exempts
 * them from the global limit: a member's "thinking…" and progress never wait behind channel posts. When Redis does not answer in time the
 * request goes ahead: discord.js's own per-process limit still holds.
 */

export interface ClusterRateLimitOptions {
  redisUrl: string;
  requestsPerSecond: number;
  /** How long to wait for Redis before sending anyway. */
  timeoutMs: number;
  namespace?: string;
  onError?: (error: unknown) => void;
}

const TAKE_SLOT = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], 2000) end
return count`;

export class ClusterRateLimit {
  private readonly client: RedisClient;
  private readonly prefix: string;

  constructor(private readonly options: ClusterRateLimitOptions) {
    this.prefix = `${options.namespace ?? 'sora:rest'}:window:`;
    const onError = options.onError ?? (() => {});
    this.client = createRedisClient(options.redisUrl, { disableOfflineQueue: true, onError });
    this.client.connect().catch(onError);
  }

  /** `makeRequest` for discord.js's REST: the default one, behind a slot of the shared window. */
  makeRequest(): RESTOptions['makeRequest'] {
    return async (url, init) => {
      if (!isInteractionRoute(url)) await this.takeSlot();
      return DefaultRestOptions.makeRequest(url, init);
    };
  }

  /**
   * Resolves once this request may go: at once while the window has room, else at the next one.
   * Resolves the window (Unix second) it counted in, or undefined when Redis did not answer.
   */
  async takeSlot(): Promise<number | undefined> {
    for (;;) {
      const now = Date.now();
      const second = Math.floor(now / 1000);
      const count = await this.count(second);
      if (count === undefined) return undefined;
      if (count <= this.options.requestsPerSecond) return second;
      await sleep((second + 1) * 1000 - now + Math.floor(Math.random() * 20));
    }
  }

  close(): Promise<void> {
    return closeRedisClient(this.client);
  }

  private async count(second: number): Promise<number | undefined> {
    if (!this.client.isReady) return undefined;
    const taken = this.client
      .eval(TAKE_SLOT, { keys: [`${this.prefix}${second}`] })
      .then((value) => Number(value))
      .catch((error: unknown) => {
        this.options.onError?.(error);
        return undefined;
      });
    const count = await withDeadline(taken, this.options.timeoutMs);
    return count === TIMED_OUT ? undefined : count;
  }
}

/**
 * Interaction callbacks and the interaction webhook (`/webhooks/{application}/{token}…`: the
 * deferred reply's edits, follow-ups and uploads) are "not bound to the application's Global Rate
 * Limit"; only the bot's own token routes count.
 */
function isInteractionRoute(url: string): boolean {
  const path = new URL(url).pathname;
  return /\/interactions\/\d+\/[^/]+\/callback$/.test(path) || /\/webhooks\/\d+\/[^/]+/.test(path);
}
