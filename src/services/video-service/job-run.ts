import { setTimeout as sleep } from 'node:timers/promises';

/**
 * One job's signal, shared by every job-based shape: aborted by the caller or by the job's
 * deadline, telling the two apart so a cancel stays a cancel and a deadline a timeout.
 */
export class JobRun {
  /** The service's id of the job once the create answered (or on resume): from then on no retry may create again. */
  jobId: string | undefined;
  deadlineReached = false;
  readonly signal: AbortSignal;
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private readonly onAbort = () => this.controller.abort(this.caller.reason);

  constructor(
    private readonly caller: AbortSignal,
    timeoutMs: number,
  ) {
    this.signal = this.controller.signal;
    if (caller.aborted) this.controller.abort(caller.reason);
    else caller.addEventListener('abort', this.onAbort, { once: true });
    this.timer = setTimeout(() => {
      this.deadlineReached = true;
      this.controller.abort(new Error('video job deadline reached'));
    }, timeoutMs).unref();
  }

  get started(): boolean {
    return this.jobId !== undefined;
  }

  get cancelled(): boolean {
    return this.caller.aborted;
  }

  get callerReason(): unknown {
    return this.caller.reason;
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.caller.removeEventListener('abort', this.onAbort);
  }
}

/** A wait that ends early, with `signal.reason`, when the signal aborts. */
export async function pause(ms: number, signal: AbortSignal): Promise<void> {
  try {
    await sleep(ms, undefined, { signal });
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    throw error;
  }
}
