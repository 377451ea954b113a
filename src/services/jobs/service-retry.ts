import pRetry from 'p-retry';
import type { Logger } from '../logging/logger.ts';
import { VideoServiceError } from '../video-service/video-provider.ts';

export interface ServiceRetries {
  /** Retries after the first try. */
  attempts: number;
  /** The first wait; it doubles each time. */
  baseDelayMs: number;
}

const RETRYABLE_KINDS = new Set(['network', 'unavailable', 'rate_limited']);

/**
 * Runs `attempt` again only when the service surely never took the request (connection refused,
 * 429): no video was started, so none is paid twice. A 5xx, a reset or a silence after the request
 * was sent may come from a service that already started (and billed) a video, so those are final,
 * like anything after the first event.
 */
export function withServiceRetries<T>(
  attempt: () => Promise<T>,
  retries: ServiceRetries,
  signal: AbortSignal,
  log: Logger,
): Promise<T> {
  const retryable = (error: unknown) =>
    !signal.aborted &&
    error instanceof VideoServiceError &&
    error.beforeAnyEvent &&
    RETRYABLE_KINDS.has(error.kind);
  return pRetry(attempt, {
    retries: retries.attempts,
    minTimeout: retries.baseDelayMs,
    factor: 2,
    randomize: false,
    signal,
    shouldRetry: ({ error }) => retryable(error),
    onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
      if (retriesLeft > 0 && retryable(error)) log.warn('service_retry', { attempt: attemptNumber, error });
    },
  });
}
