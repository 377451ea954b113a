import type { CatalogueModel, CatalogueProvider } from '../../catalogue/catalogue.ts';
import { capabilitiesOfModel } from '../../catalogue/model-capabilities.ts';
import { memberText } from '../../i18n/member-text.ts';
import { type Logger, silentLogger } from '../../logging/logger.ts';
import type { JobRun } from '../job-run.ts';
import { JsonApiClient } from '../json-api-client.ts';
import { ServiceTextRedaction } from '../service-text-redaction.ts';
import type { ShapeProviderOptions } from '../shape-options.ts';
import {
  type ModelCapabilities,
  type VideoEvent,
  type VideoProvider,
  type VideoRequest,
  VideoServiceError,
} from '../video-provider.ts';
import { PolledJobLoop } from './polled-job-loop.ts';

export interface PolledJobService {
  /** For log lines and error texts: `fal`, `replicate`. */
  service: string;
  /** How the key is written in `Authorization`: `Key …` (fal), `Bearer …` (Replicate). */
  keyScheme: 'Key' | 'Bearer';
}

const CREATE_RETRIES = 2;
const CREATE_RETRY_DELAY_MS = 2_000;

/**
 * What every shape that creates a job with one keyed JSON call and then polls it (fal's queue,
 * Replicate's predictions) has in common: one catalogue model per instance, one JSON API client
 * under the provider's base URL, one redaction of the key, one poll loop that cancels at the
 * service. A shape writes only its create, its resume, its polls and its cancel.
 */
export abstract class PolledJobProvider implements VideoProvider {
  protected readonly model: CatalogueModel;
  protected readonly client: JsonApiClient;
  protected readonly redaction: ServiceTextRedaction;
  protected readonly logger: Logger;
  protected readonly loop: PolledJobLoop;
  private readonly catalogueProvider: CatalogueProvider;

  constructor(options: ShapeProviderOptions, { service, keyScheme }: PolledJobService) {
    this.model = options.model;
    this.catalogueProvider = options.provider;
    this.logger = options.logger ?? silentLogger;
    const authorization = `${keyScheme} ${options.apiKey}`;
    this.redaction = new ServiceTextRedaction([options.apiKey, authorization]);
    this.client = new JsonApiClient({
      service,
      baseUrl: options.provider.baseUrl,
      keyHeader: { authorization },
      redaction: this.redaction,
      logger: this.logger,
      dispatcher: options.dispatcher,
    });
    this.loop = new PolledJobLoop({
      service,
      settings: {
        pollIntervalMs: options.pollIntervalMs,
        timeoutMs: options.timeoutMs,
        createRetries: CREATE_RETRIES,
        createRetryDelayMs: CREATE_RETRY_DELAY_MS,
      },
      logger: this.logger,
      redaction: this.redaction,
      cancelAtService: (jobId, signal) => this.cancel(jobId, signal),
    });
  }

  /** One instance serves one catalogue model: what it offers is the catalogue's, whatever name is asked. */
  capabilities(_model: string): ModelCapabilities {
    return capabilitiesOfModel(this.model, this.catalogueProvider);
  }

  generate(request: VideoRequest, signal: AbortSignal): AsyncGenerator<VideoEvent, void, undefined> {
    return this.loop.run(signal, (run) => this.created(request, run));
  }

  resume(serviceJobId: string, signal: AbortSignal): AsyncGenerator<VideoEvent, void, undefined> {
    return this.loop.run(signal, (run) => this.resumed(serviceJobId, run));
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  /** Creates the job (through `loop.create`), sets `run.jobId`, yields `created`, then follows it. */
  protected abstract created(request: VideoRequest, run: JobRun): AsyncGenerator<VideoEvent, void, undefined>;

  /** Follows a recorded job; sets `run.jobId` first. */
  protected abstract resumed(serviceJobId: string, run: JobRun): AsyncGenerator<VideoEvent, void, undefined>;

  /** Asks the service to stop the job; best effort, the answer's word only logged. */
  protected abstract cancel(jobId: string, signal: AbortSignal): Promise<string>;
}

/** A model name or recorded job id this shape cannot use: the owner's set-up, not the member's request. */
export function notSetUpForModel(logMessage: string): VideoServiceError {
  return new VideoServiceError({
    kind: 'rejected',
    userMessage: "The bot is not set up right for this model. Please tell the bot's owner.",
    memberText: memberText('failure.crashed'),
    logMessage,
    beforeAnyEvent: true,
  });
}
