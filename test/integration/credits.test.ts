import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeMember } from '../support/fake-discord/fake-discord.ts';
import { snowflake } from '../support/fake-discord/snowflake.ts';
import { parseLogs, waitForLog } from '../support/fault-kit.ts';
import { type RedisServer, startRedisServer } from '../support/redis-server.ts';
import { startTestBot, type TestBot } from '../support/test-bot.ts';

/**
 * Credits bought in Discord, with the real bot and the fake Discord's Premium Apps routes: a
 * purchase is credited to the buyer exactly once (an event delivered twice, the same entitlement
 * in an interaction, the list at start after a restart) and then consumed.
 */

const SECONDS_SKU = snowflake();
const MONEY_SKU = snowflake();

let bot: TestBot;
let redis: RedisServer | undefined;

async function usage(member: FakeMember): Promise<string> {
  const ix = bot.discord.slashCommand({ name: 'usage', member });
  const callback = await bot.discord.waitForCallback(ix);
  return String((callback.body as { data?: { content?: string } }).data?.content);
}

const consumedLogs = (entitlementId: string) =>
  parseLogs(bot.logs).filter(
    (entry) => entry.event === 'entitlement_consumed' && entry.entitlementId === entitlementId,
  ).length;

function consumed(entitlementId: string, times = 1) {
  return waitForLog(bot.logs, () => consumedLogs(entitlementId) >= times, {
    what: `entitlement ${entitlementId} consumed ${times}×`,
  });
}

describe.each(['sqlite', 'redis'] as const)('credits on %s', (backend) => {
  beforeAll(async () => {
    redis = backend === 'redis' ? await startRedisServer() : undefined;
    bot = await startTestBot({
      env: {
        CREDIT_SKUS: `${SECONDS_SKU}=60s,${MONEY_SKU}=5.00`,
        ...(redis ? { REDIS_URL: redis.url } : {}),
      },
    });
  });
  afterAll(async () => {
    await bot?.close();
    await redis?.stop();
  });

  it('a purchase event credits once even when delivered twice, and the entitlement is consumed', async () => {
    const member = bot.discord.member({ username: 'buyer' });
    const bought = bot.discord.purchase({ userId: member.user.id, skuId: SECONDS_SKU });
    await consumed(bought.id);
    expect(bot.discord.entitlement(bought.id)?.consumed).toBe(true);
    // Discord delivers the same event again, as it was (unconsumed).
    bot.discord.dispatch('ENTITLEMENT_CREATE', { ...bought, consumed: false, consumeCalls: undefined });
    await consumed(bought.id, 2);
    expect(await usage(member)).toContain('Your credits: 60 s of video and $0.00.');
  });

  it('a purchase seen only in an interaction is credited before the command answers', async () => {
    const member = bot.discord.member({ username: 'quiet-buyer' });
    const bought = bot.discord.purchase({ userId: member.user.id, skuId: MONEY_SKU, event: false });
    expect(await usage(member)).toContain('Your credits: 0 s of video and $5.00.');
    expect(bot.discord.entitlement(bought.id)?.consumed).toBe(true);
  });

  it('across a restart: a purchase made while the bot was down is credited at start, and one credited but not consumed is not credited again', async () => {
    const member = bot.discord.member({ username: 'night-buyer' });
    const first = bot.discord.purchase({ userId: member.user.id, skuId: MONEY_SKU });
    await consumed(first.id);
    await bot.stopBot();
    // The consume was lost (say the process died right after crediting), and a new purchase came in.
    const lost = bot.discord.entitlement(first.id);
    if (lost) lost.consumed = false;
    const second = bot.discord.purchase({ userId: member.user.id, skuId: SECONDS_SKU, event: false });
    await bot.restartBot();
    await consumed(first.id, 2);
    await consumed(second.id);
    expect(bot.discord.entitlement(first.id)?.consumed).toBe(true);
    expect(await usage(member)).toContain('Your credits: 60 s of video and $5.00.');
  });
});
