// What a run comes to: jobs counted by state, the failed ones with their failure, and
// the ones not finished (which stay alive and are re-attached next time, but for jobs
// of a launcher that runs them inside this process).
import { join } from 'node:path';
import type { Job } from '../job/job.ts';
import type { FailureInfo, JobState, Launcher, RunMode } from '../types.ts';

export interface ExperimentSummary {
  counts: Record<JobState, number>;
  failed: { taskId: string; hash: string; directory: string; failure: FailureInfo; stderrPath: string }[];
  /**
   * Jobs not finished: queued or running ones stay alive and are re-attached next time,
   * except those with `outlivesProcess: false` (a launcher that runs jobs inside this
   * process, `threads`): they stop with it and run again on resume.
   */
  active: { taskId: string; hash: string; directory: string; state: JobState; launcher?: string; outlivesProcess?: false }[];
  elapsedMs: number;
  /**
   * Done jobs this process neither launched nor followed: found done on disk (by an
   * earlier run, or another experiment that ran them meanwhile). None of them ran again.
   */
  alreadyDone: number;
}

export function summarizeJobs(options: {
  jobs: Iterable<Job>;
  launchers: ReadonlyMap<string, Launcher>;
  runMode: RunMode;
  startedAt: number;
}): ExperimentSummary {
  const counts: Record<JobState, number> = { waiting: 0, ready: 0, queued: 0, running: 0, done: 0, failed: 0 };
  const failed: ExperimentSummary['failed'] = [];
  const active: ExperimentSummary['active'] = [];
  let alreadyDone = 0;
  for (const job of options.jobs) {
    counts[job.state]++;
    // A job launched or re-attached here has its handle; one found done never had one.
    if (job.state === 'done' && job.handle === undefined) alreadyDone++;
    if (job.state === 'failed') {
      failed.push({
        taskId: job.taskId,
        hash: job.hash,
        directory: job.directory,
        failure: job.failure ?? { code: null, reason: 'failed', message: 'failed' },
        stderrPath: join(job.directory, 'stderr'),
      });
    } else if (job.state !== 'done' && !(options.runMode !== 'normal' && job.state === 'ready')) {
      const launcher = job.handle ? options.launchers.get(job.handle.launcher) : undefined;
      active.push({
        taskId: job.taskId,
        hash: job.hash,
        directory: job.directory,
        state: job.state,
        launcher: job.handle?.launcher,
        ...(launcher?.jobsOutliveProcess === false ? { outlivesProcess: false as const } : {}),
      });
    }
  }
  return { counts, failed, active, elapsedMs: Date.now() - options.startedAt, alreadyDone };
}
