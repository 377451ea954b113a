import { describe, expect, it } from 'vitest';
import type { JobRequest, JobSnapshot } from '../../../src/services/jobs/job.ts';
import type { JobSurface } from '../../../src/services/jobs/job-ports.ts';
import { type JobOwnership, JobRunner } from '../../../src/services/jobs/job-runner.ts';
import { silentLogger } from '../../../src/services/logging/logger.ts';
import type { DownloadedVideo } from '../../../src/services/video-service/download/downloaded-video.ts';
import type {
  DownloadResult,
  VideoDownloader,
} from '../../../src/services/video-service/download/video-download.ts';
import {
  type VideoEvent,
  type VideoProvider,
  type VideoRequest,
  VideoServiceError,
} from '../../../src/services/video-service/video-provider.ts';
import { waitUntil } from '../cluster/wait-until.ts';

/** A provider that plays a script; each call to generate takes the next script. */
class ScriptedProvider implements VideoProvider {
  calls: VideoRequest[] = [];
  signals: AbortSignal[] = [];
  constructor(private readonly scripts: Array<(signal: AbortSignal) => AsyncIterable<VideoEvent>>) {}
  capabilities() {
    return { durations: [5], aspectRatios: [], imageInput: true, progress: 'text', remix: false } as const;
  }
  generate(request: VideoRequest, signal: AbortSignal): AsyncIterable<VideoEvent> {
    this.calls.push(request);
    this.signals.push(signal);
    const script = this.scripts.shift();
    if (!script) throw new Error('no script left');
    return script(signal);
  }
}

async function* events(...list: VideoEvent[]): AsyncIterable<VideoEvent> {
  for (const event of list) yield event;
}

/** Yields the given events, then waits until aborted. */
async function* thenHang(signal: AbortSignal, ...list: VideoEvent[]): AsyncIterable<VideoEvent> {
  yield* events(...list);
  await new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener('abort', () => reject(signal.reason));
  });
}

class RecordingSurface implements JobSurface {
  readonly uploadLimitBytes = 1_000;
  shown: JobSnapshot[] = [];
  finished: { snapshot: JobSnapshot; video?: DownloadedVideo }[] = [];
  failFinish = false;
  onMove() {}
  location() {
    return {
      kind: 'channel' as const,
      channelId: request.channelId,
      uploadLimitBytes: this.uploadLimitBytes,
    };
  }
  async show(snapshot: JobSnapshot) {
    this.shown.push(snapshot);
  }
  async finish(snapshot: JobSnapshot, video?: DownloadedVideo) {
    if (this.failFinish) throw new Error('Discord is down');
    this.finished.push({ snapshot, video });
    return snapshot.delivery;
  }
}

const okDownloader: VideoDownloader = {
  async download(_url, _max, fileName): Promise<DownloadResult> {
    return { ok: true, video: { fileName, bytes: Buffer.from('mp4'), contentType: 'video/mp4' } };
  },
};

function charge() {
  const record = { commits: 0, releases: 0 };
  return {
    record,
    charge: {
      reservation: {
        id: 'r1',
        scope: 'guild-1',
        guildId: '1',
        userId: 'u1',
        jobId: 'job-r1',
        ownerId: 'test',
        createdAt: 0,
        periodKeys: { day: 'day:x', week: 'week:x', month: 'month:x' },
      },
      commit: async () => {
        record.commits++;
      },
      release: async () => {
        record.releases++;
      },
    },
  };
}

const request: JobRequest = {
  requesterId: '100000000000000001',
  guildId: '200000000000000002',
  channelId: '300000000000000003',
  prompt: 'a fox in the snow',
  model: 'sora-2',
  durationSeconds: 10,
  source: 'slash',
};

function runner(
  provider: VideoProvider,
  options: {
    maxConcurrent?: number;
    downloader?: VideoDownloader;
    maxConcurrentDeliveries?: number;
    ownership?: JobOwnership;
  } = {},
) {
  return new JobRunner({
    ownership: options.ownership,
    maxConcurrentDeliveries: options.maxConcurrentDeliveries,
    provider,
    downloader: options.downloader ?? okDownloader,
    logger: silentLogger,
    maxConcurrent: options.maxConcurrent ?? 5,
    progressIntervalMs: 10,
    serviceRetries: { attempts: 2, baseDelayMs: 1 },
  });
}

const VIDEO = 'https://videos.example/fox.mp4';

