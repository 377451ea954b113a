import { randomBytes } from 'node:crypto';
import type { Catalogue } from '../catalogue/catalogue.ts';
import { type CanPay, canPayAny, chooseFallback, type FallbackChoice } from '../catalogue/model-fallback.ts';
import { type MemberText, memberText } from '../i18n/member-text.ts';
import type { Logger } from '../logging/logger.ts';
import { estimatedCost } from '../quotas/job-cost.ts';
import type { Reservation } from '../quotas/quota-service.ts';
import { TIMED_OUT, withDeadline } from '../timing/deadline.ts';
import type { DownloadedVideo, LinkReason } from '../video-service/download/downloaded-video.ts';
import type { VideoDownloader } from '../video-service/download/video-download.ts';
import { type VideoEvent, type VideoProvider, VideoServiceError } from '../video-service/video-provider.ts';
import type { JobReason, JobRequest, JobSnapshot } from './job.ts';
import { isCancellable, isFinal, jobSnapshot } from './job.ts';
import type { CancelResult, JobCharge, JobSurface, SurfaceLocation } from './job-ports.ts';
import type { ProcessLease } from './process-lease.ts';
import { ProgressThrottle } from './progress-throttle.ts';
import { type ServiceRetries, withServiceRetries } from './service-retry.ts';
import { VideoDelivery as Deliveries, type VideoDelivery, type VideoSource } from './video-delivery.ts';

/** The catalogue's models and their providers, as the runner needs them (ModelProviders). */
export interface RunnerModels {
  readonly catalogue: Catalogue;
  has(modelId: string): boolean;
  providerFor(modelId: string): VideoProvider;
}

export interface JobRunnerOptions {
  /** The provider of every model, when there is one for all (a test, a set-up without a catalogue). */
  provider?: VideoProvider;
  /** The provider of each job by its model id, and the fallbacks; wins over `provider`. */
  models?: RunnerModels;
  /** Whether the member's allowance pays for a fallback model (the cost rules); every one by default. */
  canPay?: CanPay;
  downloader: VideoDownloader;
  logger: Logger;
  maxConcurrent: number;
  /** Videos downloaded and uploaded at once (default 16). */
  maxConcurrentDeliveries?: number;
  /** Bytes of finished videos held in memory at once across deliveries (default 320 MiB). */
  maxDeliveryBytesInFlight?: number;
  progressIntervalMs: number;
  /** Faults before any event (refused, 5xx, 429) are retried: no video was started, so none is paid twice. */
  serviceRetries?: ServiceRetries;
  /**
   * Told when a job is submitted, at every state change (not every percent), when the service
   * names its job, and whenever its message moves (first posted, re-posted, handed over): for job
   * records, so a restarted bot finds every unfinished job at the message it is really in.
   */
  onUpdate?: (update: JobUpdate) => void;
  /**
   * Awaited right before the final message of a delivered video goes out: the record must say
   * "delivering" before the upload, so a crash during it is settled by looking at the message.
   */
  onDelivering?: (update: JobUpdate) => Promise<void>;
  /** Told of every event the video service sends, and how long each progress edit took: for metrics. */
  onStreamEvent?: (type: VideoEvent['type']) => void;
  onProgressEdit?: (seconds: number) => void;
  /** Told once per job, with its final snapshot. */
  onFinished?: (snapshot: JobSnapshot) => void;
  /**
   * Whether this process may still act on a job another process could take over (leases): absent,
   * every job this runner has is its own for good.
   */
  ownership?: JobOwnership;
}

/** What the runner asks before it edits, uploads or settles a job another process could have taken over. */
export interface JobOwnership {
  lease: Pick<ProcessLease, 'fresh' | 'untilFresh' | 'lapses'>;
  /** One fenced read: whether the job's record is still this process's. */
  isOwn(jobId: string): Promise<boolean>;
}

/** One moment of a job, as its record keeps it. */
export interface JobUpdate {
  snapshot: JobSnapshot;
  location: SurfaceLocation;
  reservation?: Reservation;
}

export interface SubmitOptions {
  surface: JobSurface;
  charge?: JobCharge;
  /**
   * Follow a job the service already has instead of starting one: another run of the bot (or a
   * lost process) created it, and it carries on where it is, created and charged once.
   */
  resume?: { jobId: string; serviceJobId: string; startedAt: number };
  /** A job another process admitted and queued: it keeps its id and its start time. */
  admitted?: { jobId: string; startedAt: number };
  /**
   * Ends the job as interrupted when it aborts (the cluster queue's close deadline, or its lost
   * hold on the job), unless another process has taken it over meanwhile.
   */
  signal?: AbortSignal;
}

