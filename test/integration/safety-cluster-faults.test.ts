import type { APIMessage } from 'discord-api-types/v10';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, startApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import type { FakeMember } from '../fakes/fake-discord/fake-discord.ts';
import { progressStream } from '../fakes/fake-video-service.ts';
import { hasVideoFile } from '../harness/fault-kit.ts';
import { type RedisServer, startRedisServer } from '../harness/redis-server.ts';
import { startTestBot, type TestBot, videoOptions } from '../harness/test-bot.ts';

/**
 * The safety policy with the queue: a gateway (BOT_ROLE=gateway) admits and queues, a worker
 * (BOT_ROLE=worker, REST only) runs the job, both on one Redis. The policy the admin set through
 * the gateway is read from Redis, and the worker, which runs the job, posts its log lines.
 */

let redis: RedisServer;
let gateway: TestBot;
let worker: App;
const workerLogs: string[] = [];
let admin: FakeMember;

beforeAll(async () => {
  redis = await startRedisServer();
  const shared = { REDIS_URL: redis.url, DEFAULT_MAX_RUNNING_PER_MEMBER: '0' };
  gateway = await startTestBot({ env: { ...shared, BOT_ROLE: 'gateway' } });
  const env = { ...gateway.env, BOT_ROLE: 'worker' };
  worker = await startApp(loadConfig(env), {
    writeLog: (line) => workerLogs.push(line),
    catalogue: gateway.catalogue,
    env,
  });
  admin = gateway.discord.member({ username: 'admin', permissions: 1n << 5n });
});
afterAll(async () => {
  await worker?.stop();
  await gateway?.close();
  await redis?.stop();
});

describe('the safety policy on a cluster', () => {
  it('moderation log on a cluster: the worker that runs the job posts its lines; the gateway refuses by the shared policy', async () => {
    const { discord } = gateway;
    const settings = async (subcommand: string, options: unknown[] = [], subcommandGroup?: string) =>
      discord.waitForCallback(
        discord.slashCommand({
          name: 'video-settings',
          member: admin,
          subcommand,
          subcommandGroup,
          options: options as never,
        }),
      );
    await settings('log-channel', [{ name: 'channel', type: 7, value: discord.otherChannel.id }]);
    await settings('add', [{ name: 'word', type: 3, value: 'zebra' }], 'blocked-words');
    const member = discord.member({ username: 'yara' });

    gateway.service.enqueue(progressStream());
    const ix = discord.slashCommand({ name: 'video', member, options: videoOptions({ prompt: 'a heron' }) });
    await discord.waitForOriginal(ix, hasVideoFile);
    const delivered = await discord.waitForRequest(
      (request) =>
        request.path === `/channels/${discord.otherChannel.id}/messages` &&
        JSON.stringify(request.body).includes('Delivered') &&
        JSON.stringify(request.body).includes(`<@${member.user.id}>`),
    );
    expect((delivered.body as APIMessage).content).toContain('> a heron');
    // The gateway runs no jobs: the job ran, and was logged, on the worker.
    expect(workerLogs.some((line) => line.includes('"job_finished"'))).toBe(true);
    expect(gateway.logs.some((line) => line.includes('"job_finished"'))).toBe(false);

    const refused = discord.slashCommand({
      name: 'video',
      member,
      options: videoOptions({ prompt: 'a zebra' }),
    });
    const answer = await discord.waitForMessage(
      (_message, record) => record.ephemeral && refused.followupIds.includes(record.id),
    );
    expect(answer.content).toContain('does not allow');
    expect(gateway.service.requests).toHaveLength(1);
  });
});
