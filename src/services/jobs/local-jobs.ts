import type { JobRequest } from './job.ts';
import type { CancelResult, JobCharge, JobDispatch, JobSurface } from './job-ports.ts';
import type { JobRunner } from './job-runner.ts';

/** The single-process bot: admitted jobs run in this process's own runner. */
export class LocalJobs implements JobDispatch {
  constructor(private readonly runner: JobRunner) {}

  async submit(request: JobRequest, options: { surface: JobSurface; charge?: JobCharge }): Promise<string> {
    return this.runner.submit(request, options).id;
  }

  async requesterIdOf(jobId: string): Promise<string | undefined> {
    return this.runner.requesterIdOf(jobId);
  }

  async cancel(jobId: string, memberId: string): Promise<CancelResult> {
    return this.runner.cancel(jobId, memberId);
  }
}
