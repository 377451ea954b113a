import type { APIMessage } from 'discord-api-types/v10';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { FakeInteraction, FakeMember } from '../fakes/fake-discord/fake-discord.ts';
import { snowflake } from '../fakes/fake-discord/snowflake.ts';
import { progressStream } from '../fakes/fake-video-service.ts';
import { hasVideoFile, parseLogs, waitForLog } from '../harness/fault-kit.ts';
import { type RedisServer, startRedisServer } from '../harness/redis-server.ts';
import { startTestBot, type TestBot, videoOptions } from '../harness/test-bot.ts';

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

function video(member: FakeMember): FakeInteraction {
  return bot.discord.slashCommand({ name: 'video', member, options: videoOptions({ prompt: 'a red kite' }) });
}

async function refusalOf(ix: FakeInteraction): Promise<APIMessage> {
  return bot.discord.waitForMessage(
    (message, record) => record.ephemeral && ix.followupIds.includes(message.id),
  );
}

function creditSeconds(usageText: string): number {
  const seconds = /Your credits: (\d+) s/.exec(usageText)?.[1];
  if (seconds === undefined) throw new Error(`no credits in /usage: ${usageText}`);
  return Number(seconds);
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
        DEFAULT_MEMBER_LIMIT: '1',
        DEFAULT_MAX_RUNNING_PER_MEMBER: '0',
        ALLOW_DMS: 'true',
        ...(redis ? { REDIS_URL: redis.url } : {}),
      },
    });
  });
  afterAll(async () => {
    await bot?.close();
    await redis?.stop();
  });
  beforeEach(() => bot.service.reset());

  it('the premium button appears once the allowance is gone; bought credits then pay, and a failed job paid from them is refunded', async () => {
    const member = bot.discord.member({ username: 'spender' });
    bot.service.enqueue(progressStream());
    await bot.discord.waitForOriginal(video(member), hasVideoFile);

    const refused = video(member);
    const refusal = await refusalOf(refused);
    expect(refusal.content).toContain('1 of 1');
    expect(refusal.components).toEqual([
      {
        type: 1,
        components: [
          { type: 2, style: 6, sku_id: SECONDS_SKU },
          { type: 2, style: 6, sku_id: MONEY_SKU },
        ],
      },
    ]);

    const bought = bot.discord.purchase({ userId: member.user.id, skuId: SECONDS_SKU });
    await consumed(bought.id);
    expect(creditSeconds(await usage(member))).toBe(60);

    bot.service.enqueue(progressStream());
    await bot.discord.waitForOriginal(video(member), hasVideoFile);
    const afterPaid = creditSeconds(await usage(member));
    expect(afterPaid).toBeLessThan(60);
    expect(afterPaid).toBeGreaterThanOrEqual(0);

    bot.service.enqueue({
      status: 400,
      body: { error: { message: 'Your request was blocked by our moderation system.' } },
    });
    const failing = video(member);
    await bot.discord.waitForOriginal(failing, (message) => message.content.includes('could not be made'));
    await waitForLog(
      bot.logs,
      (entry) => entry.event === 'credit_refunded' && entry.userId === member.user.id,
    );
    expect(creditSeconds(await usage(member))).toBe(afterPaid);
  });

  it('outside a server only credits pay: refused with the premium buttons, then paid from what was bought', async () => {
    const member = bot.discord.member({ username: 'dm-maker' });
    const inDm = () =>
      bot.discord.slashCommand({
        name: 'video',
        member,
        guild: false,
        options: videoOptions({ prompt: 'a kite' }),
      });
    const refusal = await refusalOf(inDm());
    expect(refusal.content).toContain('Outside a server, videos are paid with credits');
    expect(refusal.components?.[0]).toMatchObject({
      components: [{ style: 6, sku_id: SECONDS_SKU }, { style: 6 }],
    });
    const bought = bot.discord.purchase({ userId: member.user.id, skuId: SECONDS_SKU });
    await consumed(bought.id);
    bot.service.enqueue(progressStream());
    await bot.discord.waitForOriginal(inDm(), hasVideoFile);
    expect(creditSeconds(await usage(member))).toBeLessThan(60);
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
