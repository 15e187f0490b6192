// Runs jobs as detached processes on this machine. Each job is its own process
// group that outlives the experiment process, so a restarted experiment
// re-attaches to it from its handle (pid + directory) alone.
import { availableParallelism, totalmem } from 'node:os';
import { JOB_FILES } from '@baton/core';
import type {
  Connector,
  HostDescription,
  LaunchHandle,
  LaunchRequest,
  LaunchStatus,
  Launcher,
  LoggerLike,
  SubmitOutcome,
} from '@baton/core';
import { ChangeNotifier } from './changeNotifier.ts';

export interface LocalLauncherOptions {
  /** Name the launcher is declared under in the settings. */
  name: string;
  connector: Connector;
  logger: LoggerLike;
  /** Most jobs at once; the scheduler enforces it. Default: the number of cores. */
  maxConcurrent?: number;
  pollIntervalMs?: number;
  /** Time between SIGTERM and SIGKILL when cancelling. */
  cancelGraceMs?: number;
  /** Launcher kind in handles and messages; default `local` (the SSH pool runs this launcher on a remote host). */
  kind?: string;
  /** What the host offers; default this machine's cores and memory. */
  host?: HostDescription;
}

/** How often cancel checks whether signalled jobs are gone. */
const CANCEL_CHECK_MS = 50;
/** How long cancel waits for a SIGKILLed job to disappear before giving up on it. */
const KILL_WAIT_MS = 5000;

/** How long after its start a job's process is recognised by its pid alone. */
const JUST_STARTED_MS = 5000;
/** A job whose exit notice has not come is still looked at this often: a lost notice must not strand it. */
const VERIFY_WATCHED_MS = 5000;

export class LocalLauncher implements Launcher {
  readonly kind: string;
  readonly name: string;
  readonly connector: Connector;
  readonly host: HostDescription;
  readonly maxConcurrent: number;
  readonly pollIntervalMs: number;
  readonly cancelGraceMs: number;
  private readonly logger: LoggerLike;
  private readonly changes: ChangeNotifier;
  /** Pids of the jobs this launcher started, as long as it has not reported their end. */
  private readonly watched = new Map<string, 'running' | 'finished'>();
  /** When each watched job still running was last looked at. */
  private readonly verifiedAt = new Map<string, number>();

  constructor(options: LocalLauncherOptions) {
    this.name = options.name;
    this.kind = options.kind ?? 'local';
    this.connector = options.connector;
    this.logger = options.logger;
    this.changes = new ChangeNotifier({ launcherName: options.name, logger: options.logger });
    this.maxConcurrent = options.maxConcurrent ?? availableParallelism();
    this.pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.cancelGraceMs = options.cancelGraceMs ?? 3000;
    this.host = options.host ?? { cores: availableParallelism(), memory: totalmem(), gpus: 0 };
  }

  submit(requests: readonly LaunchRequest[]): Promise<SubmitOutcome[]> {
    return Promise.all(requests.map((request) => this.submitOne(request)));
  }

  status(handles: readonly LaunchHandle[]): Promise<LaunchStatus[]> {
    return Promise.all(handles.map((handle) => this.statusOne(handle)));
  }

  async cancel(handles: readonly LaunchHandle[]): Promise<void> {
    // Only processes that still run the job: a reused pid belongs to someone else.
    const alive = await this.alivePids(handles.filter((handle) => this.isOwnHost(handle)));
    if (alive.length === 0) return;
    // job.sh traps SIGTERM and writes its `failed` marker (reason: cancelled).
    await Promise.all(alive.map((pid) => this.connector.killProcessGroup(pid, 'SIGTERM')));
    await this.waitUntilGone(alive, this.cancelGraceMs);
    // Also reaches children left in a group whose leader already exited.
    await Promise.all(alive.map((pid) => this.connector.killProcessGroup(pid, 'SIGKILL')));
    const survivors = await this.waitUntilGone(alive, KILL_WAIT_MS);
    if (survivors.length > 0) {
      this.logger.warn(`jobs still running after SIGKILL (pids ${survivors.join(', ')}); they may be stuck in the kernel`);
    }
  }

  onChange(listener: () => void): () => void {
    return this.changes.subscribe(listener);
  }

  private async submitOne(request: LaunchRequest): Promise<SubmitOutcome> {
    try {
      const { pid, exited } = await this.connector.spawnDetached(['/bin/sh', request.scriptPath], {
        cwd: request.directory,
        // The host's own path syntax: this launcher only runs on POSIX hosts.
        stdoutPath: `${request.directory}/${JOB_FILES.stdout}`,
        stderrPath: `${request.directory}/${JOB_FILES.stderr}`,
      });
      // Processes this launcher started and watches: their status needs no system call.
      if (exited) {
        const key = watchKey(pid, request.directory);
        this.watched.set(key, 'running');
        this.verifiedAt.set(key, Date.now());
        void exited.then((known) => {
          this.verifiedAt.delete(key);
          // Lost track (the spawner died): status falls back to looking at the process.
          if (known) this.watched.set(key, 'finished');
          else this.watched.delete(key);
          // Tell the scheduler at once instead of leaving it to the next poll.
          this.changes.notify();
        });
      }
      this.logger.debug(`started ${request.name} as pid ${pid}`);
      return {
        handle: {
          launcher: this.name,
          kind: this.kind,
          host: this.connector.hostname,
          directory: request.directory,
          pid,
          submittedAt: new Date().toISOString(),
        },
        // The process exists from here on: nothing queues it.
        state: 'running',
      };
    } catch (error) {
      const message = `could not start ${request.name} in ${request.directory}: ${(error as Error).message}`;
      return { failure: { code: null, reason: 'rejected', message } };
    }
  }

