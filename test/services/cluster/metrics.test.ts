import { describe, expect, it } from 'vitest';
import { BotMetrics } from '../../../src/services/cluster/metrics.ts';

describe('BotMetrics', () => {
  it('exposes every bot metric and the process metrics, each labelled with the role', async () => {
    const metrics = new BotMetrics('worker');
    metrics.queueCounts({ waiting: 3, active: 2 });
    metrics.jobFinished('delivered', 'ok');
    metrics.jobFinished('cancelled', 'member');
    metrics.streamEvent('progress');
    metrics.progressEdited(0.2);
    metrics.discordRateLimited();
    metrics.queueWaited(12);

    const text = await metrics.text();
    expect(text).toContain('sora_jobs_waiting{role="worker"} 3');
    expect(text).toContain('sora_jobs_running{role="worker"} 2');
    expect(text).toContain('sora_jobs_finished_total{state="delivered",reason="ok",role="worker"} 1');
    expect(text).toContain('sora_jobs_finished_total{state="cancelled",reason="member",role="worker"} 1');
    expect(text).toContain('sora_stream_events_total{type="progress",role="worker"} 1');
    expect(text).toContain('sora_progress_edit_seconds_count{role="worker"} 1');
    expect(text).toContain('sora_discord_rate_limited_total{role="worker"} 1');
    expect(text).toContain('sora_queue_wait_seconds_bucket{le="15",role="worker"} 1');
    expect(text).toMatch(/process_cpu_user_seconds_total\{role="worker"\}/);
    expect(text).toMatch(/nodejs_eventloop_lag_seconds\{role="worker"\}/);
    const samples = text.split('\n').filter((line) => line && !line.startsWith('#'));
    expect(samples.filter((line) => !line.includes('role="worker"'))).toEqual([]);
  });

  it('keeps two instances apart (no global registry)', async () => {
    const gateway = new BotMetrics('gateway');
    const worker = new BotMetrics('worker');
    gateway.discordRateLimited();
    expect(await gateway.text()).toContain('sora_discord_rate_limited_total{role="gateway"} 1');
    expect(await worker.text()).toContain('sora_discord_rate_limited_total{role="worker"} 0');
  });
});
