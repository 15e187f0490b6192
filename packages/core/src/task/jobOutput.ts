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
