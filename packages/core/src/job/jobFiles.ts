// Names of the files in a job directory: the on-disk contract every process reads.
import { join } from 'node:path';

export const JOB_FILES = {
  params: 'params.json',
  script: 'job.sh',
  stdout: 'stdout',
  stderr: 'stderr',
  process: 'process.json',
  done: 'done',
  failed: 'failed',
  /** Peak memory of the job's command in bytes, left by a command that knows it (the function task runner); job.sh folds it into the marker. */
  peakRss: 'peak_rss',
  /** Why a function task failed (the first line of what it threw, as a JSON string), left by its runner; job.sh puts it in the failed marker. */
  failureMessage: 'failure_message',
  /** Lock taken while a process claims the job (decides to run or re-attach it). */
  claimLock: 'claim',
} as const;

/** A name that join() would keep as it is: no `.`, `..`, slash or empty part. */
const PLAIN_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** The last workspace's jobs folder, normalized once (jobs are submitted to one workspace at a time). */
let lastJobsFolder: { workspacePath: string; jobsFolder: string } | undefined;

/** `<workspace>/jobs/<task-id>/<hash>` */
export function jobDirectory(workspacePath: string, taskId: string, hash: string): string {
  // Called for every job submitted: a task id and a hash are plain names (defineTask checks
  // the id), put after the jobs folder as they are, the path normalized once per workspace.
  // (join() per job made it hot code, which V8 spent ~25 ms of a background thread optimising.)
  if (!PLAIN_NAME.test(taskId) || !PLAIN_NAME.test(hash)) return join(workspacePath, 'jobs', taskId, hash);
  if (lastJobsFolder?.workspacePath !== workspacePath) lastJobsFolder = { workspacePath, jobsFolder: join(workspacePath, 'jobs') };
  return `${lastJobsFolder.jobsFolder}/${taskId}/${hash}`;
}

export function jobFile(directory: string, file: keyof typeof JOB_FILES): string {
  // Called for every look at every job: a job directory is already a normalized path
  // (jobDirectory, or a launcher's resolved one), so no join() to normalize it again.
  return directory.endsWith('/') ? `${directory}${JOB_FILES[file]}` : `${directory}/${JOB_FILES[file]}`;
}