describe('JobRunner', () => {
  it('streams progress to the surface, delivers the file and commits the charge', async () => {
    const provider = new ScriptedProvider([
      () =>
        events({ type: 'queued' }, { type: 'progress', percent: 40 }, { type: 'succeeded', urls: [VIDEO] }),
    ]);
    const surface = new RecordingSurface();
    const { record, charge: jobCharge } = charge();
    const final = await runner(provider).submit(request, { surface, charge: jobCharge }).done;

    expect(final.state).toBe('delivered');
    expect(final.delivery).toEqual({ kind: 'file' });
    expect(surface.finished[0]?.video?.fileName).toMatch(/\.mp4$/);
    expect(record).toEqual({ commits: 1, releases: 0 });
    expect(provider.calls[0]).toMatchObject({
      prompt: 'a fox in the snow',
      durationSeconds: 10,
      model: 'sora-2',
    });
  });

  it('ends as failed with the service reason and releases the charge', async () => {
    const provider = new ScriptedProvider([
      () => events({ type: 'progress', percent: 90 }, { type: 'failed', reason: 'Blocked by moderation.' }),
    ]);
    const surface = new RecordingSurface();
    const { record, charge: jobCharge } = charge();
    const final = await runner(provider).submit(request, { surface, charge: jobCharge }).done;
    expect(final).toMatchObject({ state: 'failed', reason: 'Blocked by moderation.' });
    expect(record).toEqual({ commits: 0, releases: 1 });
  });

  it('cancels a running job: the service request is aborted and nothing is charged', async () => {
    const provider = new ScriptedProvider([(signal) => thenHang(signal, { type: 'progress', percent: 10 })]);
    const surface = new RecordingSurface();
    const { record, charge: jobCharge } = charge();
    const jobs = runner(provider);
    const job = jobs.submit(request, { surface, charge: jobCharge });
    while (!surface.shown.some((shown) => shown.state === 'generating')) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(jobs.cancel(job.id, '900000000000000009')).toBe('cancelled');
    const final = await job.done;
    expect(final).toMatchObject({ state: 'cancelled', cancelledBy: '900000000000000009' });
    expect(provider.signals[0]?.aborted).toBe(true);
    expect(record).toEqual({ commits: 0, releases: 1 });
    expect(jobs.cancel(job.id, request.requesterId)).toBe('not-found');
  });

  it('queues beyond the concurrency limit, shows the place in line, and cancels from the queue', async () => {
    const provider = new ScriptedProvider([(signal) => thenHang(signal, { type: 'queued' })]);
    const jobs = runner(provider, { maxConcurrent: 1 });
    const first = jobs.submit(request, { surface: new RecordingSurface() });
    const secondSurface = new RecordingSurface();
    const second = jobs.submit(request, { surface: secondSurface });
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(secondSurface.shown.at(-1)).toMatchObject({ state: 'waiting', queuePosition: 1 });
    expect(jobs.cancel(second.id, request.requesterId)).toBe('cancelled');
    expect((await second.done).state).toBe('cancelled');
    expect(provider.calls).toHaveLength(1);
    jobs.cancel(first.id, request.requesterId);
    await first.done;
  });

  it('retries a fault that came before any event, since no video was started', async () => {
    const unavailable = new VideoServiceError({
      kind: 'unavailable',
      userMessage: 'The video service is having trouble.',
      logMessage: 'HTTP 502',
      status: 502,
      beforeAnyEvent: true,
    });
    const provider = new ScriptedProvider([
      () => ({
        [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(unavailable) }),
      }),
      () => events({ type: 'succeeded', urls: [VIDEO] }),
    ]);
    const final = await runner(provider).submit(request, { surface: new RecordingSurface() }).done;
    expect(final.state).toBe('delivered');
    expect(provider.calls).toHaveLength(2);
  });

  it('does not retry once events arrived: the video may have been paid for', async () => {
    async function* cut(): AsyncIterable<VideoEvent> {
      yield { type: 'progress', percent: 50 };
      throw new VideoServiceError({
        kind: 'network',
        userMessage: 'The connection to the video service was lost.',
        logMessage: 'socket hang up',
        beforeAnyEvent: false,
      });
    }
    const provider = new ScriptedProvider([() => cut(), () => events({ type: 'succeeded', urls: [VIDEO] })]);
    const final = await runner(provider).submit(request, { surface: new RecordingSurface() }).done;
    expect(final).toMatchObject({ state: 'failed', reason: 'The connection to the video service was lost.' });
    expect(provider.calls).toHaveLength(1);
  });

  it('falls back to the link when the video is too large to upload, and still counts it', async () => {
    const provider = new ScriptedProvider([() => events({ type: 'succeeded', urls: [VIDEO] })]);
    const tooLarge: VideoDownloader = {
      async download() {
        return { ok: false, why: 'too-large', detail: 'content-length 5000' };
      },
    };
    const surface = new RecordingSurface();
    const { record, charge: jobCharge } = charge();
    const final = await runner(provider, { downloader: tooLarge }).submit(request, {
      surface,
      charge: jobCharge,
    }).done;
    expect(final).toMatchObject({
      state: 'delivered',
      videoUrl: VIDEO,
      delivery: { kind: 'link', why: 'too-large' },
    });
    expect(surface.finished[0]?.video).toBeUndefined();
    expect(record.commits).toBe(1);
  });

  it('does not charge a video that could not be posted', async () => {
    const provider = new ScriptedProvider([() => events({ type: 'succeeded', urls: [VIDEO] })]);
    const surface = new RecordingSurface();
    surface.failFinish = true;
    const { record, charge: jobCharge } = charge();
    const final = await runner(provider).submit(request, { surface, charge: jobCharge }).done;
    expect(final.state).toBe('failed');
    expect(record).toEqual({ commits: 0, releases: 1 });
  });

  it('delivers finished videos a few at a time, so they are not all held in memory at once', async () => {
    const provider = new ScriptedProvider([
      () => events({ type: 'succeeded', urls: [VIDEO] }),
      () => events({ type: 'succeeded', urls: [VIDEO] }),
      () => events({ type: 'succeeded', urls: [VIDEO] }),
    ]);
    let inFlight = 0;
    let mostInFlight = 0;
    const slowFetcher: VideoDownloader = {
      async download(url, max, fileName, signal) {
        inFlight++;
        mostInFlight = Math.max(mostInFlight, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 20));
        inFlight--;
        return okDownloader.download(url, max, fileName, signal);
      },
    };
    const jobs = runner(provider, { downloader: slowFetcher, maxConcurrentDeliveries: 1 });
    const finals = await Promise.all(
      [1, 2, 3].map(() => jobs.submit(request, { surface: new RecordingSurface() }).done),
    );
    expect(finals.map((final) => final.state)).toEqual(['delivered', 'delivered', 'delivered']);
    expect(mostInFlight).toBe(1);
  });
});

