/**
 * Coalesces progress updates for one message: at most one send every `intervalMs`, never two in
 * flight, only the latest value is sent, and only when its key changed. Discord queues 429s
 * silently, so pacing at the source is what keeps a busy bot from building a backlog of stale edits.
 */
export class ProgressThrottle<T> {
  private latest: T | undefined;
  private lastKey: string | undefined;
  private lastSentAt = Number.NEGATIVE_INFINITY;
  private inFlight: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly options: {
      intervalMs: number;
      keyOf: (value: T) => string;
      send: (value: T) => Promise<void>;
      onError: (error: unknown) => void;
      now?: () => number;
    },
  ) {}

  push(value: T): void {
    if (this.closed) return;
    this.latest = value;
    this.schedule();
  }

  /** Stops sending; waits for a send in flight so the caller's next message lands after it. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.latest = undefined;
    await this.inFlight;
  }

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  private schedule(): void {
    if (this.closed || this.inFlight || this.timer || this.latest === undefined) return;
    if (this.options.keyOf(this.latest) === this.lastKey) {
      this.latest = undefined;
      return;
    }
    const wait = Math.max(0, this.lastSentAt + this.options.intervalMs - this.now());
    this.timer = setTimeout(() => this.sendLatest(), wait);
  }

  private sendLatest(): void {
    this.timer = undefined;
    const value = this.latest;
    this.latest = undefined;
    if (this.closed || value === undefined) return;
    this.lastKey = this.options.keyOf(value);
    this.lastSentAt = this.now();
    this.inFlight = this.options
      .send(value)
      .catch(this.options.onError)
      .finally(() => {
        this.inFlight = undefined;
        this.schedule();
      });
  }
}