/** How often the shown elapsed time may refresh when nothing else changed. */
const ELAPSED_STEP_MS = 15_000;
const DEFAULT_DELIVERY_BYTES = 320 * 1024 * 1024;

class CancelledByMember extends Error {
  constructor(readonly memberId: string) {
    super('cancelled by member');
  }
}

class Interrupted extends Error {
  constructor() {
    super('interrupted by shutdown');
  }
}

/** A job (a recorded one, after a restart) whose model the catalogue no longer has. */
class ModelGone extends Error {
  constructor(readonly model: string) {
    super(`model ${model} is not in the catalogue`);
  }
}

/** Faults before anything was created after which another model may take the job. */
const FALLBACK_KINDS: ReadonlyMap<string, NonNullable<JobRequest['fallbackReason']>> = new Map([
  ['model_unavailable', 'model_unavailable'],
  ['network', 'unreachable'],
]);

/** Another process took the job over: this one lets it go without a word. */
class TakenOver extends Error {
  constructor() {
    super('taken over by another process');
  }
}

export const RESTART_REASON: MemberText = memberText('failure.restarted');

/** Why a made video could not reach the member when the service gave no public link to it. */
const UNREACHABLE_VIDEO: Record<LinkReason, MemberText> = {
  'too-large': memberText('failure.unreachable.tooLarge'),
  'upload-refused': memberText('failure.unreachable.uploadRefused'),
  'upload-failed': memberText('failure.unreachable.uploadFailed'),
  'download-failed': memberText('failure.unreachable.downloadFailed'),
  'download-refused': memberText('failure.unreachable.downloadRefused'),
};

interface Job {
  id: string;
  request: JobRequest;
  surface: JobSurface;
  charge?: JobCharge;
  controller: AbortController;
  snapshot: JobSnapshot;
  throttle: ProgressThrottle<JobSnapshot>;
  log: Logger;
  done: Promise<JobSnapshot>;
  resolve: (snapshot: JobSnapshot) => void;
  /** The lease's lapse count when the job was last known to be this process's. */
  ownedAtLapse: number;
  /** What the service said the job cost, in the catalogue's currency, when it said. */
  reportedCost?: number;
}

/**
 * Owns a job's life from request to final message: the bot's queue, the service stream, throttled
 * progress, cancel, download and delivery, and the quota charge. It knows nothing of Discord: the
 * surface it is handed decides how a snapshot looks and where it goes.
 */
export class JobRunner {
  private readonly jobs = new Map<string, Job>();
  private readonly waiting: Job[] = [];
  private running = 0;
  private readonly deliveries: VideoDelivery;
  /** Aborted once the shutdown grace is over: no job waits for a stale lease past it. */
  private readonly stopping = new AbortController();

  constructor(private readonly options: JobRunnerOptions) {
    this.deliveries = new Deliveries({
      downloader: options.downloader,
      maxConcurrent: options.maxConcurrentDeliveries ?? 16,
      maxBytesInFlight: options.maxDeliveryBytesInFlight ?? DEFAULT_DELIVERY_BYTES,
    });
  }

  submit(
    request: JobRequest,
    { surface, charge, resume, admitted, signal }: SubmitOptions,
  ): { id: string; done: Promise<JobSnapshot> } {
    const id = resume?.jobId ?? admitted?.jobId ?? charge?.reservation.jobId ?? newJobId();
    let resolve!: (snapshot: JobSnapshot) => void;
    const done = new Promise<JobSnapshot>((settle) => {
      resolve = settle;
    });
    const log = this.options.logger.child({ jobId: id });
    const job: Job = {
      id,
      request,
      surface,
      charge,
      controller: new AbortController(),
      snapshot: jobSnapshot(
        { jobId: id, request, startedAt: resume?.startedAt ?? admitted?.startedAt ?? Date.now() },
        { state: 'waiting', serviceJobId: resume?.serviceJobId },
      ),
      throttle: new ProgressThrottle<JobSnapshot>({
        intervalMs: this.options.progressIntervalMs,
        keyOf: progressKey,
        send: (snapshot) => this.showIfOwn(job, snapshot),
        onError: (error) => log.warn('progress_edit_failed', { error }),
      }),
      log,
      done,
      resolve,
      ownedAtLapse: this.options.ownership?.lease.lapses ?? 0,
    };
    this.jobs.set(id, job);
    signal?.addEventListener('abort', () => this.interrupt(job), { once: true });
    surface.onMove(() => this.track(job));
    log.info('job_submitted', {
      source: request.source,
      guildId: request.guildId,
      channelId: request.channelId,
      requesterId: request.requesterId,
      model: request.model,
      durationSeconds: request.durationSeconds,
      withImage: Boolean(request.imageUrl),
    });
    this.track(job);
    this.waiting.push(job);
    this.pump();
    if (signal?.aborted) this.interrupt(job);
    return { id, done };
  }

