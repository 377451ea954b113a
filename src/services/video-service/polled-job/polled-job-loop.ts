import { memberText, redactParams } from '../../i18n/member-text.ts';
import type { Logger } from '../../logging/logger.ts';
import { JobRun, pause } from '../job-run.ts';
import { ServiceCallError } from '../service-call-errors.ts';
import type { ServiceTextRedaction } from '../service-text-redaction.ts';
import { type VideoEvent, VideoServiceError } from '../video-provider.ts';

export interface PolledJobSettings {
  /** Between two polls of a running job. */
  pollIntervalMs: number;
  /** The whole job, from the create (or the resume) to its outcome. */
  timeoutMs: number;
  /** Sends of a create that certainly made no job (never sent, or refused with 429). */
  createRetries: number;
  /** First wait before re-sending such a create, doubled each time, unless `Retry-After` says. */
  createRetryDelayMs: number;
}

/** What one poll found: the events to yield, and whether the job reached its outcome. */
export interface PollStep {
  events: VideoEvent[];
  done: boolean;
}

export interface PolledJobLoopOptions {
  /** For log lines and error texts: `videos api`, `gemini`, `fal`, `replicate`. */
  service: string;
  settings: PolledJobSettings;
  logger: Logger;
  redaction: ServiceTextRedaction;
  /**
   * Asks the service to stop a job the bot no longer waits for; best effort, its answer only
   * logged. Absent where the service has no cancel (Gemini): the bot then only stops waiting.
   */
  cancelAtService?(jobId: string, signal: AbortSignal): Promise<string>;
}

/** Backoff after failed polls grows to this; a `Retry-After` may ask for longer, up to the next. */
const MAX_POLL_BACKOFF_MS = 60_000;
const MAX_RETRY_AFTER_MS = 5 * 60_000;
/** A create is not held back longer than this for a `Retry-After`: the member is waiting. */
const MAX_CREATE_WAIT_MS = 30_000;
/** Unreadable replies in a row after which the service is taken as broken rather than hiccupping. */
const MAX_UNREADABLE_POLLS = 5;
/** A cancel is a courtesy to the service (and the bill): it may not hold a cancelled job long. */
const CANCEL_TIMEOUT_MS = 10_000;
/** Faults that pass: a poll (or a download) is tried again after them. */
export const TRANSIENT_KINDS: ReadonlySet<string> = new Set([
  'rate_limited',
  'unavailable',
  'network',
  'timeout',
]);
const TIMEOUT_MESSAGE = 'The video took too long to make, so the bot stopped waiting.';

/**
 * The life of one job at a service that creates and then polls (the Videos API's jobs, Gemini's
 * operations, fal's queue, Replicate's predictions), the same for every such shape: one
 * deadline, a create sent again only while it certainly made no job, polls retried with backoff
 * (honouring `Retry-After`) until the deadline, and when the caller aborts (or the deadline
 * passes) after the create, the job cancelled at the service (where it has a cancel) before the
 * abort reason is thrown. Every error leaves redacted.
 */
export class PolledJobLoop {
  /** `videos api` logs as `videos_api_…`. */
  private readonly logPrefix: string;

  constructor(private readonly options: PolledJobLoopOptions) {
    this.logPrefix = options.service.replace(/\W+/g, '_');
  }

  /** One job's run under its deadline: every failure explained the same way, its timers always let go. */
  async *run(
    signal: AbortSignal,
    steps: (run: JobRun) => AsyncGenerator<VideoEvent, void, undefined>,
  ): AsyncGenerator<VideoEvent, void, undefined> {
    const run = new JobRun(signal, this.options.settings.timeoutMs);
    try {
      yield* steps(run);
    } catch (error) {
      if (run.jobId !== undefined && (run.cancelled || run.deadlineReached)) await this.cancel(run.jobId);
      throw this.explain(error, run);
    } finally {
      run.dispose();
    }
  }

