/**
 * Discord snowflakes for test fixtures: 64-bit ids whose top 42 bits are milliseconds since the
 * Discord epoch, so `createdTimestamp` in discord.js matches the time a fixture was made "at".
 * Ids made now are 19 digits long, which @discordjs/rest needs to find rate-limit major parameters.
 */

export const DISCORD_EPOCH = 1_420_070_400_000;

let increment = 0;

/** A new, unique snowflake whose timestamp is `at` (ms since the Unix epoch, default now). */
export function snowflake(at: number = Date.now()): string {
  increment = (increment + 1) % 4096;
  const worker = 1n;
  const processId = 1n;
  const value =
    (BigInt(Math.floor(at) - DISCORD_EPOCH) << 22n) |
    (worker << 17n) |
    (processId << 12n) |
    BigInt(increment);
  return value.toString();
}

/** The creation time (ms since the Unix epoch) encoded in a snowflake. */
export function snowflakeTime(id: string): number {
  return Number(BigInt(id) >> 22n) + DISCORD_EPOCH;
}

/**
 * A new snowflake that Discord routes to shard `shardId` of `shardCount` (`(id >> 22) % count`, the
 * timestamp in ms): made `at`, or up to `shardCount - 1` ms later. With one shard it is `snowflake(at)`.
 */
export function snowflakeOnShard(shardId: number, shardCount: number, at: number = Date.now()): string {
  if (!Number.isInteger(shardId) || shardId < 0 || shardId >= shardCount) {
    throw new Error(`fake discord: no shard ${shardId} among ${shardCount}`);
  }
  const offset = (Math.floor(at) - DISCORD_EPOCH) % shardCount;
  return snowflake(Math.floor(at) + ((shardId - offset + shardCount) % shardCount));
}
