import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { type AddressInfo, createServer as createTcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { APIMessage } from 'discord-api-types/v10';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeDiscord } from '../fakes/fake-discord/fake-discord.ts';
import { startFakeVideosApi } from '../fakes/fake-videos-api.ts';
import { killBotProcesses, spawnBotProcess } from '../harness/bot-process.ts';
import { jobIdOf, labelsOf, usageOf, waitForJobFinished } from '../harness/fault-kit.ts';
import { startTestBot, TEST_API_KEY, type TestBot, videoOptions } from '../harness/test-bot.ts';

/**
 * What the bot must not hand out or be talked into, through the real bot: a relay pointing its
 * download at the machine's own services, the operator's figures on every interface, a setting a
 * Node timer cannot hold. (Interaction tokens at rest: restart.test.ts, which kills the process.)
 */

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  await killBotProcesses();
});

const FAILED = 'could not be made';
const READY = 'Your video is ready';
const isFinal = (message: APIMessage) => [READY, FAILED].some((text) => message.content.includes(text));

/** A loopback HTTP server standing in for something on the bot's own network; it counts its visitors. */
async function internalService(): Promise<{ origin: string; hits: string[] }> {
  const hits: string[] = [];
  const server: Server = createServer((request, response) => {
    hits.push(request.url ?? '');
    response.writeHead(200, { 'content-type': 'video/mp4' }).end(Buffer.alloc(4_096, 1));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(
    () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(resolve);
      }),
  );
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits };
}

async function freePort(): Promise<number> {
  const server = createTcpServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function bot(env: Record<string, string>): Promise<TestBot> {
  const started = await startTestBot({ env });
  cleanups.push(() => started.close());
  return started;
}

describe('downloads', () => {
  it('Videos API /content redirected to a loopback address (ALLOW_PRIVATE_VIDEO_URLS=false): not fetched, the member is told, nothing charged', async () => {
    const internal = await internalService();
    const api = await startFakeVideosApi({ apiKey: TEST_API_KEY });
    cleanups.push(() => api.close());
    // The relay itself is on loopback too: it is the configured SORA_API_URL, so it is trusted.
    // Where it redirects the download to is not.
    api.scriptNextJob({ queuedMs: 50, processingMs: 100, contentRedirectOrigin: internal.origin });
    const strict = await bot({
      SORA_API_FORMAT: 'videos',
      SORA_API_URL: api.apiUrl,
      SORA_POLL_INTERVAL_MS: '50',
      ALLOW_PRIVATE_VIDEO_URLS: 'false',
      DEFAULT_MEMBER_LIMIT: '5',
    });
    const before = await usageOf(strict.discord);

    const ix = strict.discord.slashCommand({
      name: 'video',
      options: videoOptions({ prompt: 'a locked door' }),
    });
    const final = await strict.discord.waitForOriginal(ix, isFinal);

    expect(final.content).toContain(FAILED);
    expect(final.content).toContain('where the bot may not fetch it');
    expect(final.attachments).toHaveLength(0);
    expect(labelsOf(final)).toContain('Retry');
    expect(internal.hits).toEqual([]);
    expect(api.count('content')).toBeGreaterThan(0);
    const finished = await waitForJobFinished(strict.logs, jobIdOf(final));
    expect(finished.state).toBe('failed');
    expect(await usageOf(strict.discord)).toEqual({ used: before.used, running: 0 });
    expect(strict.logs.join('\n')).not.toContain(TEST_API_KEY);
  });
});

describe('health and metrics', () => {
  it('METRICS_PORT without METRICS_HOST: served on loopback only, another address of the machine gets no answer', async () => {
    const port = await freePort();
    await bot({ METRICS_PORT: String(port) });
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    // 127.0.0.2 is this machine too, but not the address the server was told to listen on; a
    // server on every interface (0.0.0.0) would answer there, and so on a public one.
    await expect(fetch(`http://127.0.0.2:${port}/healthz`)).rejects.toThrow();
  });

  it('METRICS_TOKEN: /metrics refuses a scraper without the bearer token, /healthz stays open', async () => {
    const token = 'metrics-token-for-the-scraper';
    const port = await freePort();
    const guarded = await bot({ METRICS_PORT: String(port), METRICS_TOKEN: token });
    const base = `http://127.0.0.1:${port}`;

    const anonymous = await fetch(`${base}/metrics`);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.text()).not.toContain('sora_jobs');
    const wrong = await fetch(`${base}/metrics`, {
      headers: { authorization: 'Bearer not-the-token-at-all' },
    });
    expect(wrong.status).toBe(401);
    const scraper = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    expect(scraper.status).toBe(200);
    expect(await scraper.text()).toContain('sora_jobs_waiting');
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect(guarded.logs.join('\n')).not.toContain(token);
  });
});

describe('settings', () => {
  it('a wait longer than a Node timer holds (SERVICE_TIMEOUT_MS=2147483648) refuses to start: exit code 1, one line names the setting', async () => {
    // A fake Discord, so that a bot that wrongly starts stays off the network.
    const discord = await startFakeDiscord();
    cleanups.push(() => discord.close());
    const dataDir = await mkdtemp(path.join(tmpdir(), 'sora-bot-exposure-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const process_ = spawnBotProcess({
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DISCORD_TOKEN: discord.botToken,
      DISCORD_API_URL: discord.apiUrl,
      SORA_API_KEY: TEST_API_KEY,
      DATA_DIR: dataDir,
      // Meant as "very long"; Node would fire it at once, ending every job on its first second.
      SERVICE_TIMEOUT_MS: String(2 ** 31),
    });
    const [code] = await once(process_.child, 'close');
    expect(code).toBe(1);
    const problems = process_.stderr
      .join('')
      .split('\n')
      .filter((line) => line.includes('SERVICE_TIMEOUT_MS'));
    expect(problems).toEqual([expect.stringMatching(/SERVICE_TIMEOUT_MS must be at most 2147483647/)]);
    expect(process_.lines.filter((line) => line.trim() !== '')).toEqual([]);
  });
});
