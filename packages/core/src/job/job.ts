// A job: one task with one set of parameters, identified by their hash.
import type { Task } from '../task/defineTask.ts';
import { JobOutput, type JobReference } from '../task/jobOutput.ts';
import type { FailureInfo, JobState, LaunchHandle, Requirements } from '../types.ts';

export interface JobInit {
  task: Task;
  hash: string;
  directory: string;
  resolved: Record<string, unknown>;
  identity: Record<string, unknown>;
  /** Parameters declared outside the identity (option()), at their place. */
  options?: Record<string, unknown>;
  dependencies: JobReference[];
  env: Record<string, string>;
  tokens: Record<string, number>;
  launcher?: string;
  requirements: readonly Requirements[];
}

export class Job implements JobReference {
  readonly task: Task;
  readonly taskId: string;
  readonly hash: string;
  readonly directory: string;
  /** Parameters the job runs with. */
  readonly params: Record<string, unknown>;
  /** Parameters as they enter the identity. */
  readonly identityParams: Record<string, unknown>;
  /** Parameters declared outside the identity (also in `params`). */
  readonly options: Record<string, unknown>;
  readonly dependencies: readonly JobReference[];
  readonly env: Record<string, string>;
  readonly tokens: Record<string, number>;
  readonly requirements: readonly Requirements[];
  /** Launcher asked for (by name); the scheduler picks one when undefined. */
  readonly launcherName?: string;

  state: JobState = 'waiting';
  failure?: FailureInfo;
  handle?: LaunchHandle;
  /** Launcher status detail, e.g. a SLURM pending reason. */
  detail?: string;

  /** Whether the job settled (markSettled): wait() then resolves at once. */
  #isSettled = false;
  /** Made at the first wait() before the job settles: most jobs are never waited for one by one. */
  #settled?: { promise: Promise<Job>; resolve: (job: Job) => void };

  constructor(init: JobInit) {
    this.task = init.task;
    this.taskId = init.task.id;
    this.hash = init.hash;
    this.directory = init.directory;
    this.params = init.resolved;
    this.identityParams = init.identity;
    this.options = init.options ?? {};
    this.dependencies = init.dependencies;
    this.env = init.env;
    this.tokens = init.tokens;
    this.requirements = init.requirements;
    this.launcherName = init.launcher;
  }

  /**
   * A command task's argv for the job directory as its host sees it (computed
   * once per directory: submit checks it, the job files reuse it).
   */
  commandArgv(directory: string): readonly string[] | undefined {
    const command = this.task.command;
    if (!command) return undefined;
    if (this.#argv?.directory !== directory) this.#argv = { directory, argv: Object.freeze([...command(this.params as never, { directory })]) };
    return this.#argv.argv;
  }

  #argv?: { directory: string; argv: readonly string[] };

  /** The job directory as an output: passing it to another task makes that task depend on this job. */
  get output(): JobOutput {
    return new JobOutput(this);
  }

  /** A file in the job directory as an output (a dependency when passed as a parameter). */
  path(relativePath: string): JobOutput {
    return new JobOutput(this, relativePath);
  }

  /** Short name for display: `task-id/0123456789ab`. */
  get shortName(): string {
    return `${this.taskId}/${this.hash.slice(0, 12)}`;
  }

  get isFinished(): boolean {
    return this.state === 'done' || this.state === 'failed';
  }

  /**
   * Resolves when the job is done or failed, or when the experiment stopped
   * without seeing it through (then `state` says where it stayed: waiting or
   * ready, not started; queued or running, left to the next run). Never rejects.
   */
  wait(): Promise<Job> {
    if (this.#isSettled) return Promise.resolve(this);
    if (!this.#settled) {
      let resolve!: (job: Job) => void;
      const promise = new Promise<Job>((settle) => (resolve = settle));
      this.#settled = { promise, resolve };
    }
    return this.#settled.promise;
  }

  /** @internal called by the scheduler */
  markSettled(): void {
    this.#isSettled = true;
    this.#settled?.resolve(this);
  }
}
