// A minimal launcher: it runs each job's job.sh as a detached process on the host of
// its connector, like the built-in `local` launcher, and tags the job directory.
// Everything it does on the host goes through the connector (no child_process, no
// fs), so the same code runs jobs over SSH when it is handed an SSH connector.
import { JOB_FILES } from '@baton/core';
import type { Connector, HostDescription, LaunchHandle, LaunchRequest, LaunchStatus, Launcher, LoggerLike, SubmitOutcome } from '@baton/core';

export interface EchoLauncherOptions {
  /** Name the launcher is declared under in the settings. */
  name: string;
  connector: Connector;
  logger: LoggerLike;
  /** Written into every job directory, in the file `launched-by`. */
  tag: string;
  maxConcurrent: number;
  /** What the host offers a job; a capacity left out is unknown and fits any requirement. */
  host?: HostDescription;
  pollIntervalMs?: number;
}

/** File of the job directory that says which launcher started the job. */
export const TAG_FILE = 'launched-by';

/** How long after its start a job's process is recognised by its pid alone. */
const JUST_STARTED_MS = 5000;

export class EchoLauncher implements Launcher {
  readonly kind = 'echo-local';
  readonly name: string;
  readonly connector: Connector;
  readonly host: HostDescription;
  readonly maxConcurrent: number;
  readonly pollIntervalMs: number;
  readonly #tag: string;
  readonly #logger: LoggerLike;
  readonly #listeners = new Set<() => void>();

  constructor(options: EchoLauncherOptions) {
    this.name = options.name;
    this.connector = options.connector;
    this.#logger = options.logger;
    this.#tag = options.tag;
    this.maxConcurrent = options.maxConcurrent;
    this.host = options.host ?? {};
    this.pollIntervalMs = options.pollIntervalMs ?? 1000;
  }

  /** One outcome per request, in order; a job that cannot start is a failure, not an exception. */
  submit(requests: readonly LaunchRequest[]): Promise<SubmitOutcome[]> {
    return Promise.all(requests.map((request) => this.#submitOne(request)));
  }

  async #submitOne(request: LaunchRequest): Promise<SubmitOutcome> {
    try {
      await this.connector.writeFile(`${request.directory}/${TAG_FILE}`, `launched-by: ${this.#tag}\n`);
      // job.sh leads a process group of its own and outlives this process.
      const { pid, exited } = await this.connector.spawnDetached(['/bin/sh', request.scriptPath], {
        cwd: request.directory,
        stdoutPath: `${request.directory}/${JOB_FILES.stdout}`,
        stderrPath: `${request.directory}/${JOB_FILES.stderr}`,
      });
      void exited?.then(() => this.#notify());
      this.#logger.debug(`[${this.#tag}] started ${request.name} as pid ${pid}`);
      // Written to process.json by the scheduler: enough for a later process to re-attach.
      const handle: LaunchHandle = {
        launcher: this.name,
        kind: this.kind,
        host: this.connector.hostname,
        directory: request.directory,
        pid,
        submittedAt: new Date().toISOString(),
      };
      return { handle, state: 'running' };
    } catch (error) {
      return { failure: { code: null, reason: 'rejected', message: `${this.kind} could not start ${request.name}: ${(error as Error).message}` } };
    }
  }

  /**
   * One status per handle, in order. `finished` only means "the process is gone":
   * job.sh wrote the done or failed marker itself, and the scheduler reads it.
   */
  status(handles: readonly LaunchHandle[]): Promise<LaunchStatus[]> {
    return Promise.all(handles.map((handle) => this.#statusOne(handle)));
  }

  async #statusOne(handle: LaunchHandle): Promise<LaunchStatus> {
    // A pid means nothing on another host: let the markers speak.
    if (handle.host !== this.connector.hostname || handle.pid === undefined) return { state: 'unknown' };
    return { state: (await this.#isAlive(handle)) ? 'running' : 'finished' };
  }

  async #isAlive(handle: LaunchHandle): Promise<boolean> {
    if (handle.pid === undefined) return false;
    // The job directory is in job.sh's command line: a reused pid does not pass for the job.
    if (await this.connector.isProcessAlive(handle.pid, handle.directory)) return true;
    // Right after the start the process may not have exec'd job.sh yet: for a moment,
    // a pid that exists is the job (no pid is reused that fast).
    const justStarted = Date.now() - Date.parse(handle.submittedAt) < JUST_STARTED_MS;
    return justStarted && (await this.connector.isProcessAlive(handle.pid));
  }

  /** SIGTERM to each job's process group: job.sh traps it and writes `failed` (reason: cancelled). */
  async cancel(handles: readonly LaunchHandle[]): Promise<void> {
    for (const handle of handles) {
      if (handle.pid === undefined || handle.host !== this.connector.hostname) continue;
      if (await this.#isAlive(handle)) await this.connector.killProcessGroup(handle.pid, 'SIGTERM');
    }
  }

  /** Lets the scheduler poll as soon as a job ends instead of at the next interval. */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #notify(): void {
    for (const listener of this.#listeners) {
      try {
        listener();
      } catch (error) {
        this.#logger.warn(`an onChange listener of launcher ${this.name} threw: ${(error as Error).message}`);
      }
    }
  }
}
