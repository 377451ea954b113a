import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { BotRole } from './roles.ts';

/**
 * The bot's Prometheus metrics, in a registry of its own (never prom-client's global one, so two
 * instances in one process, as in tests, do not collide). Every metric, the default process ones
 * included, carries the process `role`, so gateways and workers can be told apart on one dashboard.
 */

export type ProcessRole = BotRole;
export type FinishedState = 'delivered' | 'failed' | 'cancelled' | 'interrupted';

export interface QueueGauges {
  waiting: number;
  active: number;
}

const SECONDS_BUCKETS_EDIT = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10];
const SECONDS_BUCKETS_WAIT = [1, 5, 15, 30, 60, 120, 300, 600, 1_200, 1_800];

export class BotMetrics {
  readonly registry = new Registry();
  private readonly waiting: Gauge;
  private readonly running: Gauge;
  private readonly finished: Counter<'state' | 'reason'>;
  private readonly streamEvents: Counter<'type'>;
  private readonly progressEdit: Histogram;
  private readonly rateLimited: Counter;
  private readonly queueWait: Histogram;

  constructor(role: ProcessRole) {
    const registers = [this.registry];
    this.registry.setDefaultLabels({ role });
    collectDefaultMetrics({ register: this.registry });
    this.waiting = new Gauge({
      name: 'sora_jobs_waiting',
      help: 'Jobs waiting in the cluster queue.',
      registers,
    });
    this.running = new Gauge({ name: 'sora_jobs_running', help: 'Jobs running in the cluster.', registers });
    this.finished = new Counter({
      name: 'sora_jobs_finished_total',
      help: 'Jobs finished, by final state and reason.',
      labelNames: ['state', 'reason'],
      registers,
    });
    this.streamEvents = new Counter({
      name: 'sora_stream_events_total',
      help: 'Events received from the video service stream, by type.',
      labelNames: ['type'],
      registers,
    });
    this.progressEdit = new Histogram({
      name: 'sora_progress_edit_seconds',
      help: 'Time to edit a progress message over Discord REST.',
      buckets: SECONDS_BUCKETS_EDIT,
      registers,
    });
    this.rateLimited = new Counter({
      name: 'sora_discord_rate_limited_total',
      help: 'Discord REST requests answered with a rate limit.',
      registers,
    });
    this.queueWait = new Histogram({
      name: 'sora_queue_wait_seconds',
      help: 'Time a job waited in the queue before a worker started it.',
      buckets: SECONDS_BUCKETS_WAIT,
      registers,
    });
  }

  /** The queue's current counts (from `JobQueue.counts()`), sampled by whoever polls it. */
  queueCounts(counts: QueueGauges): void {
    this.waiting.set(counts.waiting);
    this.running.set(counts.active);
  }

  jobFinished(state: FinishedState | (string & {}), reason: string): void {
    this.finished.inc({ state, reason });
  }

  streamEvent(type: string): void {
    this.streamEvents.inc({ type });
  }

  progressEdited(seconds: number): void {
    this.progressEdit.observe(seconds);
  }

  discordRateLimited(): void {
    this.rateLimited.inc();
  }

  queueWaited(seconds: number): void {
    this.queueWait.observe(seconds);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
