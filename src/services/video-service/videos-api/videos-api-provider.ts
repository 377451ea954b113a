import type { Dispatcher } from 'undici';
import type { CatalogueModel, OpenAiVideosVariant } from '../../catalogue/catalogue.ts';
import { nearestDuration } from '../../catalogue/fit-request.ts';
import { capabilitiesOfModel } from '../../catalogue/model-capabilities.ts';
import { type Logger, silentLogger } from '../../logging/logger.ts';
import { providerModelName, requestedDuration } from '../catalogue-request.ts';
import type { DownloadResult } from '../download/video-download.ts';
import type { JobRun } from '../job-run.ts';
import { downloadWithRetries } from '../polled-job/download-retries.ts';
import { PolledJobLoop, type PollStep } from '../polled-job/polled-job-loop.ts';
import { ServiceTextRedaction } from '../service-text-redaction.ts';
import type { ShapeProviderOptions } from '../shape-options.ts';
import type { ModelCapabilities, VideoEvent, VideoProvider, VideoRequest } from '../video-provider.ts';
import { OPENROUTER_RESOLUTION } from './openrouter-variant.ts';
import { ReferenceImageFetcher } from './reference-image-fetch.ts';
import type { VideoJob } from './video-job.ts';
import { VideoJobEvents } from './video-job-events.ts';
import { VIDEOS_API_SIZES, videosApiCapabilities } from './videos-api-capabilities.ts';
import {
  type ContentDownload,
  type ContentVariant,
  type CreateVideoJobRequest,
  type ReferenceImage,
  VideosApiClient,
} from './videos-api-client.ts';
import { VIDEOS_API } from './videos-api-errors.ts';

export interface VideosApiProviderOptions {
  /** Base URL such as `https://relay.example/v1`; `/videos…` is added. */
  apiUrl: string;
  apiKey: string;
  /** Wait between polls of a running job. Default 5 s. */
  pollIntervalMs?: number;
  /**
   * How the starting image reaches the service. `bytes` (default): the bot fetches it and uploads
   * it as the multipart `input_reference` part, so the relay needs no access to Discord's CDN.
   * `url`: the link is passed on as `input_reference.image_url`.
   */
  imageInput?: 'bytes' | 'url';
  /** Cap on a fetched starting image. Default 20 MiB. */
  maxImageBytes?: number;
  /** Limit on fetching the starting image. Default 30 s. */
  imageTimeoutMs?: number;
  /**
   * ALLOW_PRIVATE_VIDEO_URLS: fetch starting images, and follow `/content` redirects, to http and
   * private addresses (local testing, self-hosted). Default false.
   */
  allowPrivateUrls?: boolean;
  /** Limit on one whole content download (VIDEO_DOWNLOAD_TIMEOUT_MS). Default 5 min. */
  downloadTimeoutMs?: number;
  /** Limit on a whole job, from the create (or the resume) to its outcome. Default 20 min. */
  timeoutMs?: number;
  /** Sends of a create (or remix) that certainly made no job: refused with 429, or never sent. Default 2. */
  createRetries?: number;
  /** First wait before re-sending such a create, doubled each time, unless `Retry-After` says. Default 2 s. */
  createRetryDelayMs?: number;
  /** Limit for one API call, passed to the client. Default 30 s. */
  requestTimeoutMs?: number;
  /** What the model offers (a catalogue entry's lengths); by model name (`videosApiCapabilities`) when unset. */
  capabilities?: ModelCapabilities;
  logger?: Logger;
  /** An undici dispatcher for tests; also fetches images when `allowPrivateImageUrls` is set. */
  dispatcher?: Dispatcher;
  /** Whose wording of the API the service speaks (`openrouter`: see openrouter-variant.ts). Default `openai`. */
  variant?: OpenAiVideosVariant;
  /**
   * The catalogue model this provider serves, when built from the catalogue: its name, lengths
   * and frames are sent instead of the Sora-era defaults.
   */
  catalogueModel?: CatalogueModel;
}