  /** Jobs waiting in this runner's own line, and running. */
  counts(): { waiting: number; running: number } {
    return { waiting: this.waiting.length, running: this.running };
  }

  /** Whether this runner has the job, waiting or running. */
  has(jobId: string): boolean {
    return this.jobs.has(jobId);
  }

  /** The member who asked for a job, while it is known; for permission checks. */
  requesterIdOf(jobId: string): string | undefined {
    return this.jobs.get(jobId)?.request.requesterId;
  }

  cancel(jobId: string, memberId: string): CancelResult {
    const job = this.jobs.get(jobId);
    if (!job) return 'not-found';
    if (!isCancellable(job.snapshot.state)) return 'finished';
    job.log.info('job_cancel_requested', { memberId });
    const queued = this.waiting.indexOf(job);
    if (queued !== -1) {
      this.waiting.splice(queued, 1);
      this.showQueuePositions();
      void this.end(job, { state: 'cancelled', cancelledBy: memberId });
    } else {
      job.controller.abort(new CancelledByMember(memberId));
    }
    return 'cancelled';
  }

  /** Ends one job as interrupted: taken out of the line if it waits, its run aborted if it runs. */
  private interrupt(job: Job): void {
    if (!this.jobs.has(job.id) || isFinal(job.snapshot.state)) return;
    const queued = this.waiting.indexOf(job);
    if (queued === -1) {
      job.controller.abort(new Interrupted());
      return;
    }
    this.waiting.splice(queued, 1);
    this.showQueuePositions();
    void this.end(job, { state: 'interrupted', reason: RESTART_REASON });
  }

  /**
   * Whether this process may still act on the job. A stale lease is waited out first; then, after
   * a lapse (or always, when `fenced`: before the final message and the charge), one read of the
   * record says whether another process has claimed it meanwhile.
   */
  private async isStillOwn(job: Job, fenced: boolean, signal: AbortSignal): Promise<boolean | 'gave up'> {
    const ownership = this.options.ownership;
    if (!ownership) return true;
    if (!ownership.lease.fresh()) job.log.info('waiting_for_lease', { fenced });
    try {
      await ownership.lease.untilFresh(signal);
    } catch {
      return 'gave up';
    }
    if (!fenced && job.ownedAtLapse === ownership.lease.lapses) return true;
    job.ownedAtLapse = ownership.lease.lapses;
    try {
      return await ownership.isOwn(job.id);
    } catch (error) {
      // The lease was renewed a moment ago, so no other process can have claimed the job.
      job.log.warn('ownership_check_failed', { error });
      return true;
    }
  }

  private async showIfOwn(job: Job, snapshot: JobSnapshot): Promise<void> {
    const own = await this.isStillOwn(
      job,
      false,
      AbortSignal.any([job.controller.signal, this.stopping.signal]),
    );
    // The job ended (or the bot is stopping) while the lease was stale: its ending decides.
    if (own === 'gave up') return;
    if (own) {
      await this.show(job.surface, snapshot);
      return;
    }
    const queued = this.waiting.indexOf(job);
    if (queued === -1) {
      job.controller.abort(new TakenOver());
      return;
    }
    this.waiting.splice(queued, 1);
    this.showQueuePositions();
    this.letGo(job);
  }

  /**
   * The job is another process's now: no message, no charge, no record from here; the new owner
   * has all of them.
   */
  private letGo(job: Job, why: 'taken over' | 'lease not renewed' = 'taken over'): void {
    job.log.warn('job_let_go', { state: job.snapshot.state, why });
    void job.throttle.close();
    this.jobs.delete(job.id);
    job.resolve(job.snapshot);
  }

