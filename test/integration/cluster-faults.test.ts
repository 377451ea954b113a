import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { APIMessage } from 'discord-api-types/v10';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type FakeChannel,
  type FakeDiscord,
  type FakeInteraction,
  type FakeMember,
  snowflake,
  startFakeDiscord,
} from '../fakes/fake-discord/fake-discord.ts';
import { type FakeVideoService, progressStream, startFakeVideoService } from '../fakes/fake-video-service.ts';
import { type FakeVideosApi, startFakeVideosApi } from '../fakes/fake-videos-api.ts';
import {
  type BotProcess,
  killBotProcesses,
  spawnBotProcess,
  startBotProcess,
} from '../harness/bot-process.ts';
import {
  buttonsOf,
  customIdOf,
  hasVideoFile,
  jobIdOf,
  type LogEntry,
  labelsOf,
  parseLogs,
  usageOf,
  waitForLog,
} from '../harness/fault-kit.ts';
import { type RedisServer, startRedisServer } from '../harness/redis-server.ts';
import { TEST_API_KEY, videoOptions } from '../harness/test-bot.ts';

/**
 * Several bot processes on one Redis, as the scale-out runs them: two gateways (BOT_ROLE=gateway,
 * SHARD_COUNT=2, one shard each) that admit requests and queue them, and two workers
 * (BOT_ROLE=worker) that take them from the queue and run them over REST alone, all real child
 * processes against a real redis-server, the fake Discord (two shards: `discord.guild` on shard 0,
 * `discord.otherGuild` on shard 1) and a fake video service. Processes are killed with SIGKILL, as
 * a crash or a lost machine would end them. Every test looks at what a member would notice: the
 * reply Discord shows, the buttons on it, what the service was asked for, and `/usage`.
 *
 * Each worker runs one job at a time (WORKER_CONCURRENCY=1), so with two jobs running each worker
 * has one, and which one is read from the workers' `job_taken` lines.
 */

const READY = 'Your video is ready';
const isFinal = (message: APIMessage) =>
  [READY, 'could not be made', '**Cancelled**', '**Interrupted**'].some((text) =>
    message.content.includes(text),
  );
const showsProgress = (message: APIMessage) => /\d+%/.test(message.content);
/** A stream that takes a few seconds, so a fault can strike while it runs. */
const slowStream = (chunkDelayMs: number) => ({
  ...progressStream({ steps: [10, 30, 50, 70, 90] }),
  chunkDelayMs,
});
/** A stream that reports 10 % and then sends nothing more, keeping the connection open. */
const stalledStream = () => ({ ...progressStream({ steps: [10] }), stallAfterFrames: 4 });

const LEASE_MS = '2000';

/** The settings every process of a cluster shares: one Redis, short lease, scaled-down timeouts. */
function clusterEnv(options: {
  discord: FakeDiscord;
  redis: RedisServer;
  dataDir: string;
  serviceUrl: string;
  extra?: Record<string, string>;
}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    DISCORD_TOKEN: options.discord.botToken,
    DISCORD_API_URL: options.discord.apiUrl,
    SORA_API_KEY: TEST_API_KEY,
    SORA_API_URL: options.serviceUrl,
    DATA_DIR: options.dataDir,
    REDIS_URL: options.redis.url,
    ALLOW_PRIVATE_VIDEO_URLS: 'true',
    PROGRESS_EDIT_INTERVAL_MS: '250',
    SERVICE_RETRY_DELAY_MS: '10',
    SHUTDOWN_GRACE_MS: '200',
    STORE_TIMEOUT_MS: '500',
    PROCESS_LEASE_MS: LEASE_MS,
    VIDEO_UPLOAD_TIMEOUT_MS: '3000',
    WORKER_CONCURRENCY: '1',
    // One video a day for every member: each test uses members of its own.
    DEFAULT_MEMBER_LIMIT: '1',
    DEFAULT_MAX_RUNNING_PER_MEMBER: '0',
    // Info is enough for every line these tests read, and keeps the logs they poll short.
    LOG_LEVEL: 'info',
    ...options.extra,
  };
}

