import { join } from 'node:path';

/** What a JobOutput needs to know about its job (a Job satisfies it). */
export interface JobReference {
  readonly taskId: string;
  readonly hash: string;
  readonly directory: string;
}

/**
 * A job's output (its directory, or a named file in it) passed as a parameter
 * to another task: it makes the other job depend on this one, and enters that
 * job's identity as this job's hash.
 */
export class JobOutput {
  constructor(
    readonly job: JobReference,
    /** Path inside the job directory; '' for the directory itself. */
    readonly relativePath: string = '',
  ) {}

  /** Absolute path, as the job sees it. */
  get path(): string {
    return this.relativePath ? join(this.job.directory, this.relativePath) : this.job.directory;
  }

  toString(): string {
    return this.path;
  }

  toJSON(): string {
    return this.path;
  }
}

/**
 * The job a value is, when it is a submitted job (what xp.submit returns) rather than one of
 * its outputs: a parameter cannot hold a job, and the message about it says what to pass.
 */
export function submittedJob(value: unknown): JobReference | undefined {
  if (typeof value !== 'object' || value === null || !('output' in value)) return undefined;
  return (value as { output: unknown }).output instanceof JobOutput ? (value as unknown as JobReference) : undefined;
}

/** A job named in messages: `task-id/first 12 characters of its hash`. */
export function shortJobName(job: JobReference): string {
  return `${job.taskId}/${job.hash.slice(0, 12)}`;
}