  /**
   * Stops taking jobs, gives running ones `graceMs` to finish, then ends the rest as interrupted
   * (final message with Retry, charge released).
   */
  async shutdown(graceMs: number): Promise<void> {
    const pending = [...this.jobs.values()].map((job) => job.done);
    const waiting = this.waiting.splice(0);
    for (const job of waiting) void this.end(job, { state: 'interrupted', reason: RESTART_REASON });
    if ((await withDeadline(Promise.all(pending), graceMs)) === TIMED_OUT) {
      // Nothing waits for a stale lease any more: what cannot be checked is left to the next sweep.
      this.stopping.abort();
      for (const job of this.jobs.values()) job.controller.abort(new Interrupted());
      await Promise.all(pending);
    }
  }

  private pump(): void {
    while (this.running < this.options.maxConcurrent && this.waiting.length > 0) {
      const job = this.waiting.shift() as Job;
      this.running++;
      void this.run(job).finally(() => {
        this.running--;
        this.pump();
      });
    }
    this.showQueuePositions();
  }

  private showQueuePositions(): void {
    this.waiting.forEach((job, index) => {
      if (job.snapshot.queuePosition !== index + 1) this.update(job, { queuePosition: index + 1 });
    });
  }

  private async run(job: Job): Promise<void> {
    const ticker = setInterval(() => this.update(job, {}), ELAPSED_STEP_MS);
    ticker.unref();
    try {
      this.update(job, { state: 'queued', queuePosition: undefined });
      const outcome = await this.streamOrFallBack(job);
      if ('reason' in outcome) {
        await this.end(job, { state: 'failed', reason: outcome.reason });
      } else {
        await this.deliver(job, outcome);
      }
    } catch (error) {
      await this.endAfterError(job, error);
    } finally {
      clearInterval(ticker);
    }
  }

  /**
   * Streams the job with its model; when the model is gone or its provider unreachable before
   * anything was created, moves it to the next fallback that can make what was asked.
   */
  private async streamOrFallBack(job: Job): Promise<VideoSource | { reason: JobReason }> {
    const tried = new Set([job.request.model]);
    for (;;) {
      try {
        return await withServiceRetries(
          () => this.stream(job),
          this.options.serviceRetries ?? { attempts: 0, baseDelayMs: 0 },
          job.controller.signal,
          job.log,
        );
      } catch (error) {
        const why = this.fallbackReason(job, error);
        const choice =
          why &&
          this.options.models &&
          chooseFallback(this.options.models.catalogue, job.request.model, job.request, tried, (ask, model) =>
            (this.options.canPay ?? canPayAny)(ask, model, job.charge?.reservation),
          );
        if (!why || !choice) throw error;
        tried.add(choice.model.id);
        this.moveToFallback(job, choice, why, error as VideoServiceError);
      }
    }
  }

  /** Why another model may take the job after `error`, or undefined when none may. */
  private fallbackReason(job: Job, error: unknown): JobRequest['fallbackReason'] {
    const created = Boolean(job.snapshot.serviceJobId) || Boolean(job.request.remixOf);
    if (created || job.controller.signal.aborted || !(error instanceof VideoServiceError)) return undefined;
    return error.beforeAnyEvent ? FALLBACK_KINDS.get(error.kind) : undefined;
  }

  private moveToFallback(
    job: Job,
    choice: FallbackChoice,
    why: NonNullable<JobRequest['fallbackReason']>,
    error: VideoServiceError,
  ): void {
    const from = job.request.model;
    job.request = {
      ...job.request,
      model: choice.model.id,
      fallbackFrom: job.request.fallbackFrom ?? from,
      fallbackReason: why,
      durationSeconds: choice.durationSeconds,
      ...(choice.snappedFrom === undefined ? {} : { durationAskedSeconds: choice.snappedFrom }),
    };
    job.log.warn('model_fallback', {
      from,
      to: choice.model.id,
      why,
      kind: error.kind,
      status: error.status,
      durationSeconds: choice.durationSeconds,
      durationAskedSeconds: choice.snappedFrom,
    });
    this.update(job, { request: job.request });
    // The choice is in the record at once: a restart resumes the fallback's job with its provider.
    this.track(job);
  }

  /** The provider of the job's model; undefined when the catalogue no longer has the model. */
  private providerOf(request: JobRequest): VideoProvider | undefined {
    const { models, provider } = this.options;
    if (!models) return provider;
    return models.has(request.model) ? models.providerFor(request.model) : undefined;
  }

  private async show(surface: JobSurface, snapshot: JobSnapshot): Promise<void> {
    const started = performance.now();
    await surface.show(snapshot);
    this.options.onProgressEdit?.((performance.now() - started) / 1000);
  }

