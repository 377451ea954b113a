import { setTimeout as sleep } from 'node:timers/promises';
import type { APIChatInputApplicationCommandInteraction } from 'discord-api-types/v10';
import {
  type FakeChannel,
  type FakeDiscord,
  type FakeDiscordOptions,
  type FakeGuild,
  type FakeInteraction,
  type RequestRecord,
  startFakeDiscord,
} from '../../test/fakes/fake-discord/fake-discord.ts';
import {
  type EventsScenario,
  type FakeVideoService,
  progressStream,
  type StreamStep,
  startFakeVideoService,
} from '../../test/fakes/fake-video-service.ts';
import { PNG_BYTES, videoOptions } from '../../test/harness/test-bot.ts';

/** The same local stand-ins as the tests (fake Discord, fake relay), plus what the benches need around them. */
export interface StandIns {
  discord: FakeDiscord;
  service: FakeVideoService;
  close(): Promise<void>;
}

export async function startStandIns(discordOptions: FakeDiscordOptions = {}): Promise<StandIns> {
  const discord = await startFakeDiscord(discordOptions);
  const service = await startFakeVideoService();
  return {
    discord,
    service,
    async close() {
      await discord.close();
      await service.close();
    },
  };
}

export type VideoInteraction = FakeInteraction<APIChatInputApplicationCommandInteraction>;

/**
 * `/video prompt:… image:…` interactions, each from its own member, built but not sent yet, so a
 * burst goes out in one tight loop. The prompt carries `tag` so the relay request can be matched.
 */
export function videoCommands(
  discord: FakeDiscord,
  count: number,
  tag: string,
  options: {
    attachmentSizeLimit?: number;
    /** The guild and channel of the `index`th command; default the fake's default guild and channel. */
    placeOf?: (index: number) => { guild: FakeGuild; channel: FakeChannel };
  } = {},
): VideoInteraction[] {
  return Array.from({ length: count }, (_, index) => {
    const place = options.placeOf?.(index);
    return discord.slashCommand({
      name: 'video',
      member: discord.member({ username: `bench-${tag}-${index}`, guild: place?.guild }),
      channel: place?.channel,
      options: videoOptions({ prompt: promptFor(tag, index) }),
      attachments: [{ filename: 'start.png', contentType: 'image/png', bytes: PNG_BYTES }],
      attachmentSizeLimit: options.attachmentSizeLimit,
      dispatch: false,
    });
  });
}

export function promptFor(tag: string, index: number): string {
  return `bench ${tag} ${index}: a paper boat drifting down a rainy street`;
}

export function dispatchAll(discord: FakeDiscord, interactions: readonly VideoInteraction[]): void {
  for (const ix of interactions) discord.dispatchInteraction(ix);
}

/**
 * A family A stream (aiclound wording): echo, queue, then `steps` progress lines `everyMs` apart,
 * then the link. Returns the scenario and when (ms after the stream starts) each percent is sent.
 */
export function pacedProgressStream(options: { steps: number[]; everyMs: number; videoUrl: string }): {
  scenario: EventsScenario;
  sentAtMs: number[];
} {
  const base = progressStream({ steps: options.steps, videoUrl: options.videoUrl }).events;
  // base: role, echo, queued, …steps, done, stop, [DONE]
  const head = base.slice(0, 3);
  const progress = base.slice(3, 3 + options.steps.length);
  const tail = base.slice(3 + options.steps.length);
  const events: StreamStep[] = [...head];
  const sentAtMs: number[] = [];
  progress.forEach((step, index) => {
    if (index > 0) events.push({ delayMs: options.everyMs });
    sentAtMs.push(index * options.everyMs);
    events.push(step);
  });
  events.push({ delayMs: options.everyMs }, ...tail);
  return { scenario: { events }, sentAtMs };
}

/** Evenly spaced percentages for `count` progress events, ending below 100. */
export function evenSteps(count: number): number[] {
  return Array.from({ length: count }, (_, index) => Math.round(((index + 1) * 99) / count));
}

/** What the fake Discord saw of one interaction. */
export interface InteractionTimeline {
  callbackAt?: number;
  /** Arrival of the request that put the video into the reply. */
  deliveredAt?: number;
  /** When the fake had answered that request. */
  deliveredDoneAt?: number;
  /** Successful edits of `@original` (progress and final), in arrival order. */
  edits: { at: number; percent: number | undefined }[];
  editRequests: number;
  rateLimited: number;
}

const SHOWN_PERCENT = /\*\*(\d+)%\*\*/;

/**
 * Reads the fake's request log incrementally (each request once), by interaction: the defer, every
 * edit of `@original` and the percentage it shows, the upload, and the 429s.
 */
export class InteractionLog {
  readonly byInteraction = new Map<string, InteractionTimeline>();
  answered = 0;
  delivered = 0;
  editRequests = 0;
  rateLimited = 0;
  private scanned = 0;

  constructor(private readonly discord: FakeDiscord) {
    this.scanned = discord.requests.length;
  }

  update(): void {
    const requests = this.discord.requests;
    for (; this.scanned < requests.length; this.scanned++) {
      this.take(requests[this.scanned] as RequestRecord);
    }
  }

  timeline(ix: FakeInteraction): InteractionTimeline {
    return this.byInteraction.get(ix.id) ?? { edits: [], editRequests: 0, rateLimited: 0 };
  }

  /** Polls until `count` videos were delivered since this log was made. */
  waitForDeliveries(count: number, timeoutMs: number): Promise<void> {
    return this.waitFor(() => this.delivered, count, 'videos delivered', timeoutMs);
  }

  /** Polls until `count` interactions were deferred (or answered) since this log was made. */
  waitForAnswers(count: number, timeoutMs: number): Promise<void> {
    return this.waitFor(() => this.answered, count, 'interactions answered', timeoutMs);
  }

  private async waitFor(
    counter: () => number,
    count: number,
    what: string,
    timeoutMs: number,
  ): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      this.update();
      if (counter() >= count) return;
      if (Date.now() > deadline)
        throw new Error(`bench: only ${counter()} of ${count} ${what} after ${timeoutMs} ms`);
      await sleep(50);
    }
  }

  private take(request: RequestRecord): void {
    const id = request.interactionId;
    if (!id) return;
    let timeline = this.byInteraction.get(id);
    if (!timeline) {
      timeline = { edits: [], editRequests: 0, rateLimited: 0 };
      this.byInteraction.set(id, timeline);
    }
    if (request.route.endsWith('/callback')) {
      if (request.status < 300 && timeline.callbackAt === undefined) {
        timeline.callbackAt = request.at;
        this.answered += 1;
      }
      return;
    }
    if (!request.route.endsWith('/messages/@original') || request.method !== 'PATCH') return;
    timeline.editRequests += 1;
    this.editRequests += 1;
    if (request.status === 429) {
      timeline.rateLimited += 1;
      this.rateLimited += 1;
      return;
    }
    if (request.status >= 300) return;
    const content = (request.body as { content?: string } | undefined)?.content ?? '';
    const percent = SHOWN_PERCENT.exec(content)?.[1];
    timeline.edits.push({ at: request.at, percent: percent === undefined ? undefined : Number(percent) });
    if (request.files.length > 0 && timeline.deliveredAt === undefined) {
      timeline.deliveredAt = request.at;
      timeline.deliveredDoneAt = request.at + request.durationMs;
      this.delivered += 1;
    }
  }
}
