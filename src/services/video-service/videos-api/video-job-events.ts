import { GENERIC_FAILURE_REASON } from '../relay/relay-service-text.ts';
import type { ServiceTextRedaction } from '../service-text-redaction.ts';
import type { VideoEvent } from '../video-provider.ts';
import { isTerminal, type VideoJob } from './video-job.ts';

/**
 * Turns the job objects of one job, as polls return them, into the events the runner wants:
 * `queued` once, `progress` the first time and whenever the percent rises, then one outcome.
 * Repeats and steps back (a relay answering an older replica) yield nothing.
 */
export class VideoJobEvents {
  private queuedShown = false;
  private progressShown = false;
  private percent = Number.NEGATIVE_INFINITY;

  /**
   * `fileUrl`: where the finished job's file is fetched with the key. `reportCost`: the service's
   * `usage.cost` is the job's real price (OpenRouter), passed on with `succeeded`.
   */
  constructor(
    private readonly fileUrl: (job: VideoJob) => string,
    private readonly redaction: ServiceTextRedaction,
    private readonly reportCost = false,
  ) {}

  eventOf(job: VideoJob): VideoEvent | undefined {
    if (job.status === 'completed') {
      const succeeded: VideoEvent = {
        type: 'succeeded',
        urls: job.publicUrls.map((url) => this.redaction.text(url)),
        fileUrl: this.fileUrl(job),
      };
      if (this.reportCost && job.cost !== undefined) succeeded.cost = job.cost;
      return succeeded;
    }
    if (isTerminal(job.status)) {
      return { type: 'failed', reason: this.redaction.reason(job.failure?.reason ?? GENERIC_FAILURE_REASON) };
    }
    if (job.status === 'queued') {
      if (this.queuedShown || this.progressShown) return undefined;
      this.queuedShown = true;
      return { type: 'queued' };
    }
    return this.progressOf(job.progress);
  }

  private progressOf(percent: number | undefined): VideoEvent | undefined {
    const first = !this.progressShown;
    const rose = percent !== undefined && percent > this.percent;
    if (!first && !rose) return undefined;
    this.progressShown = true;
    if (percent === undefined) return { type: 'progress' };
    this.percent = percent;
    return { type: 'progress', percent };
  }
}
