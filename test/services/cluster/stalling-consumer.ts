import { JobQueue } from '../../../src/services/cluster/job-queue.ts';

/**
 * A worker process for the "worker died mid-job" test: it takes jobs, announces each on stdout,
 * and never finishes one, so the test can SIGKILL it while the job is running.
 */
const [redisUrl, name, lockDurationMs] = process.argv.slice(2);
if (!redisUrl || !name || !lockDurationMs)
  throw new Error('usage: stalling-consumer <redisUrl> <queue> <lockMs>');

const queue = new JobQueue<{ jobId: string }>({ redisUrl, name });
queue.consume(
  async (payload) => {
    process.stdout.write(`started ${payload.jobId}\n`);
    await new Promise(() => {});
  },
  { concurrency: 1, lockDurationMs: Number(lockDurationMs), stalledIntervalMs: Number(lockDurationMs) },
);
process.stdout.write('consuming\n');
