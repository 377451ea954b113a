import type { JobRun } from '../job-run.ts';
import { isRecord, type JsonAnswer, type JsonApiClient, stringOf } from '../json-api-client.ts';
import { saysContentPolicy } from '../polled-job/content-policy.ts';
import type { PollStep } from '../polled-job/polled-job-loop.ts';
import { notSetUpForModel, PolledJobProvider } from '../polled-job/polled-job-provider.ts';
import { cleanServiceMessage } from '../relay/relay-service-text.ts';
import {
  type ServiceCall,
  type ServiceCallError,
  statusFailure,
  unreadableAnswer,
} from '../service-call-errors.ts';
import { serviceMessageOf } from '../service-error-text.ts';
import type { ServiceTextRedaction } from '../service-text-redaction.ts';
import type { ShapeProviderOptions } from '../shape-options.ts';
import type { VideoEvent, VideoRequest, VideoServiceError } from '../video-provider.ts';
import { replicateCreate } from './replicate-input.ts';
import {
  CANCELLED_REASON,
  failureReason,
  isPredictionId,
  NO_VIDEO_REASON,
  type Prediction,
  predictionOf,
} from './replicate-prediction.ts';

const SERVICE = 'replicate';

/**
 * A catalogue model on Replicate (`shape: replicate`): `POST {base}/models/{owner}/{name}/predictions`
 * with `Authorization: Bearer …` and `{input}`, then `GET {base}/predictions/{id}` until it
 * succeeds, fails or is cancelled. No `Prefer: wait`: the bot polls, so a restart can resume.
 *
 * The prediction id is yielded (`created`) the moment the create answers. Addresses are built
 * from the base URL, never taken from the answer's `urls`, so the key goes to `base_url` only.
 * When the caller aborts after the create, the prediction is cancelled
 * (`POST /predictions/{id}/cancel`) before the abort reason is thrown. Whatever Replicate says
 * is redacted.
 */
export class ReplicateProvider extends PolledJobProvider {
  private readonly client: JsonApiClient;

  constructor(options: ShapeProviderOptions) {
    const authorization = `Bearer ${options.apiKey}`;
    super(options, { service: SERVICE, secrets: [authorization], cancels: true });
    this.client = this.authorizedJsonClient(options, authorization);
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  protected async *created(request: VideoRequest, run: JobRun): AsyncGenerator<VideoEvent, void, undefined> {
    const create = replicateCreate(this.model, request);
    if (!create) throw notAModelName(this.model.model);
    const first = await this.loop.create(run, () => this.send(create.path, create.body, run.signal));
    run.jobId = first.id;
    this.logger.info('replicate_job_created', {
      jobId: first.id,
      model: this.model.model,
      duration: create.body.input.duration,
      aspectRatio: create.body.input.aspect_ratio,
      image: request.imageUrl ? 'url' : 'none',
    });
    yield { type: 'created', serviceJobId: first.id };
    const events = new PredictionEvents(this.redaction);
    const step = events.stepOf(first);
    yield* step.events;
    if (!step.done) yield* this.follow(first.id, run, false, events);
  }

  protected async *resumed(serviceJobId: string, run: JobRun): AsyncGenerator<VideoEvent, void, undefined> {
    if (!isPredictionId(serviceJobId)) throw notAModelName(serviceJobId);
    run.jobId = serviceJobId;
    this.logger.info('replicate_job_resumed', { jobId: serviceJobId });
    yield* this.follow(serviceJobId, run, true, new PredictionEvents(this.redaction));
  }

  private follow(
    id: string,
    run: JobRun,
    pollAtOnce: boolean,
    events: PredictionEvents,
  ): AsyncGenerator<VideoEvent, void, undefined> {
    return this.loop.follow(run, pollAtOnce, async (signal) => {
      const prediction = await this.read('poll', 'GET', `predictions/${id}`, undefined, signal);
      const step = events.stepOf(prediction);
      if (step.done) this.logger.info('replicate_job_finished', { jobId: id, status: prediction.word });
      return step;
    });
  }

  private send(path: string, body: object, signal: AbortSignal): Promise<Prediction> {
    return this.read('create', 'POST', path, body, signal);
  }

  private async read(
    call: ServiceCall,
    method: 'GET' | 'POST',
    path: string,
    body: object | undefined,
    signal: AbortSignal,
  ): Promise<Prediction> {
    const answer = await this.client.send(call, method, path, body, signal);
    if (answer.status >= 300) throw this.failure(call, answer);
    const prediction = predictionOf(answer.document);
    if (!prediction) throw unreadableAnswer(call, SERVICE, 'no prediction id or status', answer.text);
    return prediction;
  }

  protected override async cancel(id: string, signal: AbortSignal): Promise<string> {
    const answer = await this.client.send('cancel', 'POST', `predictions/${id}/cancel`, undefined, signal);
    return predictionOf(answer.document)?.word ?? `HTTP ${answer.status}`;
  }

  /** Replicate's problem bodies: `{title, detail, status}`. */
  private failure(call: ServiceCall, answer: JsonAnswer): ServiceCallError {
    const title = isRecord(answer.document) ? stringOf(answer.document.title) : undefined;
    const said = serviceMessageOf(answer.text) ?? (title ? cleanServiceMessage(title) : undefined);
    return statusFailure(call, answer.status, {
      said,
      contentPolicy: saysContentPolicy(said),
      retryAfterMs: answer.retryAfterMs,
      body: answer.text,
      service: SERVICE,
    });
  }
}

/** `queued` once while starting, `progress` once processing, then one outcome. */
class PredictionEvents {
  private queuedShown = false;
  private runningShown = false;

  constructor(private readonly redaction: ServiceTextRedaction) {}

  stepOf(prediction: Prediction): PollStep {
    switch (prediction.state) {
      case 'succeeded':
        return done(
          prediction.urls.length > 0
            ? { type: 'succeeded', urls: prediction.urls.map((url) => this.redaction.text(url)) }
            : { type: 'failed', reason: NO_VIDEO_REASON },
        );
      case 'failed':
        return done({ type: 'failed', reason: this.redaction.reason(failureReason(prediction.error)) });
      case 'cancelled':
        return done({ type: 'failed', reason: CANCELLED_REASON });
      case 'queued':
        if (this.queuedShown || this.runningShown) return running([]);
        this.queuedShown = true;
        return running([{ type: 'queued' }]);
      case 'running':
        if (this.runningShown) return running([]);
        this.runningShown = true;
        return running([{ type: 'progress' }]);
      default:
        return running([]);
    }
  }
}

function done(event: VideoEvent): PollStep {
  return { events: [event], done: true };
}

function running(events: VideoEvent[]): PollStep {
  return { events, done: false };
}

function notAModelName(what: string): VideoServiceError {
  return notSetUpForModel(`replicate: "${what}" is not an owner/name[:version] model or a prediction id`);
}