  private async statusOne(handle: LaunchHandle): Promise<LaunchStatus> {
    if (!this.isOwnHost(handle)) {
      return { state: 'unknown', detail: `job runs on host ${handle.host}; this launcher runs on ${this.connector.hostname}` };
    }
    if (handle.pid === undefined) return { state: 'unknown', detail: 'the handle has no pid' };
    const key = watchKey(handle.pid, handle.directory);
    const watched = this.watched.get(key);
    if (watched === 'running') {
      // The exit notice is the fast path, not the only one: now and then, the process itself.
      const verifiedAt = this.verifiedAt.get(key) ?? 0;
      if (Date.now() - verifiedAt < VERIFY_WATCHED_MS) return { state: 'running' };
      this.verifiedAt.set(key, Date.now());
      if ((await this.connector.isProcessAlive(handle.pid, handle.directory)) || (await this.commandOutlivesScript(handle))) return { state: 'running' };
      this.logger.debug(`job in ${handle.directory} (pid ${handle.pid}) ended without an exit notice`);
      this.watched.delete(key);
      this.verifiedAt.delete(key);
      return { state: 'finished' };
    }
    if (watched === 'finished') {
      // job.sh ended; its command may not have (only job.sh was killed).
      if (await this.commandOutlivesScript(handle)) return { state: 'running' };
      this.watched.delete(key);
      return { state: 'finished' };
    }
    // `finished`: the scheduler reads the markers job.sh wrote.
    return { state: (await this.jobStillRuns(handle)) ? 'running' : 'finished' };
  }

  /**
   * Whether the process of `handle` still runs the job. The directory is in the command
   * line (`/bin/sh <directory>/job.sh`): guards against pid reuse. Right after the start
   * the process may not have exec'd job.sh yet: a pid that exists counts as the job for a
   * moment (no pid is reused that fast). Status and cancel ask the same question.
   */
  private async jobStillRuns(handle: LaunchHandle): Promise<boolean> {
    if (handle.pid === undefined) return false;
    return (
      (await this.connector.isProcessAlive(handle.pid, handle.directory)) ||
      (Date.now() - Date.parse(handle.submittedAt) < JUST_STARTED_MS && (await this.connector.isProcessAlive(handle.pid))) ||
      (await this.commandOutlivesScript(handle))
    );
  }

  /**
   * True when job.sh is gone but its command still runs in the job's process group and no
   * marker was written: the job is not over (and still holds its slot and its token shares).
   * A marker ends it even if it left processes behind. A leader pid that runs something
   * else was reused, which the kernel does only once the job's group is gone.
   */
  private async commandOutlivesScript(handle: LaunchHandle): Promise<boolean> {
    if (handle.pid === undefined || (await this.connector.isProcessAlive(handle.pid))) return false;
    if (!(await this.connector.isProcessGroupAlive(handle.pid))) return false;
    const markers = await Promise.all(
      [JOB_FILES.done, JOB_FILES.failed].map((file) => this.connector.exists(`${handle.directory}/${file}`)),
    );
    return !markers.some(Boolean);
  }

  private isOwnHost(handle: LaunchHandle): boolean {
    return handle.host === this.connector.hostname;
  }

  private async alivePids(handles: readonly LaunchHandle[]): Promise<number[]> {
    const checks = await Promise.all(handles.map(async (handle) => ((await this.jobStillRuns(handle)) ? handle.pid : undefined)));
    return checks.filter((pid) => pid !== undefined);
  }

  /** Waits until no process of the groups `pids` is alive or `timeoutMs` passed; returns those still alive. */
  private async waitUntilGone(pids: readonly number[], timeoutMs: number): Promise<number[]> {
    const deadline = Date.now() + timeoutMs;
    let remaining = [...pids];
    for (;;) {
      // The group: the job's command may outlive its job.sh.
      const alive = await Promise.all(remaining.map((pid) => this.connector.isProcessGroupAlive(pid)));
      remaining = remaining.filter((_, index) => alive[index]);
      if (remaining.length === 0 || Date.now() >= deadline) return remaining;
      await new Promise((resolve) => setTimeout(resolve, CANCEL_CHECK_MS));
    }
  }
}

function watchKey(pid: number, directory: string): string {
  return `${pid}:${directory}`;
}
