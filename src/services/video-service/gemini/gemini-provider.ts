import type { CatalogueModel, CatalogueProvider } from '../../catalogue/catalogue.ts';
import { capabilitiesOfModel } from '../../catalogue/model-capabilities.ts';
import { type MemberText, memberText, redactParams } from '../../i18n/member-text.ts';
import { type Logger, silentLogger } from '../../logging/logger.ts';
import { providerModelName, requestedDuration } from '../catalogue-request.ts';
import type { DownloadResult } from '../download/video-download.ts';
import { JobRun, pause } from '../job-run.ts';
import { memberSafeReason } from '../relay/relay-service-text.ts';
import { MEMBER_TEXTS, ServiceCallError, USER_MESSAGES } from '../service-call-errors.ts';
import { ServiceTextRedaction } from '../service-text-redaction.ts';
import type { ShapeProviderOptions } from '../shape-options.ts';
import {
  type ModelCapabilities,
  type VideoEvent,
  type VideoProvider,
  type VideoRequest,
  VideoServiceError,
} from '../video-provider.ts';
import { ReferenceImageFetcher } from '../videos-api/reference-image-fetch.ts';
import { GeminiClient, type PredictLongRunningBody } from './gemini-client.ts';
import { type GeminiOperation, isOperationName } from './gemini-operation.ts';

/** Knobs the catalogue does not set: tests and benchmarks turn them. */
export interface GeminiTuning {
  /** Sends of a create that certainly made no operation (never sent, or refused with 429). Default 2. */
  createRetries?: number;
  /** First wait before such a re-send, doubled each time, unless `Retry-After` says. Default 2 s. */
  createRetryDelayMs?: number;
  /** Limit for one API call. Default 30 s. */
  requestTimeoutMs?: number;
  /** Limit on fetching the starting image. Default 30 s. */
  imageTimeoutMs?: number;
}

const DEFAULT_TUNING: Required<GeminiTuning> = {
  createRetries: 2,
  createRetryDelayMs: 2_000,
  requestTimeoutMs: 30_000,
  imageTimeoutMs: 30_000,
};
const MAX_POLL_BACKOFF_MS = 60_000;
const MAX_RETRY_AFTER_MS = 5 * 60_000;
const MAX_CREATE_WAIT_MS = 30_000;
const MAX_UNREADABLE_POLLS = 5;
const DOWNLOAD_ATTEMPTS = 3;
const TRANSIENT_KINDS = new Set(['rate_limited', 'unavailable', 'network', 'timeout']);
const TIMEOUT_MESSAGE = 'The video took too long to make, so the bot stopped waiting.';

/**
 * Google's Veo models through the Gemini API: `predictLongRunning` makes an operation, whose name
 * is yielded (`created`) at once so a restarted bot `resume`s it instead of creating again; the
 * operation is polled until `done`. The video's `uri` needs the key: it is the `fileUrl` of
 * `succeeded`, fetched by `downloadFile`, and never a link for members (`urls` stays empty).
 *
 * The API has no cancel: an aborted signal stops polling and throws `signal.reason`. A video
 * Google's safety filters withheld (`raiMediaFilteredCount`) is a content-policy failure, which
 * Google does not charge. Whatever Google says passes one ServiceTextRedaction first.
 */
export class GeminiProvider implements VideoProvider {
  private readonly client: GeminiClient;
  private readonly images: ReferenceImageFetcher;
  private readonly redaction: ServiceTextRedaction;
  private readonly logger: Logger;
  private readonly model: CatalogueModel;
  private readonly catalogueProvider: CatalogueProvider;
  private readonly pollIntervalMs: number;
  private readonly timeoutMs: number;
  private readonly tuning: Required<GeminiTuning>;

  constructor(options: ShapeProviderOptions, tuning: GeminiTuning = {}) {
    this.tuning = { ...DEFAULT_TUNING, ...tuning };
    this.model = options.model;
    this.catalogueProvider = options.provider;
    this.pollIntervalMs = options.pollIntervalMs;
    this.timeoutMs = options.timeoutMs;
    this.logger = options.logger ?? silentLogger;
    this.redaction = new ServiceTextRedaction([options.apiKey]);
    this.client = new GeminiClient({
      baseUrl: options.provider.baseUrl,
      apiKey: options.apiKey,
      redaction: this.redaction,
      requestTimeoutMs: this.tuning.requestTimeoutMs,
      logger: this.logger,
      dispatcher: options.dispatcher,
    });
    this.images = new ReferenceImageFetcher({
      maxBytes: options.maxImageBytes,
      timeoutMs: this.tuning.imageTimeoutMs,
      allowPrivate: options.allowPrivateUrls,
      dispatcher: options.dispatcher,
    });
  }

