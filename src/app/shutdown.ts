import type { Config } from '../config.ts';
import type { JobSweep } from '../services/jobs/job-sweep.ts';
import type { Logger } from '../services/logging/logger.ts';
import type { Cluster } from './cluster.ts';
import type { DiscordConnection } from './discord-rest.ts';
import type { FrontDoors } from './front-doors.ts';
import type { JobsHalf } from './jobs-half.ts';
import type { OperatorView } from './operator-view.ts';
import type { Services } from './services.ts';

interface RunningParts {
  discord: DiscordConnection;
  services: Services;
  cluster?: Cluster;
  jobsHalf: JobsHalf;
  frontDoors: FrontDoors;
  sweep: JobSweep;
  operatorView: OperatorView;
  logger: Logger;
}

/**
 * The stop, in its order: no new jobs, running ones get their grace, then what they hold is
 * settled and written, and only then each connection is let go, the store last.
 */
export function shutdownSequence(config: Config, parts: RunningParts) {
  const { discord, services, cluster, jobsHalf, frontDoors, sweep, operatorView, logger } = parts;
  const finishJobs = async (graceMs: number) => {
    frontDoors.intake?.close();
    frontDoors.queuedJobs?.close();
    jobsHalf.queueWorker?.stop();
    // The worker stops taking jobs while the runner gives its own `graceMs` to finish.
    await Promise.all([
      cluster?.queue.close({ abortAfterMs: graceMs + config.STORE_TIMEOUT_MS }),
      jobsHalf.runner?.shutdown(graceMs),
    ]);
  };
  const stop = async () => {
    operatorView.setReady(false);
    await finishJobs(config.SHUTDOWN_GRACE_MS);
    await services.charges.drain(config.STORE_TIMEOUT_MS);
    await services.records.flush(config.STORE_TIMEOUT_MS);
    services.records.close();
    await sweep.stop();
    await frontDoors.endpoint?.close();
    await discord.client?.destroy();
    await jobsHalf.downloader?.close();
    await services.providers.close();
    await cluster?.cancelBus.close();
    await discord.restLimit?.close();
    await operatorView.close();
    await services.store.close();
    logger.info('bot_stopped');
  };
  return { finishJobs, stop };
}
