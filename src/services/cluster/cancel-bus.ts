import { closeRedisClient, createRedisClient, type RedisClient } from '../redis/redis-clients.ts';
import { withDeadline } from '../timing/deadline.ts';

/**
 * Cancel pressed on any gateway reaches the job wherever it runs.
 *
 * A request is published on a Redis channel for the worker running the job now, and also left as a
 * short-lived marker key for a worker that takes the job a moment later and missed the message.
 * Listening uses its own connection (a subscribed connection can run nothing else), and node-redis
 * subscribes it again after every reconnect, so a Redis restart does not silence the bus.
 */

export interface CancelRequest {
  jobId: string;
  byMemberId: string;
}

export type CancelListener = (request: CancelRequest) => void;

export interface CancelBusOptions {
  redisUrl: string;
  /** Channel and key prefix; processes sharing a Redis and a namespace share the bus. */
  namespace?: string;
  /** How long the marker outlives the request: longer than a job waits between taken and started. */
  markerTtlSeconds?: number;
  /** Connection errors and malformed messages, for logging: they never end the process. */
  onError?: (error: unknown) => void;
}

const DEFAULT_NAMESPACE = 'sora:cancel';
const DEFAULT_MARKER_TTL_SECONDS = 600;
const FIRST_CONNECTION_WAIT_MS = 5_000;

export class CancelBus {
  private readonly commands: RedisClient;
  private readonly subscriber: RedisClient;
  private readonly listeners = new Set<CancelListener>();
  private readonly channel: string;
  private readonly keyPrefix: string;
  private readonly markerTtlSeconds: number;
  private readonly onError: (error: unknown) => void;
  private readonly subscribed: Promise<void>;
  private readonly commandsConnected: Promise<unknown>;

  constructor(options: CancelBusOptions) {
    const namespace = options.namespace ?? DEFAULT_NAMESPACE;
    this.channel = `${namespace}:requests`;
    this.keyPrefix = `${namespace}:job:`;
    this.markerTtlSeconds = options.markerTtlSeconds ?? DEFAULT_MARKER_TTL_SECONDS;
    this.onError = options.onError ?? (() => {});
    // A press during an outage fails at once instead of hanging the button's answer.
    this.commands = createRedisClient(options.redisUrl, { disableOfflineQueue: true, onError: this.onError });
    this.commandsConnected = this.commands.connect().catch(this.onError);
    this.subscriber = this.commands.duplicate({ disableOfflineQueue: false });
    this.subscriber.on('error', this.onError);
    this.subscriber.connect().catch(this.onError);
    this.subscribed = this.subscriber.subscribe(this.channel, (message) => this.deliver(message));
    this.subscribed.catch(this.onError);
  }

  /** Resolves once this process hears cancel requests. */
  ready(): Promise<void> {
    return this.subscribed;
  }

  async requestCancel(jobId: string, byMemberId: string): Promise<void> {
    const request = JSON.stringify({ jobId, byMemberId } satisfies CancelRequest);
    await this.firstConnection();
    // The marker first: a worker that misses the message must still find it.
    await this.commands.set(this.keyOf(jobId), request, { EX: this.markerTtlSeconds });
    await this.commands.publish(this.channel, request);
  }

  /** The cancel request left for this job, if any: for a worker about to start it. */
  async isCancelRequested(jobId: string): Promise<CancelRequest | undefined> {
    await this.firstConnection();
    const marker = await this.commands.get(this.keyOf(jobId));
    return marker ? this.parse(marker) : undefined;
  }

  /** Hears every cancel request in the cluster; returns the function that stops listening. */
  onCancel(listener: CancelListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.listeners.clear();
    await Promise.all([this.subscriber, this.commands].map((client) => closeRedisClient(client)));
  }

  private deliver(message: string): void {
    const request = this.parse(message);
    if (!request) return;
    for (const listener of this.listeners) {
      try {
        listener(request);
      } catch (error) {
        this.onError(error);
      }
    }
  }

  private parse(text: string): CancelRequest | undefined {
    try {
      const value = JSON.parse(text) as Partial<CancelRequest>;
      if (typeof value.jobId === 'string' && typeof value.byMemberId === 'string') {
        return { jobId: value.jobId, byMemberId: value.byMemberId };
      }
    } catch {
      // reported below
    }
    this.onError(new Error(`malformed cancel request: ${text.slice(0, 200)}`));
    return undefined;
  }

  /** Commands fail at once while Redis is away, but not merely because the first connect is still under way. */
  private async firstConnection(): Promise<void> {
    await withDeadline(this.commandsConnected, FIRST_CONNECTION_WAIT_MS);
  }

  private keyOf(jobId: string): string {
    return `${this.keyPrefix}${jobId}`;
  }
}
