import { afterEach, describe, expect, it } from 'vitest';
import { type Health, HealthServer } from '../../../src/services/cluster/health-server.ts';
import { BotMetrics } from '../../../src/services/cluster/metrics.ts';

describe('HealthServer', () => {
  const servers: HealthServer[] = [];
  let current: Health;
  const start = async () => {
    const server = await HealthServer.start({
      port: 0,
      host: '127.0.0.1',
      health: () => current,
      metrics: new BotMetrics('gateway'),
    });
    servers.push(server);
    return `http://127.0.0.1:${server.port}`;
  };

  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });

  it('answers 200 with the health when ready and the store is reachable', async () => {
    current = { ready: true, store: 'ok', role: 'gateway', shards: [0, 1], processId: 'p-1' };
    const response = await fetch(`${await start()}/healthz`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await response.json()).toEqual(current);
  });

  it('answers 503 when not ready or the store is unavailable', async () => {
    const base = await start();
    current = { ready: false, store: 'ok', role: 'worker', shards: [], processId: 'p-2' };
    expect((await fetch(`${base}/healthz`)).status).toBe(503);
    current = { ready: true, store: 'unavailable', role: 'worker', shards: [], processId: 'p-2' };
    const response = await fetch(`${base}/healthz`);
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual(current);
  });

  it('serves the metrics text with the Prometheus content type, and 404 elsewhere', async () => {
    current = { ready: true, store: 'ok', role: 'gateway', shards: [0], processId: 'p-3' };
    const base = await start();
    const metrics = await fetch(`${base}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toContain('text/plain; version=0.0.4');
    expect(await metrics.text()).toContain('sora_jobs_waiting{role="gateway"}');
    expect((await fetch(`${base}/nope`)).status).toBe(404);
    expect((await fetch(`${base}/healthz`, { method: 'POST' })).status).toBe(404);
  });
});
