/**
 * A tiny "wait until something matching shows up" primitive for the fake Discord. Producers call
 * `emit`; tests call `wait` with a predicate, optional already-seen values to check first, and a
 * timeout whose error message describes the recent history.
 */

export interface WaitOptions {
  timeoutMs?: number;
}

export const DEFAULT_WAIT_MS = 15_000;

interface Waiter<T> {
  predicate: (value: T) => boolean;
  resolve: (value: T) => void;
  reject: (error: Error) => void;
}

export class Watch<T> {
  private readonly waiters = new Set<Waiter<T>>();

  emit(value: T): void {
    for (const waiter of [...this.waiters]) {
      let matched = false;
      try {
        matched = waiter.predicate(value);
      } catch (error) {
        this.waiters.delete(waiter);
        waiter.reject(error instanceof Error ? error : new Error(String(error)));
        continue;
      }
      if (matched) {
        this.waiters.delete(waiter);
        waiter.resolve(value);
      }
    }
  }

  wait(
    predicate: (value: T) => boolean,
    options: { timeoutMs?: number; existing?: Iterable<T>; what: string; history?: () => string },
  ): Promise<T> {
    for (const value of options.existing ?? []) {
      if (predicate(value)) return Promise.resolve(value);
    }
    const timeoutMs = options.timeoutMs ?? DEFAULT_WAIT_MS;
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter<T> = {
        predicate,
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        const history = options.history?.() ?? '';
        reject(
          new Error(`fake discord: timed out after ${timeoutMs} ms waiting for ${options.what}${history}`),
        );
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  rejectAll(error: Error): void {
    for (const waiter of this.waiters) waiter.reject(error);
    this.waiters.clear();
  }
}
