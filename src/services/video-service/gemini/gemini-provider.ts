import { memberText } from '../../i18n/member-text.ts';
import { providerModelName, requestedDuration } from '../catalogue-request.ts';
import type { DownloadResult } from '../download/video-download.ts';
import type { JobRun } from '../job-run.ts';
import { downloadWithRetries } from '../polled-job/download-retries.ts';
import { PolledJobProvider } from '../polled-job/polled-job-provider.ts';
import { memberSafeReason } from '../relay/relay-service-text.ts';
import { MEMBER_TEXTS, ServiceCallError, USER_MESSAGES } from '../service-call-errors.ts';
import type { ShapeProviderOptions } from '../shape-options.ts';
import type { VideoEvent, VideoRequest } from '../video-provider.ts';
import { ReferenceImageFetcher } from '../videos-api/reference-image-fetch.ts';
import { GeminiClient, type PredictLongRunningBody } from './gemini-client.ts';
import { GEMINI } from './gemini-errors.ts';
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
export class GeminiProvider extends PolledJobProvider {
  private readonly client: GeminiClient;
  private readonly images: ReferenceImageFetcher;
  private readonly pollIntervalMs: number;

  constructor(options: ShapeProviderOptions, tuning: GeminiTuning = {}) {
    const settings = { ...DEFAULT_TUNING, ...tuning };
    super(options, {
      service: GEMINI,
      createRetries: settings.createRetries,
      createRetryDelayMs: settings.createRetryDelayMs,
      cancels: false,
    });
    this.pollIntervalMs = options.pollIntervalMs;
    this.client = new GeminiClient({
      baseUrl: options.provider.baseUrl,
      apiKey: options.apiKey,
      redaction: this.redaction,
      requestTimeoutMs: settings.requestTimeoutMs,
      downloadTimeoutMs: options.downloadTimeoutMs,
      allowPrivate: options.allowPrivateUrls,
      logger: this.logger,
      dispatcher: options.dispatcher,
    });
    this.images = new ReferenceImageFetcher({
      maxBytes: options.maxImageBytes,
      timeoutMs: settings.imageTimeoutMs,
      allowPrivate: options.allowPrivateUrls,
      dispatcher: options.dispatcher,
    });
  }

  protected async *created(request: VideoRequest, run: JobRun): AsyncGenerator<VideoEvent, void, undefined> {
    const model = providerModelName(request, this.model);
    const body = await this.createBody(request, run.signal);
    const operation = await this.loop.create(run, () =>
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
    if (operation.done) yield this.finished(operation);
    else yield* this.follow(operation.name, run, false);
  }

  protected async *resumed(serviceJobId: string, run: JobRun): AsyncGenerator<VideoEvent, void, undefined> {
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
    yield* this.follow(serviceJobId, run, true);
  }

  async downloadFile(
    url: string,
    maxBytes: number,
    fileName: string,
    signal: AbortSignal,
  ): Promise<DownloadResult> {
    return downloadWithRetries(
      async () => {
        const download = await this.client.downloadVideo(url, maxBytes, signal);
        if (!download.ok) return { ok: false, why: download.why, detail: download.detail };
        return { ok: true, video: { fileName, bytes: download.bytes, contentType: download.contentType } };
      },
      {
        signal,
        pollIntervalMs: this.pollIntervalMs,
        redact: (text) => this.redaction.text(text),
        onRetry: (attempt, detail) => this.logger.warn('gemini_download_retry', { attempt, detail }),
      },
    );
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

  /** Polls the operation until it is done; Veo reports no percent: one `progress` once it runs. */
  private follow(
    name: string,
    run: JobRun,
    pollAtOnce: boolean,
  ): AsyncGenerator<VideoEvent, void, undefined> {
    let progressShown = false;
    return this.loop.follow(run, pollAtOnce, async (signal) => {
      const operation = await this.client.getOperation(name, signal);
      if (operation.done) return { events: [this.finished(operation)], done: true };
      if (progressShown) return { events: [], done: false };
      progressShown = true;
      return { events: [{ type: 'progress' }], done: false };
    });
  }

  private finished(operation: Extract<GeminiOperation, { done: true }>): VideoEvent {
    this.logger.info('gemini_job_finished', { operation: operation.name, outcome: operation.outcome });
    return this.outcomeOf(operation);
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
}