  capabilities(_model: string): ModelCapabilities {
    return capabilitiesOfModel(this.model, this.catalogueProvider);
  }

  generate(request: VideoRequest, signal: AbortSignal): AsyncGenerator<VideoEvent, void, undefined> {
    return this.runJob(signal, async function* (this: GeminiProvider, run) {
      const model = providerModelName(request, this.model);
      const body = await this.createBody(request, run.signal);
      const operation = await this.sendCreate(run, () =>
        this.client.predictLongRunning(model, body, run.signal),
      );
      run.jobId = operation.name;
      this.logger.info('gemini_job_created', {
        operation: operation.name,
        model,
        durationSeconds: body.parameters.durationSeconds,
        aspectRatio: body.parameters.aspectRatio,
        image: body.instances[0]?.image ? 'bytes' : 'none',
      });
      yield { type: 'created', serviceJobId: operation.name };
      yield* this.follow(operation, run);
    });
  }

  resume(serviceJobId: string, signal: AbortSignal): AsyncGenerator<VideoEvent, void, undefined> {
    return this.runJob(signal, async function* (this: GeminiProvider, run) {
      run.jobId = serviceJobId;
      if (!isOperationName(serviceJobId)) {
        // A record from another shape or a damaged store: polling it could only ever fail.
        throw new ServiceCallError({
          call: 'poll',
          kind: 'rejected',
          userMessage: USER_MESSAGES.notFound,
          memberText: MEMBER_TEXTS.notFound,
          logMessage: 'gemini resume: the recorded job id is not an operation name',
        });
      }
      this.logger.info('gemini_job_resumed', { operation: serviceJobId });
      yield* this.follow({ name: serviceJobId, done: false }, run, 0);
    });
  }

