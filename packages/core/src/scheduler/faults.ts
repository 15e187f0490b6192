// What the scheduler says when a job meets a fault it cannot get past (its
// directory removed, the disk full, a file it cannot write): the job ends with
// a reason, and the user reads one line per cause, never a stack trace (those
// go to the debug channel). A cause shared by many jobs (the workspace removed,
// the disk full) is said once, naming the workspace.
import type { Job } from '../job/job.ts';
import type { Logger } from '../logger.ts';
import type { Connector, FailureInfo } from '../types.ts';

export class FaultLog {
  readonly #logger: Logger;
  readonly #connector: Connector;
  readonly #workspacePath: string;
  /** Causes already told to the user. */
  readonly #told = new Set<'workspace removed' | 'disk full'>();

  constructor(options: { logger: Logger; connector: Connector; workspacePath: string }) {
    this.#logger = options.logger;
    this.#connector = options.connector;
    this.#workspacePath = options.workspacePath;
  }

  /** The failure of a job whose directory was removed during the run, told once per job or once for the workspace. */
  async directoryRemoved(job: Job): Promise<FailureInfo> {
    const failure: FailureInfo = { code: null, reason: 'lost', message: `its directory was removed during the run (${job.directory})` };
    if (await this.#exists(this.#workspacePath)) {
      this.#logger.warn(`job ${job.shortName} is lost: its directory was removed during the run (${job.directory})`);
    } else {
      this.#tellOnce('workspace removed', `the workspace ${this.#workspacePath} was removed during the run: its jobs are lost`);
      this.#logger.debug(`job ${job.shortName} is lost with the workspace`);
    }
    return failure;
  }

  /**
   * The failure of a job that could not be run or followed because of `error`.
   * `doing` says what Baton was doing ("could not prepare the job"); `tell`
   * logs it (otherwise the job's failure says it, and the CLI shows that).
   */
  jobFault(job: Job, error: unknown, options: { doing: string; reason?: FailureInfo['reason']; tell?: boolean }): FailureInfo {
    const { doing, reason = 'failed', tell = false } = options;
    this.#logger.debug(`job ${job.shortName}: ${doing}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    if (isDiskFull(error)) {
      this.#tellOnce('disk full', DISK_FULL(this.#workspacePath));
      return { code: null, reason, message: `${doing}: no space left on device (ENOSPC) in workspace ${this.#workspacePath}` };
    }
    const message = `${doing}: ${errorMessage(error)}`;
    if (tell) this.#logger.error(`job ${job.shortName}: ${message}`);
    return { code: null, reason, message };
  }

  /** A fault outside any one job (a promise the scheduler tracks): one line, the stack at debug. */
  async internal(error: unknown): Promise<void> {
    this.#logger.debug(`scheduler: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    if (isDiskFull(error)) {
      this.#tellOnce('disk full', DISK_FULL(this.#workspacePath));
    } else if (!(await this.#exists(this.#workspacePath))) {
      this.#tellOnce('workspace removed', `the workspace ${this.#workspacePath} was removed during the run: its jobs are lost`);
    } else {
      this.#logger.error(`scheduler: ${errorMessage(error)}`);
    }
  }

  #tellOnce(cause: 'workspace removed' | 'disk full', line: string): void {
    if (this.#told.has(cause)) return;
    this.#told.add(cause);
    this.#logger.error(line);
  }

  async #exists(path: string): Promise<boolean> {
    return this.#connector.exists(path).catch(() => false);
  }
}

const DISK_FULL = (workspacePath: string) =>
  `no space left on device (ENOSPC) in workspace ${workspacePath}: jobs that need to write their files there fail until space is freed`;

export function isDiskFull(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ENOSPC' || /\bENOSPC\b/.test(errorMessage(error));
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
