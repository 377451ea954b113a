import type { JobRun } from '../job-run.ts';
import { isRecord, type JsonAnswer, type JsonApiClient, stringOf } from '../json-api-client.ts';
import type { PollStep } from '../polled-job/polled-job-loop.ts';
import { notSetUpForModel, PolledJobProvider } from '../polled-job/polled-job-provider.ts';
import { type ServiceCallError, statusFailure, unreadableAnswer } from '../service-call-errors.ts';
import type { ShapeProviderOptions } from '../shape-options.ts';
import type { VideoEvent, VideoRequest, VideoServiceError } from '../video-provider.ts';
import {
  CANCELLED_REASON,
  type FalFailure,
  type FalStatus,
  failureOf,
  failureReason,
  NO_VIDEO_REASON,
  queuePositionOf,
  requestIdOf,
  statusOf,
  videoUrlOf,
} from './fal-queue-answers.ts';
import { falInput, falModelPath } from './fal-queue-input.ts';
import {
  appOf,
  cancelPath,
  type FalRequest,
  modelUrlPath,
  recordedIdOf,
  requestOf,
  resultPath,
  statusPath,
} from './fal-request.ts';

const SERVICE = 'fal';

/**
 * A catalogue model on fal's queue (`shape: fal-queue`): `POST {base}/{model path}` with
 * `Authorization: Key …`, then `GET {base}/{app}/requests/{id}/status` until COMPLETED, then the
 * result `{video: {url}}`, a public link the runner's downloader fetches.
 *
 * The request id is yielded (`created`) the moment the submit answers, so a restarted bot
 * resumes polling it instead of submitting again. Status and result addresses are built from
 * the base URL, never taken from the answer's `status_url`/`response_url`: the key goes to
 * `base_url` only. When the caller aborts after the submit, the request is cancelled at fal
 * (`PUT …/cancel`) before the abort reason is thrown. Whatever fal says is redacted.
 */
export class FalQueueProvider extends PolledJobProvider {
  private readonly client: JsonApiClient;

