// `baton jobs kill` of a job that runs in a thread of another process cannot reach
// the thread: it leaves a cancel request in the job's directory (core's
// requestCancel) and waits for the job's marker. The process that runs the job
// looks for such requests while it has jobs, and cancels those the requests name.
import { CANCEL_REQUEST_FILE, readCancelRequest } from '@baton/core';
import type { Connector, LoggerLike } from '@baton/core';

export interface CancelRequestsOptions {
  connector: Connector;
  logger: LoggerLike;
  /** How often to look while jobs are active. */
  intervalMs: number;
  /** This process, as the handles of its jobs name it. */
  ownProcess: () => Promise<{ pid: number; processStart: string | undefined }>;
  /** Directories of the jobs to look in (those not ended nor cancelled yet). */
  directories: () => string[];
  /** Cancels the job of that directory; `by` says who asked, for its marker. */
  cancel: (directory: string, by: string) => Promise<void>;
}

export class CancelRequests {
  readonly #options: CancelRequestsOptions;
  #timer: NodeJS.Timeout | undefined;
  #looking = false;

  constructor(options: CancelRequestsOptions) {
    this.#options = options;
  }

  /** Looks every interval from now on, until no job is left (cheap to call again). */
  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.#look(), this.#options.intervalMs);
    // Never what keeps the process alive: the jobs' own work does.
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async #look(): Promise<void> {
    if (this.#looking) return;
    const directories = this.#options.directories();
    if (directories.length === 0) return this.stop();
    this.#looking = true;
    try {
      const own = await this.#options.ownProcess();
      await Promise.all(
        directories.map(async (directory) => {
          const request = await readCancelRequest(this.#options.connector, directory);
          if (!request) return;
          await this.#options.connector.remove(`${directory}/${CANCEL_REQUEST_FILE}`).catch(() => undefined);
          // A request left for the process that ran the job before (it ended first): not ours.
          if (request.pid !== own.pid || (request.processStart !== undefined && own.processStart !== undefined && request.processStart !== own.processStart)) return;
          this.#options.logger.info(`cancelling job ${directory}: process ${request.by} asked for it (baton jobs kill)`);
          await this.#options.cancel(directory, `on request of process ${request.by}`);
        }),
      );
    } catch (error) {
      // A fault here only delays a kill; the next look tries again.
      this.#options.logger.debug(`could not look for cancel requests: ${(error as Error).message}`);
    } finally {
      this.#looking = false;
    }
  }
}
