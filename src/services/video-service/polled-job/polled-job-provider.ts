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
  /** For log lines and error texts: `gemini`, `fal`, `replicate`. */
  service: string;
  /** What the service must never be seen repeating besides the key (`Key …`, `Bearer …`). */
  secrets?: string[];
  /** Sends of a create that certainly made no job (never sent, or refused with 429). Default 2. */
  createRetries?: number;
  /** First wait before such a re-send, doubled each time, unless `Retry-After` says. Default 2 s. */
  createRetryDelayMs?: number;
  /** Whether the service can stop a job: then a cancelled (or timed-out) job is cancelled there. */
  cancels: boolean;
}

const CREATE_RETRIES = 2;
const CREATE_RETRY_DELAY_MS = 2_000;

/**
 * What every catalogue shape that creates a job and then polls it (Gemini's operations, fal's
 * queue, Replicate's predictions) has in common: one catalogue model per instance, one redaction
 * of the key, one poll loop (which cancels at the service where it can). A shape writes only its
 * client, its create, its resume, its polls and its cancel.
 */
export abstract class PolledJobProvider implements VideoProvider {
  protected readonly model: CatalogueModel;
  protected readonly redaction: ServiceTextRedaction;
  protected readonly logger: Logger;
  protected readonly loop: PolledJobLoop;
  private readonly catalogueProvider: CatalogueProvider;
  private readonly service: string;

  constructor(options: ShapeProviderOptions, service: PolledJobService) {
    this.service = service.service;
    this.model = options.model;
    this.catalogueProvider = options.provider;
    this.logger = options.logger ?? silentLogger;
    this.redaction = new ServiceTextRedaction([options.apiKey, ...(service.secrets ?? [])]);
    this.loop = new PolledJobLoop({
      service: service.service,
      settings: {
        pollIntervalMs: options.pollIntervalMs,
        timeoutMs: options.timeoutMs,
        createRetries: service.createRetries ?? CREATE_RETRIES,
        createRetryDelayMs: service.createRetryDelayMs ?? CREATE_RETRY_DELAY_MS,
      },
      logger: this.logger,
      redaction: this.redaction,
      cancelAtService: service.cancels ? (jobId, signal) => this.cancel(jobId, signal) : undefined,
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

  abstract close(): Promise<void>;

  /** Creates the job (through `loop.create`), sets `run.jobId`, yields `created`, then follows it. */
  protected abstract created(request: VideoRequest, run: JobRun): AsyncGenerator<VideoEvent, void, undefined>;

  /** Follows a recorded job; sets `run.jobId` first. */
  protected abstract resumed(serviceJobId: string, run: JobRun): AsyncGenerator<VideoEvent, void, undefined>;

  /** The one JSON API client of a shape whose key goes in `Authorization` (`Key …`, `Bearer …`). */
  protected authorizedJsonClient(options: ShapeProviderOptions, authorization: string): JsonApiClient {
    return new JsonApiClient({
      service: this.service,
      baseUrl: options.provider.baseUrl,
      keyHeader: { authorization },
      redaction: this.redaction,
      logger: this.logger,
      dispatcher: options.dispatcher,
    });
  }

  /** Asks the service to stop the job; best effort, the answer's word only logged. Only when it `cancels`. */
  protected cancel(_jobId: string, _signal: AbortSignal): Promise<string> {
    return Promise.resolve('no cancel at this service');
  }
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