  /** Sends a create (or a remix), again only while it certainly made no job. */
  async create<T>(run: JobRun, send: () => Promise<T>, call: 'create' | 'remix' = 'create'): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await send();
      } catch (error) {
        if (!(error instanceof ServiceCallError) || run.signal.aborted) throw error;
        const delayMs = this.createRetryDelayMs(error, attempt);
        if (delayMs === undefined || attempt >= this.options.settings.createRetries) throw error;
        this.options.logger.warn(`${this.logPrefix}_create_retry`, {
          call,
          attempt: attempt + 1,
          delayMs,
          kind: error.kind,
          status: error.status,
          outcome: error.createOutcome,
        });
        await pause(delayMs, run.signal);
      }
    }
  }

  /** Polls until the job's outcome; `pollAtOnce` on resume, else the first poll waits one interval. */
  async *follow(
    run: JobRun,
    pollAtOnce: boolean,
    poll: (signal: AbortSignal) => Promise<PollStep>,
  ): AsyncGenerator<VideoEvent, void, undefined> {
    const { pollIntervalMs } = this.options.settings;
    let waitMs = pollAtOnce ? 0 : pollIntervalMs;
    let failures = 0;
    let unreadable = 0;
    for (;;) {
      if (waitMs > 0) await pause(waitMs, run.signal);
      run.signal.throwIfAborted();
      let step: PollStep;
      try {
        step = await poll(run.signal);
      } catch (error) {
        if (run.signal.aborted || !(error instanceof VideoServiceError)) throw error;
        unreadable = error.kind === 'protocol' ? unreadable + 1 : 0;
        const retryable =
          TRANSIENT_KINDS.has(error.kind) || (error.kind === 'protocol' && unreadable < MAX_UNREADABLE_POLLS);
        if (!retryable) throw error;
        waitMs = this.backoffMs(error, failures);
        failures += 1;
        this.options.logger.warn(`${this.logPrefix}_poll_retry`, {
          jobId: run.jobId,
          failures,
          waitMs,
          kind: error.kind,
          status: error.status,
        });
        continue;
      }
      failures = 0;
      unreadable = 0;
      waitMs = pollIntervalMs;
      yield* step.events;
      if (step.done) return;
    }
  }

  /** undefined when sending again could make a second job, or when the service asks for too long a wait. */
  private createRetryDelayMs(error: ServiceCallError, attempt: number): number | undefined {
    const safe =
      error.createOutcome === 'not-sent' || (error.createOutcome === 'refused' && error.status === 429);
    if (!safe) return undefined;
    const delayMs = error.retryAfterMs ?? this.options.settings.createRetryDelayMs * 2 ** attempt;
    return delayMs > MAX_CREATE_WAIT_MS ? undefined : delayMs;
  }

  private backoffMs(error: VideoServiceError, failuresBefore: number): number {
    return backoffMs(error, failuresBefore, this.options.settings.pollIntervalMs);
  }

  private async cancel(jobId: string): Promise<void> {
    const { logger, cancelAtService } = this.options;
    if (!cancelAtService) return;
    try {
      const outcome = await cancelAtService(jobId, AbortSignal.timeout(CANCEL_TIMEOUT_MS));
      logger.info(`${this.logPrefix}_job_cancelled`, { jobId, outcome });
    } catch (error) {
      const detail = this.options.redaction.text(error instanceof Error ? error.message : String(error));
      logger.warn(`${this.logPrefix}_job_cancel_failed`, { jobId, detail });
    }
  }

  /** What the caller gets for whatever ended a job: the cancel reason, or a redacted VideoServiceError. */
  private explain(error: unknown, run: JobRun): unknown {
    if (run.cancelled) return run.callerReason;
    if (run.deadlineReached) {
      return new VideoServiceError({
        kind: 'timeout',
        userMessage: TIMEOUT_MESSAGE,
        memberText: memberText('failure.service.timeout'),
        logMessage: `${this.options.service} job took longer than ${this.options.settings.timeoutMs} ms`,
        beforeAnyEvent: !run.started,
      });
    }
    const redact = (text: string) => this.options.redaction.text(text);
    if (error instanceof ServiceCallError && !run.started) {
      // Nothing was made yet: the call's own error, its create outcome (so `beforeAnyEvent`) kept.
      return new ServiceCallError({
        call: error.call,
        kind: error.kind,
        userMessage: redact(error.userMessage),
        memberText: error.memberText && redactParams(error.memberText, redact),
        logMessage: redact(error.message),
        status: error.status,
        createOutcome: error.createOutcome,
        retryAfterMs: error.retryAfterMs,
        cause: error.cause,
      });
    }
    if (!(error instanceof VideoServiceError)) return error;
    return new VideoServiceError({
      kind: error.kind,
      userMessage: redact(error.userMessage),
      memberText: error.memberText && redactParams(error.memberText, redact),
      logMessage: redact(error.message),
      status: error.status,
      beforeAnyEvent: run.started ? false : error.beforeAnyEvent,
      cause: error.cause,
    });
  }
}

/**
 * How long to wait after a failed poll (or download): the service's `Retry-After` when it gave
 * one, else the poll interval doubled per failure in a row.
 */
export function backoffMs(error: unknown, failuresBefore: number, pollIntervalMs: number): number {
  const retryAfterMs = error instanceof ServiceCallError ? error.retryAfterMs : undefined;
  if (retryAfterMs !== undefined) return Math.min(Math.max(retryAfterMs, pollIntervalMs), MAX_RETRY_AFTER_MS);
  return Math.min(pollIntervalMs * 2 ** failuresBefore, Math.max(MAX_POLL_BACKOFF_MS, pollIntervalMs));
}