  constructor(options: ShapeProviderOptions) {
    const authorization = `Key ${options.apiKey}`;
    super(options, { service: SERVICE, secrets: [authorization], cancels: true });
    this.client = this.authorizedJsonClient(options, authorization);
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  protected async *created(request: VideoRequest, run: JobRun): AsyncGenerator<VideoEvent, void, undefined> {
    const modelPath = falModelPath(this.model, request);
    const urlPath = modelUrlPath(modelPath);
    const app = appOf(modelPath);
    if (!urlPath || !app) throw notAModelPath(modelPath);
    const input = falInput(this.model, modelPath, request);
    const { requestId, position } = await this.loop.create(run, () =>
      this.submit(urlPath, input, run.signal),
    );
    const falRequest = { app, requestId };
    run.jobId = recordedIdOf(falRequest);
    this.logger.info('fal_job_created', {
      jobId: run.jobId,
      modelPath,
      duration: input.duration,
      aspectRatio: input.aspect_ratio,
      image: request.imageUrl ? 'url' : 'none',
    });
    yield { type: 'created', serviceJobId: run.jobId };
    // The submit's answer already says where in the queue the request stands.
    const events = new FalQueueEvents();
    yield* events.of({ state: 'queued', position });
    yield* this.follow(falRequest, run, false, events);
  }

  protected async *resumed(serviceJobId: string, run: JobRun): AsyncGenerator<VideoEvent, void, undefined> {
    const falRequest = this.requestOf(serviceJobId);
    if (!falRequest) throw notAModelPath(serviceJobId);
    run.jobId = recordedIdOf(falRequest);
    this.logger.info('fal_job_resumed', { jobId: run.jobId });
    yield* this.follow(falRequest, run, true, new FalQueueEvents());
  }

  private requestOf(recordedId: string): FalRequest | undefined {
    return requestOf(recordedId, appOf(this.model.model) ?? '');
  }

  private async submit(
    urlPath: string,
    input: Record<string, unknown>,
    signal: AbortSignal,
  ): Promise<{ requestId: string; position?: number }> {
    const answer = await this.client.send('create', 'POST', urlPath, input, signal);
    if (answer.status >= 300) throw this.failure('create', answer);
    const requestId = requestIdOf(answer.document);
    if (!requestId || !/^[\w.~-]+$/.test(requestId)) {
      throw unreadableAnswer('create', SERVICE, 'no usable request_id', answer.text);
    }
    return { requestId, position: queuePositionOf(answer.document) };
  }

  private follow(
    falRequest: FalRequest,
    run: JobRun,
    pollAtOnce: boolean,
    events: FalQueueEvents,
  ): AsyncGenerator<VideoEvent> {
    return this.loop.follow(run, pollAtOnce, async (signal) => {
      const answer = await this.client.send('poll', 'GET', statusPath(falRequest), undefined, signal);
      if (answer.status >= 300) throw this.failure('poll', answer);
      const status = statusOf(answer.document);
      if (!status) throw unreadableAnswer('poll', SERVICE, 'no status word', answer.text);
      if (status.state === 'finished') {
        const step = status.failure ? this.failed(status.failure) : await this.result(falRequest, signal);
        this.logger.info('fal_job_finished', { jobId: run.jobId, outcome: step.events[0]?.type });
        return step;
      }
      if (status.state === 'cancelled') {
        return { events: [{ type: 'failed', reason: CANCELLED_REASON }], done: true };
      }
      return { events: events.of(status), done: false };
    });
  }

  /** The result of a finished request: its video, or its failure (4xx/5xx with `detail`). */
  private async result(falRequest: FalRequest, signal: AbortSignal): Promise<PollStep> {
    const answer = await this.client.send('result', 'GET', resultPath(falRequest), undefined, signal);
    if (answer.status < 300) {
      const url = videoUrlOf(answer.document);
      const event: VideoEvent = url
        ? { type: 'succeeded', urls: [this.redaction.text(url)] }
        : { type: 'failed', reason: NO_VIDEO_REASON };
      return { events: [event], done: true };
    }
    const failure = failureOf(answer.document, answer.text);
    // Busy, a refused key, or a gateway's bare 5xx say nothing about the request: polled again or thrown.
    const aboutTheRequest =
      answer.status !== 429 &&
      answer.status !== 401 &&
      answer.status !== 403 &&
      (failure.said !== undefined || failure.contentPolicy);
    if (!aboutTheRequest) throw this.failure('result', answer);
    return this.failed(failure);
  }

  private failed(failure: FalFailure): PollStep {
    return {
      events: [{ type: 'failed', reason: this.redaction.reason(failureReason(failure)) }],
      done: true,
    };
  }

  /** Best effort: 202 `CANCELLATION_REQUESTED`, or 400 `ALREADY_COMPLETED`. */
  protected override async cancel(jobId: string, signal: AbortSignal): Promise<string> {
    const falRequest = this.requestOf(jobId);
    if (!falRequest) return 'unusable id';
    const answer = await this.client.send('cancel', 'PUT', cancelPath(falRequest), undefined, signal);
    const said = isRecord(answer.document) ? stringOf(answer.document.status) : undefined;
    return said ?? `HTTP ${answer.status}`;
  }

  private failure(call: 'create' | 'poll' | 'result', answer: JsonAnswer): ServiceCallError {
    const { said, contentPolicy } = failureOf(answer.document, answer.text);
    return statusFailure(call, answer.status, {
      said,
      contentPolicy,
      retryAfterMs: answer.retryAfterMs,
      body: answer.text,
      service: SERVICE,
    });
  }
}

/** `queued` whenever the position changes (first without one too), `progress` once running. */
class FalQueueEvents {
  private position: number | undefined | null = null;
  private running = false;

  of(status: FalStatus): VideoEvent[] {
    if (status.state === 'queued' && !this.running) {
      if (this.position !== null && this.position === status.position) return [];
      this.position = status.position;
      return [
        status.position === undefined ? { type: 'queued' } : { type: 'queued', position: status.position },
      ];
    }
    if (status.state === 'running' && !this.running) {
      this.running = true;
      return [{ type: 'progress' }];
    }
    return [];
  }
}

function notAModelPath(what: string): VideoServiceError {
  return notSetUpForModel(`fal: "${what}" is not an owner/app model path or recorded request id`);
}
