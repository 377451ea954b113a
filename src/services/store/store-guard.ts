import type { Logger } from '../logging/logger.ts';
import { StoreUnavailableError } from '../shared/errors.ts';

/** One guarded store call, as the backend sees it. */
export interface GuardedAttempt {
  /** Aborted once the caller has been told the store did not answer: do not commit after that. */
  readonly signal: AbortSignal;
  /**
   * The call's turn has come: the store's timeout counts from now. Waiting behind this process's
   * own calls says nothing about the store being down.
   */
  begin(): void;
}

/**
 * Bounds every store call by a timeout and turns a backend that is down into StoreUnavailableError,
 * so callers answer members at once instead of waiting on a dead connection. It also tells the
 * log, once each, when the store goes away and when it is back.
 */
export class StoreGuard {
  private unavailableSince: number | undefined;

  constructor(
    private readonly options: {
      backend: 'sqlite' | 'redis';
      timeoutMs: number;
      logger: Logger;
      /** Errors that are the backend's own answer to a bad request (a bug), not an outage. */
      isRequestError: (error: unknown) => boolean;
    },
  ) {}

  get available(): boolean {
    return this.unavailableSince === undefined;
  }

  /**
   * `queuedWaitMs`: for a call that first waits its turn in this process (and says when it begins),
   * the longest it may wait before it begins; once begun, the usual timeout applies.
   */
  async run<T>(
    what: string,
    operation: (attempt: GuardedAttempt) => Promise<T>,
    options: { queuedWaitMs?: number } = {},
  ): Promise<T> {
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    let reject!: (error: unknown) => void;
    const timeout = new Promise<never>((_, fail) => {
      reject = fail;
    });
    const startClock = (ms: number) => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        const error = new StoreUnavailableError(`the store did not answer (${what}) within ${ms} ms`);
        controller.abort(error);
        reject(error);
      }, ms);
    };
    startClock(options.queuedWaitMs ?? this.options.timeoutMs);
    try {
      const begin = () => startClock(this.options.timeoutMs);
      const result = await Promise.race([operation({ signal: controller.signal, begin }), timeout]);
      this.markAvailable();
      return result;
    } catch (error) {
      if (this.options.isRequestError(error)) throw error;
      const unavailable =
        error instanceof StoreUnavailableError
          ? error
          : new StoreUnavailableError(`the store failed (${what}): ${describe(error)}`, { cause: error });
      this.markUnavailable(unavailable);
      throw unavailable;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The backend's own connection events (a dropped socket, a reconnect) say it first. */
  markUnavailable(error: unknown): void {
    if (this.unavailableSince !== undefined) return;
    this.unavailableSince = Date.now();
    this.options.logger.warn('store_unavailable', { backend: this.options.backend, error });
  }

  markAvailable(): void {
    if (this.unavailableSince === undefined) return;
    const downMs = Date.now() - this.unavailableSince;
    this.unavailableSince = undefined;
    this.options.logger.info('store_recovered', { backend: this.options.backend, downMs });
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) return (error as NodeJS.ErrnoException).code ?? error.message;
  return String(error);
}