const DEFAULTS = {
  pollIntervalMs: 5_000,
  maxImageBytes: 20 * 1024 * 1024,
  imageTimeoutMs: 30_000,
  timeoutMs: 20 * 60_000,
  createRetries: 2,
  createRetryDelayMs: 2_000,
};
const CONTENT_PATH = /\/videos\/([^/?#]+)\/content(?:\?variant=(thumbnail|spritesheet))?$/;
/** The `size` sent for a frame when the request names an aspect ratio (catalogue-built providers). */

/**
 * A video service speaking the job-based Videos API (`POST /videos`, then polls of
 * `GET /videos/{id}`), as OpenAI defined it and relays copy it.
 *
 * The job's id is yielded (`created`) the moment the create answers, before anything else, so
 * the runner can record it and a restarted bot can `resume` the same job: it is created and
 * charged once. A create is sent again only when it certainly made no job (never sent, or refused
 * with 429); one whose outcome is unknown is thrown with `beforeAnyEvent: false`. Polls are
 * retried freely, with backoff and honouring `Retry-After`, until the job's deadline.
 *
 * Cancelling: when the caller's signal aborts, polling stops at once and the generator throws
 * `signal.reason`. The job is not deleted at the service: DELETE is no documented cancel.
 *
 * Whatever the service says passes one ServiceTextRedaction before it is yielded or put in an
 * error. Job ids are used as given (they address the job, a member never reads them).
 */
export class VideosApiProvider implements VideoProvider {
  private readonly client: VideosApiClient;
  private readonly images: ReferenceImageFetcher;
  private readonly redaction: ServiceTextRedaction;
  private readonly logger: Logger;
  private readonly settings: typeof DEFAULTS & { imageInput: 'bytes' | 'url' };
  private readonly modelCapabilities?: ModelCapabilities;
  private readonly variant: OpenAiVideosVariant;
  private readonly catalogueModel?: CatalogueModel;
  private readonly loop: PolledJobLoop;

  /**
   * A provider for one catalogue model on an `openai-videos` provider, either variant. OpenRouter
   * is given the starting image's link, as its API asks (a public https URL it fetches itself);
   * other gateways get the bytes, uploaded, since a relay cannot always reach Discord's CDN.
   */
  static fromShape(options: ShapeProviderOptions & { imageInput?: 'bytes' | 'url' }): VideosApiProvider {
    const variant = options.provider.variant ?? 'openai';
    return new VideosApiProvider({
      apiUrl: options.provider.baseUrl,
      apiKey: options.apiKey,
      pollIntervalMs: options.pollIntervalMs,
      timeoutMs: options.timeoutMs,
      maxImageBytes: options.maxImageBytes,
      allowPrivateUrls: options.allowPrivateUrls,
      downloadTimeoutMs: options.downloadTimeoutMs,
      logger: options.logger,
      dispatcher: options.dispatcher,
      variant,
      imageInput: options.imageInput ?? (variant === 'openrouter' ? 'url' : 'bytes'),
      catalogueModel: options.model,
      capabilities: capabilitiesOfModel(options.model, options.provider),
    });
  }

  constructor(options: VideosApiProviderOptions) {
    this.modelCapabilities = options.capabilities;
    this.settings = {
      pollIntervalMs: options.pollIntervalMs ?? DEFAULTS.pollIntervalMs,
      maxImageBytes: options.maxImageBytes ?? DEFAULTS.maxImageBytes,
      imageTimeoutMs: options.imageTimeoutMs ?? DEFAULTS.imageTimeoutMs,
      timeoutMs: options.timeoutMs ?? DEFAULTS.timeoutMs,
      createRetries: options.createRetries ?? DEFAULTS.createRetries,
      createRetryDelayMs: options.createRetryDelayMs ?? DEFAULTS.createRetryDelayMs,
      imageInput: options.imageInput ?? 'bytes',
    };
    this.variant = options.variant ?? 'openai';
    this.catalogueModel = options.catalogueModel;
    this.logger = options.logger ?? silentLogger;
    this.redaction = new ServiceTextRedaction([options.apiKey, `Bearer ${options.apiKey}`]);
    // The API documents no cancel of a running job (DELETE removes a finished one): no cancelAtService.
    this.loop = new PolledJobLoop({
      service: VIDEOS_API,
      settings: this.settings,
      logger: this.logger,
      redaction: this.redaction,
    });
    this.client = new VideosApiClient({
      apiUrl: options.apiUrl,
      apiKey: options.apiKey,
      requestTimeoutMs: options.requestTimeoutMs,
      downloadTimeoutMs: options.downloadTimeoutMs,
      allowPrivateRedirects: options.allowPrivateUrls ?? false,
      logger: this.logger,
      dispatcher: options.dispatcher,
      variant: this.variant,
    });
    this.images = new ReferenceImageFetcher({
      maxBytes: this.settings.maxImageBytes,
      timeoutMs: this.settings.imageTimeoutMs,
      allowPrivate: options.allowPrivateUrls ?? false,
      dispatcher: options.dispatcher,
    });
  }

  capabilities(model: string): ModelCapabilities {
    return this.modelCapabilities ?? videosApiCapabilities(model);
  }

  generate(request: VideoRequest, signal: AbortSignal): AsyncGenerator<VideoEvent, void, undefined> {
    return this.loop.run(signal, (run) => this.created(request, run));
  }

  resume(serviceJobId: string, signal: AbortSignal): AsyncGenerator<VideoEvent, void, undefined> {
    return this.loop.run(signal, (run) => this.resumed(serviceJobId, run));
  }

  remix(
    serviceJobId: string,
    prompt: string,
    signal: AbortSignal,
  ): AsyncGenerator<VideoEvent, void, undefined> {
    return this.loop.run(signal, (run) => this.remixed(serviceJobId, prompt, run));
  }

  async downloadFile(
    url: string,
    maxBytes: number,
    fileName: string,
    signal: AbortSignal,
  ): Promise<DownloadResult> {
    const content = this.keyedDownloadOf(url, maxBytes, signal);
    if (!content) {
      return {
        ok: false,
        why: 'download-refused',
        detail: 'not a content URL of the configured video service',
      };
    }
    return downloadWithRetries(
      async () => {
        const download = await content.fetch();
        if (!download.ok) {
          const why = download.why === 'refused' ? 'download-refused' : 'too-large';
          return { ok: false, why, detail: download.detail };
        }
        return { ok: true, video: { fileName, bytes: download.bytes, contentType: download.contentType } };
      },
      {
        signal,
        pollIntervalMs: this.settings.pollIntervalMs,
        redact: (text) => this.redaction.text(text),
        onRetry: (attempt, detail) =>
          this.logger.warn('videos_api_download_retry', { videoId: content.id, attempt, detail }),
      },
    );
  }

  async close(): Promise<void> {
    await Promise.all([this.client.close(), this.images.close()]);
  }

  private async createBody(request: VideoRequest, signal: AbortSignal): Promise<CreateVideoJobRequest> {
    if (this.catalogueModel) return this.catalogueCreateBody(request, this.catalogueModel, signal);
    const { durations } = this.capabilities(request.model);
    const seconds =
      request.durationSeconds === undefined ? undefined : nearestDuration(request.durationSeconds, durations);
    return {
      prompt: request.prompt,
      model: request.model,
      seconds: seconds === undefined ? undefined : String(seconds),
      size: request.aspectRatio ? VIDEOS_API_SIZES[request.aspectRatio] : undefined,
      image: await this.referenceOf(request.imageUrl, signal),
    };
  }

  /** A create for a catalogue model: its own name, lengths and frames, in the variant's fields. */
  private async catalogueCreateBody(
    request: VideoRequest,
    model: CatalogueModel,
    signal: AbortSignal,
  ): Promise<CreateVideoJobRequest> {
    const seconds = requestedDuration(request, model);
    const aspectRatio = request.aspectRatio;
    const body: CreateVideoJobRequest = {
      prompt: request.prompt,
      model: providerModelName(request, model),
      seconds: seconds === undefined ? undefined : String(seconds),
      image: await this.referenceOf(request.imageUrl, signal),
    };
    if (this.variant === 'openrouter') {
      return { ...body, aspectRatio, resolution: OPENROUTER_RESOLUTION };
    }
    return { ...body, size: aspectRatio ? VIDEOS_API_SIZES[aspectRatio] : undefined };
  }

  private async referenceOf(
    imageUrl: string | undefined,
    signal: AbortSignal,
  ): Promise<ReferenceImage | undefined> {
    if (!imageUrl) return undefined;
    if (this.settings.imageInput === 'url') return { url: imageUrl };
    const image = await this.images.fetch(imageUrl, signal);
    this.logger.debug('videos_api_image_fetched', {
      bytes: image.bytes.length,
      contentType: image.contentType,
    });
    return image;
  }

  private async *created(request: VideoRequest, run: JobRun): AsyncGenerator<VideoEvent, void, undefined> {
    const body = await this.createBody(request, run.signal);
    const job = await this.loop.create(run, () => this.client.create(body, run.signal));
    this.logger.info('videos_api_job_created', {
      videoId: job.id,
      model: body.model,
      seconds: body.seconds,
      size: body.size,
      image: body.image ? ('url' in body.image ? 'url' : 'bytes') : 'none',
    });
    yield* this.started(job, run);
  }

  private async *resumed(serviceJobId: string, run: JobRun): AsyncGenerator<VideoEvent, void, undefined> {
    // Nothing is created on this path, but a resumed job is never to be re-made by a retry either.
    run.jobId = serviceJobId;
    this.logger.info('videos_api_job_resumed', { videoId: serviceJobId });
    yield* this.follow(serviceJobId, undefined, run);
  }

  private async *remixed(
    serviceJobId: string,
    prompt: string,
    run: JobRun,
  ): AsyncGenerator<VideoEvent, void, undefined> {
    const job = await this.loop.create(
      run,
      () => this.client.remix(serviceJobId, prompt, run.signal),
      'remix',
    );
    this.logger.info('videos_api_job_created', { videoId: job.id, remixOf: serviceJobId });
    yield* this.started(job, run);
  }

  /** A create (or remix) made a job: from here it is never sent again, only followed. */
  private async *started(job: VideoJob, run: JobRun): AsyncGenerator<VideoEvent, void, undefined> {
    run.jobId = job.id;
    yield { type: 'created', serviceJobId: job.id };
    yield* this.follow(job.id, job, run);
  }

  /** Polls until the job's outcome; `first` is the create's answer, absent on resume (poll at once). */
  private async *follow(id: string, first: VideoJob | undefined, run: JobRun): AsyncGenerator<VideoEvent> {
    const events = new VideoJobEvents(
      (finished) => this.fileUrlOf(finished),
      this.redaction,
      this.variant === 'openrouter',
    );
    const stepOf = (job: VideoJob): PollStep => {
      const event = events.eventOf(job);
      const done = event?.type === 'succeeded' || event?.type === 'failed';
      if (done) this.logger.info('videos_api_job_finished', { videoId: id, status: job.rawStatus });
      return { events: event ? [event] : [], done };
    };
    if (first) {
      const step = stepOf(first);
      yield* step.events;
      if (step.done) return;
    }
    yield* this.loop.follow(run, first === undefined, async (signal) =>
      stepOf(await this.client.get(id, signal)),
    );
  }

  /** Where a finished job's file is fetched with the key: OpenRouter's own proxy link, else `/content`. */
  private fileUrlOf(job: VideoJob): string {
    const proxied = job.keyedUrls?.find((url) => this.client.isOwnVideoUrl(url));
    return proxied ?? this.client.contentUrl(job.id);
  }

  /**
   * How a result link is fetched with the key, when it may be: this service's own `/content`
   * URLs, and for OpenRouter also its `unsigned_urls` (its content proxy, on its own origin).
   */
  private keyedDownloadOf(
    url: string,
    maxBytes: number,
    signal: AbortSignal,
  ): { id: string; fetch: () => Promise<ContentDownload> } | undefined {
    const content = this.contentOf(url);
    if (content) {
      const options = { maxBytes, signal, variant: content.variant };
      return { id: content.id, fetch: () => this.client.downloadContent(content.id, options) };
    }
    if (this.variant !== 'openrouter' || !this.client.isOwnVideoUrl(url)) return undefined;
    return { id: url, fetch: () => this.client.downloadKeyed(url, { maxBytes, signal }) };
  }

  /** Only this service's own `/content` URLs are fetched with the key. */
  private contentOf(url: string): { id: string; variant: ContentVariant } | undefined {
    const match = CONTENT_PATH.exec(url);
    if (!match?.[1]) return undefined;
    let id: string;
    try {
      id = decodeURIComponent(match[1]);
    } catch {
      return undefined;
    }
    const variant: ContentVariant = (match[2] as ContentVariant | undefined) ?? 'video';
    return this.client.contentUrl(id, variant) === url ? { id, variant } : undefined;
  }
}
