import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { progressStream } from '../fakes/fake-video-service.ts';
import { hasVideoFile, waitForLog } from '../harness/fault-kit.ts';
import { startRedisServer } from '../harness/redis-server.ts';
import { startTestBot, type TestBot, videoOptions } from '../harness/test-bot.ts';

/**
 * What an operator sees of a running bot on METRICS_PORT: `GET /healthz` for the orchestrator and
 * `GET /metrics` for Prometheus, served by the real bot.
 */

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function botWithMetrics(env: Record<string, string> = {}): Promise<{ bot: TestBot; base: string }> {
  const port = await freePort();
  const bot = await startTestBot({ env: { METRICS_PORT: String(port), ...env } });
  cleanups.push(() => bot.close());
  return { bot, base: `http://127.0.0.1:${port}` };
}

async function health(base: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${base}/healthz`);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('operator view (METRICS_PORT)', () => {
  it('reports ready with its role and shards, and counts a delivered video in /metrics', async () => {
    const { bot, base } = await botWithMetrics();
    expect(await health(base)).toEqual({
      status: 200,
      body: expect.objectContaining({ ready: true, store: 'ok', role: 'all', shards: [0] }),
    });

    bot.service.enqueue(progressStream({ steps: [20, 60] }));
    const ix = bot.discord.slashCommand({ name: 'video', options: videoOptions({ prompt: 'a kite' }) });
    await bot.discord.waitForOriginal(ix, hasVideoFile);
    await waitForLog(bot.logs, (entry) => entry.event === 'job_finished');

    const response = await fetch(`${base}/metrics`);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    expect(text).toMatch(/^sora_jobs_finished_total\{[^}]*state="delivered"[^}]*\} 1$/m);
    expect(text).toMatch(/^sora_stream_events_total\{[^}]*type="progress"[^}]*\} 2$/m);
    expect(text).toMatch(/^sora_progress_edit_seconds_count\{[^}]*role="all"[^}]*\} [1-9]\d*$/m);
    expect(text).toMatch(/^process_resident_memory_bytes\{[^}]*role="all"[^}]*\} \d+/m);
    expect(text).not.toContain(bot.env.SORA_API_KEY);
    expect(text).not.toContain(bot.discord.botToken);
  });

  it('answers 503 while its Redis is down, and 200 again once it is back', async () => {
    const redis = await startRedisServer({ persist: true });
    cleanups.push(() => redis.stop());
    const { bot, base } = await botWithMetrics({ REDIS_URL: redis.url });
    expect((await health(base)).status).toBe(200);

    await redis.kill();
    // The store notices on its next call: a request makes one.
    bot.discord.slashCommand({ name: 'usage' });
    await waitForLog(bot.logs, (entry) => entry.event === 'store_unavailable');
    expect(await health(base)).toEqual({
      status: 503,
      body: expect.objectContaining({ ready: true, store: 'unavailable', role: 'all' }),
    });

    await redis.restart();
    await waitForLog(bot.logs, (entry) => entry.event === 'store_recovered');
    expect(await health(base)).toEqual({ status: 200, body: expect.objectContaining({ store: 'ok' }) });
  });

  it('serves nothing when METRICS_PORT is not set', async () => {
    const bot = await startTestBot();
    cleanups.push(() => bot.close());
    expect(bot.logs.some((line) => line.includes('"metricsPort"'))).toBe(false);
    expect(bot.logs.find((line) => line.includes('"bot_ready"'))).toContain('"role":"all"');
  });
});