/** A lease the test makes stale and renews by hand, and a record another process may claim. */
class FakeOwnership implements JobOwnership {
  isFresh = true;
  takenOver = false;
  ownershipReads = 0;
  private wake: (() => void) | undefined;
  lease = {
    lapses: 0,
    fresh: () => this.isFresh,
    untilFresh: async () => {
      if (this.isFresh) return;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    },
  };
  get waitingForRenewal(): boolean {
    return this.wake !== undefined;
  }
  renew(): void {
    this.isFresh = true;
    this.lease.lapses += 1;
    this.wake?.();
    this.wake = undefined;
  }
  async isOwn(): Promise<boolean> {
    this.ownershipReads += 1;
    return !this.takenOver;
  }
}

/** Events, then a wait for `gate`, then success. */
function gated(gate: Promise<void>, ...before: VideoEvent[]) {
  return async function* (): AsyncIterable<VideoEvent> {
    yield* events(...before);
    await gate;
    yield { type: 'succeeded', urls: [VIDEO] };
  };
}

describe('JobRunner, when another process may take its jobs over', () => {
  it('a job whose queue hold is lost (its signal aborts) while it runs ends Interrupted and gives its unit back', async () => {
    const provider = new ScriptedProvider([(signal) => thenHang(signal, { type: 'progress', percent: 20 })]);
    const surface = new RecordingSurface();
    const { record, charge: jobCharge } = charge();
    const hold = new AbortController();
    const { done } = runner(provider).submit(request, { surface, charge: jobCharge, signal: hold.signal });
    await waitUntil('the job is generating', () => surface.shown.some((shot) => shot.state === 'generating'));

    hold.abort(new Error('lock lost'));

    expect((await done).state).toBe('interrupted');
    expect(surface.finished.map((end) => end.snapshot.state)).toEqual(['interrupted']);
    expect(provider.signals[0]?.aborted).toBe(true);
    expect(record).toEqual({ commits: 0, releases: 1 });
  });

  it('a process paused past its lease whose job was taken over meanwhile posts nothing and settles nothing', async () => {
    let finish!: () => void;
    const provider = new ScriptedProvider([gated(new Promise((resolve) => (finish = resolve)))]);
    const surface = new RecordingSurface();
    const { record, charge: jobCharge } = charge();
    const ownership = new FakeOwnership();
    const { done } = runner(provider, { ownership }).submit(request, { surface, charge: jobCharge });
    await waitUntil('the job is queued at the service', () =>
      surface.shown.some((shot) => shot.state === 'queued'),
    );

    // The pause: the lease went stale, another process claimed the job, then the service finished.
    ownership.isFresh = false;
    ownership.takenOver = true;
    finish();
    await waitUntil('the runner waits for its lease', () => ownership.waitingForRenewal);
    expect(surface.finished).toEqual([]);
    ownership.renew();

    await done;
    expect(surface.finished).toEqual([]);
    expect(record).toEqual({ commits: 0, releases: 0 });
    expect(ownership.ownershipReads).toBeGreaterThan(0);
  });

  it('a stale lease holds back progress edits until it is renewed; a job still its own then carries on and is delivered', async () => {
    let finish!: () => void;
    const provider = new ScriptedProvider([
      gated(new Promise((resolve) => (finish = resolve)), { type: 'progress', percent: 30 }),
    ]);
    const surface = new RecordingSurface();
    const { record, charge: jobCharge } = charge();
    const ownership = new FakeOwnership();
    ownership.isFresh = false;
    const { done } = runner(provider, { ownership }).submit(request, { surface, charge: jobCharge });

    await waitUntil('the runner waits for its lease', () => ownership.waitingForRenewal);
    expect(surface.shown).toEqual([]);
    ownership.renew();
    await waitUntil('progress is shown', () => surface.shown.some((shot) => shot.percent === 30));
    finish();

    expect((await done).state).toBe('delivered');
    expect(surface.finished.map((end) => end.snapshot.state)).toEqual(['delivered']);
    expect(record).toEqual({ commits: 1, releases: 0 });
  });
});