  private async stream(job: Job): Promise<VideoSource | { reason: JobReason }> {
    for await (const event of this.eventsOf(job)) {
      this.options.onStreamEvent?.(event.type);
      const outcome = this.apply(job, event);
      if (outcome) return outcome;
    }
    return { reason: memberText('failure.noVideo') };
  }

  /** A job the service already has is followed; a remix changes an earlier video; else a new one. */
  private eventsOf(job: Job): AsyncIterable<VideoEvent> {
    const { request, snapshot, controller } = job;
    const provider = this.providerOf(request);
    if (!provider) throw new ModelGone(request.model);
    if (snapshot.serviceJobId && provider.resume)
      return provider.resume(snapshot.serviceJobId, controller.signal);
    if (request.remixOf && provider.remix)
      return provider.remix(request.remixOf, request.prompt, controller.signal);
    return provider.generate(
      {
        prompt: request.prompt,
        imageUrl: request.imageUrl,
        model: request.model,
        durationSeconds: request.durationSeconds,
        aspectRatio: request.aspectRatio,
      },
      controller.signal,
    );
  }

  private apply(job: Job, event: VideoEvent): VideoSource | { reason: JobReason } | undefined {
    switch (event.type) {
      case 'created':
        this.update(job, { serviceJobId: event.serviceJobId });
        this.track(job);
        return undefined;
      case 'queued':
        // The service counts the jobs ahead (0: next); a member reads a place in line.
        this.update(job, {
          state: 'queued',
          serviceQueuePosition: event.position === undefined ? undefined : event.position + 1,
        });
        return undefined;
      case 'progress': {
        const percent = Math.max(job.snapshot.percent ?? 0, event.percent ?? 0);
        this.update(job, {
          state: 'generating',
          serviceQueuePosition: undefined,
          percent: event.percent === undefined ? job.snapshot.percent : percent,
        });
        return undefined;
      }
      case 'note':
        this.update(job, { note: event.text });
        return undefined;
      case 'succeeded':
        job.reportedCost = event.cost;
        return { urls: event.urls, fileUrl: event.fileUrl, keyedBy: this.providerOf(job.request) };
      case 'failed':
        return { reason: event.reason };
    }
  }

  private async deliver(job: Job, source: VideoSource): Promise<void> {
    this.update(job, { state: 'fetching', videoUrl: source.urls[0], percent: 100 });
    job.log.info('video_ready', { candidates: source.urls.length, withFile: Boolean(source.fileUrl) });
    const fetched = await this.deliveries.fetch(
      source,
      job.surface.uploadLimitBytes,
      // Discord shows a file named SPOILER_… blurred until clicked: the server's spoiler setting.
      `${job.request.spoiler ? 'SPOILER_' : ''}sora-${job.id}.mp4`,
      job.controller.signal,
      job.log,
    );
    try {
      if (!fetched.video && !fetched.videoUrl) {
        // Nothing the member could open: not delivered, so not charged.
        const why = fetched.delivery.kind === 'link' ? fetched.delivery.why : 'download-failed';
        await this.end(job, { state: 'failed', reason: UNREACHABLE_VIDEO[why] });
        return;
      }
      const provider = this.providerOf(job.request);
      const remixable =
        Boolean(job.snapshot.serviceJobId && provider?.remix) &&
        Boolean(provider?.capabilities(job.request.model).remix);
      await this.end(
        job,
        { state: 'delivered', videoUrl: fetched.videoUrl, delivery: fetched.delivery, remixable },
        fetched.video,
      );
    } finally {
      fetched.release();
    }
  }

  private async endAfterError(job: Job, error: unknown): Promise<void> {
    const reason = job.controller.signal.reason;
    if (reason instanceof TakenOver) {
      await job.throttle.close();
      this.letGo(job);
    } else if (reason instanceof CancelledByMember) {
      await this.end(job, { state: 'cancelled', cancelledBy: reason.memberId });
    } else if (reason instanceof Interrupted) {
      await this.end(job, { state: 'interrupted', reason: RESTART_REASON });
    } else if (error instanceof ModelGone) {
      job.log.warn('model_not_in_catalogue', { model: error.model });
      await this.end(job, {
        state: 'interrupted',
        reason: memberText('failure.modelRemoved', { model: error.model }),
      });
    } else if (error instanceof VideoServiceError) {
      job.log.warn('service_failed', { kind: error.kind, status: error.status, error });
      await this.end(job, { state: 'failed', reason: error.memberText ?? error.userMessage });
    } else {
      job.log.error('job_crashed', { error });
      await this.end(job, { state: 'failed', reason: memberText('failure.crashed') });
    }
  }