/** The first log line matching `predicate` in any of `bots`, with the process that wrote it. */
async function logIn(
  bots: readonly BotProcess[],
  predicate: (entry: LogEntry) => boolean,
  what: string,
  timeoutMs = 20_000,
): Promise<{ bot: BotProcess; entry: LogEntry }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const bot of bots) {
      const entry = parseLogs(bot.lines).find(predicate);
      if (entry) return { bot, entry };
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const eventsOf = (bots: readonly BotProcess[], event: string, jobId?: string) =>
  bots.flatMap((bot) =>
    parseLogs(bot.lines).filter((entry) => entry.event === event && (!jobId || entry.jobId === jobId)),
  );

function askVideo(
  discord: FakeDiscord,
  member: FakeMember,
  channel: FakeChannel,
  prompt: string,
): FakeInteraction {
  return discord.slashCommand({ name: 'video', member, channel, options: videoOptions({ prompt }) });
}

/** The private answer of a refused request (its public "thinking…" reply is removed). */
function refusalOf(discord: FakeDiscord, ix: FakeInteraction, timeoutMs = 20_000): Promise<APIMessage> {
  return discord.waitForMessage(
    (message, record) => record.ephemeral && ix.followupIds.includes(message.id),
    {
      timeoutMs,
    },
  );
}

const alive = (bot: BotProcess | undefined): bot is BotProcess =>
  bot !== undefined && bot.child.exitCode === null && bot.child.signalCode === null;

describe('several processes on one Redis: two gateways (a shard each), two workers', () => {
  let redis: RedisServer;
  let discord: FakeDiscord;
  let service: FakeVideoService;
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  const gateways: Array<BotProcess | undefined> = [undefined, undefined];
  const workers: Array<BotProcess | undefined> = [undefined, undefined];
  const liveGateways = () => gateways.filter(alive);
  const liveWorkers = () => workers.filter(alive);
  const startGateway = (shard: number) =>
    startBotProcess(
      discord,
      { ...env, BOT_ROLE: 'gateway', SHARD_COUNT: '2', SHARD_IDS: String(shard) },
      { shard },
    ).then((bot) => {
      gateways[shard] = bot;
    });
  const startWorker = (index: number) =>
    startBotProcess(discord, { ...env, BOT_ROLE: 'worker' }, { gateway: false }).then((bot) => {
      workers[index] = bot;
    });
  /** The worker whose `job_taken` line names the job. */
  const workerThatTook = async (jobId: string) =>
    (
      await logIn(
        liveWorkers(),
        (entry) => entry.event === 'job_taken' && entry.jobId === jobId,
        `job_taken of ${jobId}`,
      )
    ).bot;
  const memberIn = (guild: 'guild' | 'otherGuild', username: string, id?: string) =>
    discord.member({ username, id, guild: discord[guild] });
  const channelOf = (guild: 'guild' | 'otherGuild') =>
    guild === 'guild' ? discord.channel : discord.otherGuildChannel;

  beforeAll(async () => {
    redis = await startRedisServer();
    discord = await startFakeDiscord({ shardCount: 2, maxConcurrency: 2 });
    service = await startFakeVideoService();
    dataDir = await mkdtemp(path.join(tmpdir(), 'sora-bot-cluster-faults-'));
    env = clusterEnv({ discord, redis, dataDir, serviceUrl: service.apiUrl });
  }, 30_000);
  afterAll(async () => {
    await killBotProcesses();
    await discord?.close();
    await service?.close();
    await redis?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });
  // The whole cluster at the start of every test: a test that killed a process leaves it dead.
  beforeEach(async () => {
    service.reset();
    discord.clearFaults();
    await Promise.all([
      ...gateways.map((bot, shard) => (alive(bot) ? undefined : startGateway(shard))),
      ...workers.map((bot, index) => (alive(bot) ? undefined : startWorker(index))),
    ]);
  }, 60_000);

  it('a /video in each guild (one per shard) is delivered; the jobs ran on the workers, the gateways only queued them', async () => {
    const alice = memberIn('guild', 'alice-cluster');
    const bob = memberIn('otherGuild', 'bob-cluster');
    const asks = [
      askVideo(discord, alice, discord.channel, 'a lantern on shard 0'),
      askVideo(discord, bob, discord.otherGuildChannel, 'a lantern on shard 1'),
    ];
    const finals = await Promise.all(
      asks.map((ix) => discord.waitForOriginal(ix, isFinal, { timeoutMs: 20_000 })),
    );
    const gatewayBots = liveGateways();
    const workerBots = liveWorkers();
    for (const [shard, final] of finals.entries()) {
      expect(final.content).toContain(READY);
      expect(hasVideoFile(final)).toBe(true);
      const jobId = jobIdOf(final);
      // Queued by the gateway of the guild's shard, and by no other process.
      expect(eventsOf([gateways[shard] as BotProcess], 'job_enqueued', jobId)).toHaveLength(1);
      expect(eventsOf([...workerBots, gateways[1 - shard] as BotProcess], 'job_enqueued', jobId)).toEqual([]);
      // Taken, run and finished by one worker.
      const { bot: runner, entry } = await logIn(
        workerBots,
        (line) => line.event === 'job_finished' && line.jobId === jobId,
        `job_finished of ${jobId}`,
      );
      expect(entry.state).toBe('delivered');
      expect(entry.role).toBe('worker');
      expect(eventsOf([runner], 'job_taken', jobId)).toHaveLength(1);
      expect(eventsOf(workerBots, 'job_taken', jobId)).toHaveLength(1);
    }
    // A gateway runs no job at all.
    for (const event of ['job_taken', 'job_submitted', 'job_state', 'job_finished']) {
      expect(eventsOf(gatewayBots, event)).toEqual([]);
    }
    expect(service.requests).toHaveLength(2);
    expect(await usageOf(discord, alice, discord.channel)).toEqual({ used: 1, running: 0 });
    expect(await usageOf(discord, bob, discord.otherGuildChannel)).toEqual({ used: 1, running: 0 });
  });

  it('Cancel pressed on the gateway of the shard for a job running on a worker: Cancelled, the service stream cut, nothing used', async () => {
    const carol = memberIn('guild', 'carol-cluster');
    const served = service.enqueue(stalledStream());
    const ix = askVideo(discord, carol, discord.channel, 'a slow tide');
    const running = await discord.waitForOriginal(
      ix,
      (message) => showsProgress(message) && labelsOf(message).includes('Cancel'),
    );
    const jobId = jobIdOf(running);
    const worker = await workerThatTook(jobId);
    const request = await served;

    discord.clickButton({ message: running, member: carol, customId: customIdOf(running, 'Cancel') });
    const done = await discord.waitForOriginal(ix, (message) => message.content.includes('**Cancelled**'));
    expect(buttonsOf(done)).toHaveLength(0);
    expect(await request.ended).toBe('client-disconnected');
    const finished = await waitForLog(
      worker.lines,
      (entry) => entry.event === 'job_finished' && entry.jobId === jobId,
      { what: `job_finished of ${jobId}` },
    );
    expect(finished.state).toBe('cancelled');
    // The press reached the gateway of the guild's shard, which passed it on to the worker.
    expect(eventsOf([gateways[0] as BotProcess], 'job_cancel_requested', jobId)).toMatchObject([
      { while: 'running elsewhere' },
    ]);
    expect(eventsOf([gateways[1] as BotProcess], 'job_cancel_requested', jobId)).toEqual([]);
    expect(service.requests).toHaveLength(1);
    expect(await usageOf(discord, carol, discord.channel)).toEqual({ used: 0, running: 0 });
  });

  /*
   * "One member, one unit, twenty requests at once, split across both gateways": quotas are per
   * server, and every interaction of a server reaches the one gateway that has its shard (the fake
   * Discord, like Discord, gives a shard one session), so one member's last unit in one server is
   * only ever reserved through one gateway. Two processes reserving the very same unit at once is a
   * store property, covered against one Redis by test/services/quotas/quota-service.test.ts ("two
   * stores on one backend, as two bot processes: 20 reservations at once with one unit left admit
   * exactly one"). What only a cluster can show is this: one member (the same user) in a server on
   * each shard, with one video left in each, sends ten requests in each at once; each gateway
   * admits exactly one, neither server's counter leaks into the other, and the workers run exactly
   * the two admitted jobs.
   */
  it('twenty /video at once from one member with one video left in each of two servers, one per gateway: one delivered and nine refused in each, two service requests', async () => {
    const userId = snowflake();
    const here = memberIn('guild', 'dana-cluster', userId);
    const there = memberIn('otherGuild', 'dana-cluster', userId);
    service.defaultScenario = progressStream({ steps: [50] });
    const racing = Array.from({ length: 20 }, (_, index) => {
      const guild = index % 2 === 0 ? 'guild' : 'otherGuild';
      const ix = askVideo(discord, guild === 'guild' ? here : there, channelOf(guild), `race ${index}`);
      return { guild, ix };
    });
    const outcomes = await Promise.all(
      racing.map(async ({ guild, ix }) => ({
        guild,
        outcome: await Promise.race([
          discord.waitForOriginal(ix, hasVideoFile, { timeoutMs: 30_000 }).then(() => 'delivered'),
          refusalOf(discord, ix, 30_000).then((refusal) => {
            expect(refusal.content).toMatch(/1 of 1/);
            return 'refused';
          }),
        ]),
      })),
    );
    for (const guild of ['guild', 'otherGuild']) {
      const inGuild = outcomes.filter((each) => each.guild === guild).map((each) => each.outcome);
      expect(inGuild.filter((outcome) => outcome === 'delivered')).toHaveLength(1);
      expect(inGuild.filter((outcome) => outcome === 'refused')).toHaveLength(9);
    }
    expect(service.requests).toHaveLength(2);
    const queued = eventsOf(liveGateways(), 'job_enqueued').filter((entry) => entry.requesterId === userId);
    expect(queued.map((entry) => entry.guildId).sort()).toEqual(
      [discord.guild.id, discord.otherGuild.id].sort(),
    );
    // The unit is committed just after the video is posted: /usage is read once each job has ended.
    for (const { jobId } of queued) {
      await logIn(
        liveWorkers(),
        (line) => line.event === 'job_finished' && line.jobId === jobId,
        `job_finished of ${jobId}`,
      );
    }
    expect(await usageOf(discord, here, discord.channel)).toEqual({ used: 1, running: 0 });
    expect(await usageOf(discord, there, discord.otherGuildChannel)).toEqual({ used: 1, running: 0 });
  });

  it('a worker killed (SIGKILL) mid-job on the chat relay: its job ends Interrupted with Retry and its video is given back; the other worker delivers its own job untouched', async () => {
    const erin = memberIn('guild', 'erin-cluster');
    const finn = memberIn('otherGuild', 'finn-cluster');
    const lostServed = service.enqueue(stalledStream());
    const lost = askVideo(discord, erin, discord.channel, 'lost with its worker');
    const lostId = jobIdOf(await discord.waitForOriginal(lost, showsProgress));
    const doomed = await workerThatTook(lostId);
    await lostServed;
    // The doomed worker runs one job at a time: the next one goes to the other worker.
    service.enqueue(slowStream(400));
    const kept = askVideo(discord, finn, discord.otherGuildChannel, 'kept by the survivor');
    const keptId = jobIdOf(await discord.waitForOriginal(kept, showsProgress));
    const survivor = await workerThatTook(keptId);
    expect(survivor).not.toBe(doomed);

    doomed.child.kill('SIGKILL');
    expect((await doomed.exited).signal).toBe('SIGKILL');

    const interrupted = await discord.waitForOriginal(lost, isFinal, { timeoutMs: 20_000 });
    expect(interrupted.content).toContain('**Interrupted**');
    expect(labelsOf(interrupted)).toEqual(['Retry']);
    expect(eventsOf([survivor], 'job_taken_over').map((entry) => entry.jobId)).toEqual([lostId]);
    await waitForLog(
      survivor.lines,
      (entry) => entry.event === 'job_recovered_as_interrupted' && entry.jobId === lostId,
      { what: 'job_recovered_as_interrupted' },
    );

    const delivered = await discord.waitForOriginal(kept, isFinal, { timeoutMs: 20_000 });
    expect(delivered.content).toContain(READY);
    expect(hasVideoFile(delivered)).toBe(true);
    const keptFinished = await waitForLog(
      survivor.lines,
      (entry) => entry.event === 'job_finished' && entry.jobId === keptId,
      { what: `job_finished of ${keptId}` },
    );
    expect(keptFinished.state).toBe('delivered');
    // Nothing was asked of the service twice: a chat stream cannot be resumed, only retried by the member.
    expect(service.requests).toHaveLength(2);
    expect(await usageOf(discord, erin, discord.channel)).toEqual({ used: 0, running: 0 });
    expect(await usageOf(discord, finn, discord.otherGuildChannel)).toEqual({ used: 1, running: 0 });
  });

  it('a gateway killed (SIGKILL) with jobs running and queued: every one of them is still delivered, edited by the workers over REST', async () => {
    service.defaultScenario = slowStream(400);
    const members = ['gil', 'hana', 'ivo'].map((name) => memberIn('guild', `${name}-cluster`));
    const asks = members.map((member, index) =>
      askVideo(discord, member, discord.channel, `outlives its gateway ${index}`),
    );
    const gateway = gateways[0] as BotProcess;
    const enqueued = await Promise.all(
      members.map(
        async (member) =>
          (
            await waitForLog(
              gateway.lines,
              (entry) => entry.event === 'job_enqueued' && entry.requesterId === member.user.id,
              { what: `job_enqueued for ${member.user.username}` },
            )
          ).jobId as string,
      ),
    );
    // Two workers, one job each: at least one of the three is still waiting in the queue.
    const takenBeforeKill = eventsOf(liveWorkers(), 'job_taken').filter((entry) =>
      enqueued.includes(entry.jobId as string),
    );
    expect(takenBeforeKill.length).toBeLessThan(3);

    gateway.child.kill('SIGKILL');
    expect((await gateway.exited).signal).toBe('SIGKILL');

    const finals = await Promise.all(
      asks.map((ix) => discord.waitForOriginal(ix, isFinal, { timeoutMs: 30_000 })),
    );
    for (const final of finals) {
      expect(final.content).toContain(READY);
      expect(hasVideoFile(final)).toBe(true);
    }
    expect(finals.map((final) => jobIdOf(final)).sort()).toEqual([...enqueued].sort());
    for (const jobId of enqueued) {
      const { entry } = await logIn(
        liveWorkers(),
        (line) => line.event === 'job_finished' && line.jobId === jobId,
        `job_finished of ${jobId}`,
      );
      expect(entry.state).toBe('delivered');
    }
    expect(service.requests).toHaveLength(3);
    // A new gateway for shard 0 answers the members' /usage: each video counted once.
    await startGateway(0);
    for (const member of members) {
      expect(await usageOf(discord, member, discord.channel)).toEqual({ used: 1, running: 0 });
    }
  });
});

/*
 * The Videos API shape in a cluster of its own: every process of a cluster speaks one service
 * shape (the gateways offer its durations), so this is a second cluster, with one gateway (one
 * shard is enough here) and two workers.
 */
describe('several processes on one Redis, on the Videos API: one gateway, two workers', () => {
  let redis: RedisServer;
  let discord: FakeDiscord;
  let api: FakeVideosApi;
  let dataDir: string;
  let workers: BotProcess[];
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    redis = await startRedisServer();
    discord = await startFakeDiscord();
    api = await startFakeVideosApi({
      apiKey: TEST_API_KEY,
      defaults: { queuedMs: 100, processingMs: 1_500 },
    });
    dataDir = await mkdtemp(path.join(tmpdir(), 'sora-bot-cluster-faults-'));
    env = clusterEnv({
      discord,
      redis,
      dataDir,
      serviceUrl: api.apiUrl,
      extra: { SORA_API_FORMAT: 'videos', SORA_POLL_INTERVAL_MS: '100' },
    });
    const started = await Promise.all([
      startBotProcess(discord, { ...env, BOT_ROLE: 'gateway' }),
      startBotProcess(discord, { ...env, BOT_ROLE: 'worker' }, { gateway: false }),
      startBotProcess(discord, { ...env, BOT_ROLE: 'worker' }, { gateway: false }),
    ]);
    workers = started.slice(1);
  }, 60_000);
  afterAll(async () => {
    await killBotProcesses();
    await discord?.close();
    await api?.close();
    await redis?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('a worker killed (SIGKILL) mid-job on the Videos API: the other worker resumes its job and delivers it into the same message with one create; its own job is delivered too', async () => {
    const jay = discord.member({ username: 'jay-cluster' });
    const kim = discord.member({ username: 'kim-cluster' });
    api.scriptNextJob({ processingMs: 6_000 });
    const lost = askVideo(discord, jay, discord.channel, 'resumed elsewhere');
    const lostProgress = await discord.waitForOriginal(lost, showsProgress, { timeoutMs: 20_000 });
    const lostId = jobIdOf(lostProgress);
    const doomed = (
      await logIn(workers, (entry) => entry.event === 'job_taken' && entry.jobId === lostId, 'job_taken')
    ).bot;
    const survivor = workers.find((worker) => worker !== doomed) as BotProcess;
    const serviceJobId = api.creates[0]?.jobId as string;
    expect(serviceJobId).toBeDefined();
    // The doomed worker runs one job at a time: the next one goes to the other worker.
    const kept = askVideo(discord, kim, discord.channel, 'made by the survivor');
    const keptId = jobIdOf(await discord.waitForOriginal(kept, showsProgress, { timeoutMs: 20_000 }));
    await waitForLog(survivor.lines, (entry) => entry.event === 'job_taken' && entry.jobId === keptId, {
      what: `job_taken of ${keptId} on the survivor`,
    });
    expect(api.stateOf(serviceJobId).state).not.toBe('completed');

    doomed.child.kill('SIGKILL');
    expect((await doomed.exited).signal).toBe('SIGKILL');

    await waitForLog(survivor.lines, (entry) => entry.event === 'job_resumed' && entry.jobId === lostId, {
      what: 'job_resumed',
      timeoutMs: 20_000,
    });
    const [resumed, delivered] = await Promise.all([
      discord.waitForOriginal(lost, isFinal, { timeoutMs: 30_000 }),
      discord.waitForOriginal(kept, isFinal, { timeoutMs: 30_000 }),
    ]);
    expect(resumed.content).toContain(READY);
    expect(hasVideoFile(resumed)).toBe(true);
    expect(jobIdOf(resumed)).toBe(lostId);
    const history = discord.messageHistory(lostProgress.id).map((message) => message.content);
    expect(history.some((content) => content.includes('Interrupted'))).toBe(false);
    expect(delivered.content).toContain(READY);
    expect(hasVideoFile(delivered)).toBe(true);
    for (const jobId of [lostId, keptId]) {
      const finished = await waitForLog(
        survivor.lines,
        (entry) => entry.event === 'job_finished' && entry.jobId === jobId,
        { what: `job_finished of ${jobId}` },
      );
      expect(finished.state).toBe('delivered');
    }
    // One create per member: the lost job was polled again, not made again.
    expect(api.creates.map((create) => create.fields.prompt).sort()).toEqual([
      'made by the survivor',
      'resumed elsewhere',
    ]);
    expect(await usageOf(discord, jay)).toEqual({ used: 1, running: 0 });
    expect(await usageOf(discord, kim)).toEqual({ used: 1, running: 0 });
  });

  it('a worker paused (SIGSTOP) past its lease on the Videos API and then resumed (SIGCONT): the other worker takes the job over and delivers it, the paused one lets it go; one outcome, one upload', async () => {
    const extra = await startBotProcess(discord, { ...env, BOT_ROLE: 'worker' }, { gateway: false });
    const live = [...workers.filter(alive), extra];
    const lee = discord.member({ username: 'lee-cluster' });
    api.scriptNextJob({ processingMs: 4_000 });
    const ix = askVideo(discord, lee, discord.channel, 'paused and resumed');
    const progress = await discord.waitForOriginal(ix, showsProgress, { timeoutMs: 20_000 });
    const jobId = jobIdOf(progress);
    const paused = (
      await logIn(live, (entry) => entry.event === 'job_taken' && entry.jobId === jobId, 'job_taken')
    ).bot;
    const other = live.find((worker) => worker !== paused) as BotProcess;

    paused.child.kill('SIGSTOP');
    await waitForLog(other.lines, (entry) => entry.event === 'job_resumed' && entry.jobId === jobId, {
      what: 'job_resumed on the other worker',
      timeoutMs: 20_000,
    });
    paused.child.kill('SIGCONT');

    const final = await discord.waitForOriginal(ix, isFinal, { timeoutMs: 30_000 });
    expect(final.content).toContain(READY);
    expect(hasVideoFile(final)).toBe(true);
    const finished = await waitForLog(
      other.lines,
      (entry) => entry.event === 'job_finished' && entry.jobId === jobId,
      { what: 'job_finished on the other worker' },
    );
    expect(finished.state).toBe('delivered');
    // The paused worker's own ending of the job, whatever it is: it must be letting it go.
    const { entry: ending } = await logIn(
      [paused],
      (entry) => (entry.event === 'job_let_go' || entry.event === 'job_finished') && entry.jobId === jobId,
      'the paused worker ending the job',
    );
    expect(ending.event).toBe('job_let_go');
    const uploads = discord.requests.filter(
      (request) =>
        request.files.length > 0 &&
        (request.interactionId === ix.id || JSON.stringify(request.body).includes(jobId)),
    );
    expect(uploads).toHaveLength(1);
    const history = discord.messageHistory(progress.id).map((message) => message.content);
    expect(history.some((content) => content.includes('Interrupted'))).toBe(false);
    expect(api.creates.filter((create) => create.fields.prompt === 'paused and resumed')).toHaveLength(1);
    expect(await usageOf(discord, lee)).toEqual({ used: 1, running: 0 });
  });
});

/**
 * MAX_CONCURRENT_JOBS=1 across a cluster of one gateway and three workers on the Videos API: the
 * cap must hold for a job resumed after its worker died as for any other.
 */
describe('MAX_CONCURRENT_JOBS across workers, on the Videos API', () => {
  it('a worker killed (SIGKILL) mid-job with MAX_CONCURRENT_JOBS=1 and a job waiting: the lost job is resumed in its turn, never alongside the waiting one; both delivered', async () => {
    const redis = await startRedisServer();
    const discord = await startFakeDiscord();
    const api = await startFakeVideosApi({
      apiKey: TEST_API_KEY,
      defaults: { queuedMs: 100, processingMs: 1_500 },
    });
    const dataDir = await mkdtemp(path.join(tmpdir(), 'sora-bot-cluster-faults-'));
    try {
      const env = clusterEnv({
        discord,
        redis,
        dataDir,
        serviceUrl: api.apiUrl,
        extra: { SORA_API_FORMAT: 'videos', SORA_POLL_INTERVAL_MS: '100', MAX_CONCURRENT_JOBS: '1' },
      });
      const worker = () => startBotProcess(discord, { ...env, BOT_ROLE: 'worker' }, { gateway: false });
      const [, ...workers] = await Promise.all([
        startBotProcess(discord, { ...env, BOT_ROLE: 'gateway' }),
        worker(),
        worker(),
        worker(),
      ]);
      const ann = discord.member({ username: 'ann-capped' });
      const ben = discord.member({ username: 'ben-capped' });
      api.scriptNextJob({ processingMs: 8_000 });
      const lost = askVideo(discord, ann, discord.channel, 'lost and resumed');
      const lostProgress = await discord.waitForOriginal(lost, showsProgress, { timeoutMs: 20_000 });
      const lostId = jobIdOf(lostProgress);
      const doomed = (
        await logIn(workers, (entry) => entry.event === 'job_taken' && entry.jobId === lostId, 'job_taken')
      ).bot;
      const waiting = askVideo(discord, ben, discord.channel, 'waits its turn');
      await discord.waitForOriginal(waiting, (message) => message.content.includes('in line'));

      doomed.child.kill('SIGKILL');
      await doomed.exited;
      const killedAt = Date.now();

      const [resumed, delivered] = await Promise.all([
        discord.waitForOriginal(lost, isFinal, { timeoutMs: 40_000 }),
        discord.waitForOriginal(waiting, isFinal, { timeoutMs: 40_000 }),
      ]);
      expect(resumed.content).toContain(READY);
      expect(delivered.content).toContain(READY);
      // What each job asked of the service after the kill: never both at once.
      const lostJob = api.creates.find((create) => create.fields.prompt === 'lost and resumed')?.jobId;
      const waitedJob = api.creates.find((create) => create.fields.prompt === 'waits its turn')?.jobId;
      const spanOf = (serviceJobId: string | undefined) => {
        const times = api.requests
          .filter((request) => request.jobId === serviceJobId && request.at > killedAt)
          .map((request) => request.at);
        return { from: Math.min(...times), to: Math.max(...times) };
      };
      const [a, b] = [spanOf(lostJob), spanOf(waitedJob)];
      expect(a.to < b.from || b.to < a.from, `overlap: ${JSON.stringify({ a, b })}`).toBe(true);
      expect(api.creates).toHaveLength(2);
      expect(await usageOf(discord, ann)).toEqual({ used: 1, running: 0 });
      expect(await usageOf(discord, ben)).toEqual({ used: 1, running: 0 });
    } finally {
      await killBotProcesses();
      await discord.close();
      await api.close();
      await redis.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('a role that needs Redis, without it', () => {
  it('BOT_ROLE=gateway without REDIS_URL refuses to start: exit code 1, and one line on stderr says it needs REDIS_URL', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'sora-bot-cluster-faults-'));
    try {
      const bot = spawnBotProcess({
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        DISCORD_TOKEN: 'a-token-for-a-bot-that-never-starts',
        SORA_API_KEY: TEST_API_KEY,
        DATA_DIR: dataDir,
        BOT_ROLE: 'gateway',
      });
      // 'close' comes after the exit and after stderr is read to its end.
      const [code] = await once(bot.child, 'close');
      expect(code).toBe(1);
      const stderr = bot.stderr.join('');
      const problems = stderr.split('\n').filter((line) => line.includes('REDIS_URL'));
      expect(problems).toEqual([expect.stringMatching(/BOT_ROLE=gateway needs REDIS_URL/)]);
      expect(stderr).not.toContain(TEST_API_KEY);
      // It stopped before it started anything: not one log line.
      expect(bot.lines.filter((line) => line.trim() !== '')).toEqual([]);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