  async downloadFile(
    url: string,
    maxBytes: number,
    fileName: string,
    signal: AbortSignal,
  ): Promise<DownloadResult> {
    for (let attempt = 1; ; attempt++) {
      try {
        const download = await this.client.downloadVideo(url, maxBytes, signal);
        if (!download.ok) return { ok: false, why: download.why, detail: download.detail };
        return { ok: true, video: { fileName, bytes: download.bytes, contentType: download.contentType } };
      } catch (error) {
        if (signal.aborted) throw signal.reason;
        const transient = error instanceof VideoServiceError && TRANSIENT_KINDS.has(error.kind);
        const detail = this.redaction.text(error instanceof Error ? error.message : String(error));
        if (!transient || attempt >= DOWNLOAD_ATTEMPTS) return { ok: false, why: 'download-failed', detail };
        this.logger.warn('gemini_download_retry', { attempt, detail });
        await pause(this.backoffMs(error, attempt - 1), signal);
      }
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.client.close(), this.images.close()]);
  }

  private async createBody(request: VideoRequest, signal: AbortSignal): Promise<PredictLongRunningBody> {
    const instance: PredictLongRunningBody['instances'][number] = { prompt: request.prompt };
    if (request.imageUrl) {
      const image = await this.images.fetch(request.imageUrl, signal);
      instance.image = { bytesBase64Encoded: image.bytes.toString('base64'), mimeType: image.contentType };
    }
    const parameters: PredictLongRunningBody['parameters'] = {};
    const aspectRatio = request.aspectRatio;
    const durationSeconds = requestedDuration(request, this.model);
    if (aspectRatio) parameters.aspectRatio = aspectRatio;
    if (durationSeconds !== undefined) parameters.durationSeconds = durationSeconds;
    return { instances: [instance], parameters };
  }

  /** One job's run under its deadline: every failure explained the same way, its timers always let go. */
  private async *runJob(
    signal: AbortSignal,
    steps: (this: GeminiProvider, run: JobRun) => AsyncGenerator<VideoEvent, void, undefined>,
  ): AsyncGenerator<VideoEvent, void, undefined> {
    const run = new JobRun(signal, this.timeoutMs);
    try {
      yield* steps.call(this, run);
    } catch (error) {
      throw this.explain(error, run);
    } finally {
      run.dispose();
    }
  }

  /** Sends the create again only while it certainly made no operation. */
  private async sendCreate(run: JobRun, send: () => Promise<GeminiOperation>): Promise<GeminiOperation> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await send();
      } catch (error) {
        if (!(error instanceof ServiceCallError) || run.signal.aborted) throw error;
        const safe =
          error.createOutcome === 'not-sent' || (error.createOutcome === 'refused' && error.status === 429);
        const delayMs = error.retryAfterMs ?? this.tuning.createRetryDelayMs * 2 ** attempt;
        if (!safe || delayMs > MAX_CREATE_WAIT_MS || attempt >= this.tuning.createRetries) throw error;
        this.logger.warn('gemini_create_retry', {
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

  /** Polls the operation until it is done; `waitMs` 0 polls at once (a resume). */
  private async *follow(
    first: GeminiOperation,
    run: JobRun,
    firstWaitMs = this.pollIntervalMs,
  ): AsyncGenerator<VideoEvent, void, undefined> {
    const { name } = first;
    let operation: GeminiOperation | undefined = first;
    let waitMs = firstWaitMs;
    let failures = 0;
    let unreadable = 0;
    let progressShown = false;
    for (;;) {
      if (operation?.done) {
        const outcome = this.outcomeOf(operation);
        this.logger.info('gemini_job_finished', { operation: name, outcome: operation.outcome });
        yield outcome;
        return;
      }
      if (operation && !progressShown && operation !== first) {
        // Veo reports no percent: one sign of life once Google has the job running.
        progressShown = true;
        yield { type: 'progress' };
      }
      if (waitMs > 0) await pause(waitMs, run.signal);
      run.signal.throwIfAborted();
      try {
        operation = await this.client.getOperation(name, run.signal);
        waitMs = this.pollIntervalMs;
        failures = 0;
        unreadable = 0;
      } catch (error) {
        if (run.signal.aborted || !(error instanceof VideoServiceError)) throw error;
        unreadable = error.kind === 'protocol' ? unreadable + 1 : 0;
        const retryable =
          TRANSIENT_KINDS.has(error.kind) || (error.kind === 'protocol' && unreadable < MAX_UNREADABLE_POLLS);
        if (!retryable) throw error;
        operation = undefined;
        waitMs = this.backoffMs(error, failures);
        failures += 1;
        this.logger.warn('gemini_poll_retry', {
          operation: name,
          failures,
          waitMs,
          kind: error.kind,
          status: error.status,
        });
      }
    }
  }

  private outcomeOf(operation: Extract<GeminiOperation, { done: true }>): VideoEvent {
    switch (operation.outcome) {
      case 'video':
        return { type: 'succeeded', urls: [], fileUrl: operation.uri };
      case 'filtered':
        this.logger.info('gemini_job_filtered', {
          operation: operation.name,
          reasons: operation.reasons.map((reason) => this.redaction.text(reason)).join(' | '),
        });
        return { type: 'failed', reason: memberText('failure.service.contentFilter') };
      case 'error':
        this.logger.warn('gemini_job_failed', {
          operation: operation.name,
          code: operation.code,
          message: operation.message && this.redaction.text(operation.message),
        });
        return {
          type: 'failed',
          reason: this.redaction.reason(
            operation.message
              ? memberSafeReason(operation.message)
              : memberText('failure.service.couldNotMake'),
          ),
        };
      case 'empty':
        return { type: 'failed', reason: memberText('failure.service.couldNotMake') };
    }
  }

  /** Google's `Retry-After` when it gave one, else the poll interval doubled per failure in a row. */
  private backoffMs(error: unknown, failuresBefore: number): number {
    const retryAfterMs = error instanceof ServiceCallError ? error.retryAfterMs : undefined;
    if (retryAfterMs !== undefined) {
      return Math.min(Math.max(retryAfterMs, this.pollIntervalMs), MAX_RETRY_AFTER_MS);
    }
    return Math.min(
      this.pollIntervalMs * 2 ** failuresBefore,
      Math.max(MAX_POLL_BACKOFF_MS, this.pollIntervalMs),
    );
  }

  /** What the caller gets for whatever ended a job: the cancel reason, or a redacted VideoServiceError. */
  private explain(error: unknown, run: JobRun): unknown {
    if (run.cancelled) return run.callerReason;
    if (run.deadlineReached) {
      return new VideoServiceError({
        kind: 'timeout',
        userMessage: TIMEOUT_MESSAGE,
        memberText: memberText('failure.service.timeout'),
        logMessage: `gemini job took longer than ${this.timeoutMs} ms`,
        beforeAnyEvent: !run.started,
      });
    }
    if (!(error instanceof VideoServiceError)) return error;
    return new VideoServiceError({
      kind: error.kind,
      userMessage: this.redaction.text(error.userMessage),
      memberText: this.redactedText(error.memberText),
      logMessage: this.redaction.text(error.message),
      status: error.status,
      beforeAnyEvent: run.started ? false : error.beforeAnyEvent,
      cause: error.cause,
    });
  }

  private redactedText(text: MemberText | undefined): MemberText | undefined {
    return text && redactParams(text, (value) => this.redaction.text(value));
  }
}