  /**
   * The one way a job ends. An undelivered job gives its quota unit back before its final message,
   * so a member who reads "failed" and checks /usage sees it uncounted; a delivered one is
   * charged only once the video is posted.
   */
  private async end(job: Job, change: Partial<JobSnapshot>, video?: DownloadedVideo): Promise<void> {
    await job.throttle.close();
    // Checked once before the final message and the charge: a process that was paused past its
    // lease must not post an outcome next to the one its successor posts.
    const own = await this.isStillOwn(job, true, this.stopping.signal);
    if (own !== true) {
      this.letGo(job, own === 'gave up' ? 'lease not renewed' : 'taken over');
      return;
    }
    const cost = change.state === 'delivered' && job.request.priceCurrency ? this.costOf(job) : undefined;
    this.update(job, cost === undefined ? change : { ...change, cost });
    let snapshot = job.snapshot;
    if (snapshot.state !== 'delivered') await this.settleCharge(job, false);
    else {
      await this.options.onDelivering?.(this.updateOf(job));
      job.log.info('video_posting', { asFile: Boolean(video), bytes: video?.bytes.length });
    }
    try {
      const delivery = await job.surface.finish(snapshot, video);
      if (delivery) snapshot = this.update(job, { delivery });
    } catch (error) {
      job.log.error('final_message_failed', { error });
      if (snapshot.state === 'delivered') {
        snapshot = this.update(job, { state: 'failed', reason: memberText('failure.notPosted') });
        await this.settleCharge(job, false);
      }
    }
    if (snapshot.state === 'delivered') await this.settleCharge(job, true);
    job.log.info('job_finished', {
      state: snapshot.state,
      delivery: snapshot.delivery?.kind,
      linkWhy: snapshot.delivery?.kind === 'link' ? snapshot.delivery.why : undefined,
      elapsedMs: snapshot.elapsedMs,
      reason: typeof snapshot.reason === 'object' ? snapshot.reason.key : snapshot.reason,
    });
    this.jobs.delete(job.id);
    this.options.onFinished?.(snapshot);
    job.resolve(snapshot);
  }

  private async settleCharge(job: Job, delivered: boolean): Promise<void> {
    if (!job.charge) return;
    try {
      await (delivered ? job.charge.commit(this.costOf(job)) : job.charge.release());
    } catch (error) {
      job.log.error('charge_settle_failed', { delivered, error });
    }
  }

  /**
   * What a delivered job cost: the service's own figure where it gave one, else the estimate for
   * the model that made it (a fallback's, when one took over); unknown without a catalogue.
   */
  private costOf(job: Job): number | undefined {
    if (job.reportedCost !== undefined) return job.reportedCost;
    const model = this.options.models?.catalogue.models.find((each) => each.id === job.request.model);
    return model && job.request.durationSeconds !== undefined
      ? estimatedCost(model, job.request.durationSeconds).spend
      : undefined;
  }

  private update(job: Job, change: Partial<JobSnapshot>): JobSnapshot {
    const previous = job.snapshot.state;
    job.snapshot = { ...job.snapshot, ...change, elapsedMs: Date.now() - job.snapshot.startedAt };
    if (!isFinal(job.snapshot.state)) job.throttle.push(job.snapshot);
    if (job.snapshot.state !== previous || change.delivery) {
      job.log.info('job_state', { state: job.snapshot.state });
      this.track(job);
    }
    return job.snapshot;
  }

  private track(job: Job): void {
    this.options.onUpdate?.(this.updateOf(job));
  }

  private updateOf(job: Job): JobUpdate {
    return { snapshot: job.snapshot, location: job.surface.location(), reservation: job.charge?.reservation };
  }
}

/** Short, unguessable, and safe in a custom id. */
export function newJobId(): string {
  return randomBytes(6).toString('base64url');
}

/** What, if changed, is worth an edit: elapsed time only counts in coarse steps. */
function progressKey(snapshot: JobSnapshot): string {
  return [
    snapshot.state,
    Math.floor(snapshot.percent ?? -1),
    snapshot.queuePosition ?? '',
    snapshot.serviceQueuePosition ?? '',
    snapshot.note ?? '',
    Math.floor(snapshot.elapsedMs / ELAPSED_STEP_MS),
  ].join('|');
}
