// Runs function tasks in a bounded pool of worker threads (tinypool) inside the
// experiment process: no process, no Node startup and no job.sh per job. Jobs
// keep their directory, params.json, output files and markers, so resume,
// `baton jobs list` and dependencies work as for any job; but a job lives only
// as long as the experiment process: one it interrupts has no marker, and its
// handle (this process's pid and start time) then says it is not running, so
// the next run of the experiment runs it again.
import { availableParallelism, totalmem } from 'node:os';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jobFile } from '@baton/core';
import type {
  Connector,
  FailureInfo,
  HostDescription,
  JobParamsFile,
  LaunchHandle,
  LaunchRequest,
  LaunchStatus,
  Launcher,
  LoggerLike,
  SubmitOutcome,
} from '@baton/core';
import Tinypool from 'tinypool';
import type { ThreadJobInput, ThreadJobResult } from './threadWorker.ts';
import { ChangeNotifier } from './changeNotifier.ts';

/** How a job ended: the worker wrote its marker, or its thread ended under it (times in epoch ms). */
type JobEnd = { marked: true; markerError?: string } | { marked: false; failure: FailureInfo; start?: number; end?: number };

export interface ThreadsLauncherOptions {
  /** Name the launcher is declared under in the settings. */
  name: string;
  connector: Connector;
  logger: LoggerLike;
  /** Worker threads in the pool. Default: the number of cores. */
  maxThreads?: number;
  /**
   * Most jobs handed over at once (the scheduler enforces it); those beyond free
   * threads wait in the launcher, queued, so that a thread that finishes a job
   * starts the next one without waiting for the scheduler. Default: 4 × maxThreads.
   */
  maxConcurrent?: number;
  pollIntervalMs?: number;
  /** An idle thread ends after this many milliseconds (modules it loaded go with it). */
  idleTimeoutMs?: number;
  /** A fresh thread for every job: no module state shared between jobs, at the cost of a thread start per job. */
  isolate?: boolean;
}

/** What process.json holds for a job run in a thread: the experiment process, and when it started. */
export interface ThreadsLaunchHandle extends LaunchHandle {
  pid: number;
  /** Start time of process `pid` (clock ticks since boot, from /proc), to tell it from a later process with the same pid. */
  processStart?: string;
}

interface ThreadJob {
  directory: string;
  name: string;
  input: ThreadJobInput;
  state: 'queued' | 'running';
  controller: AbortController;
  cancelled: boolean;
  /** Resolves once the job's marker is written (or the launcher closed without one). */
  ended: Promise<void>;
  resolveEnded: () => void;
}

/**
 * Jobs this process runs in threads, whichever ThreadsLauncher instance took them
 * (two declared `threads` launchers, or one created to answer a status query).
 */
const jobsOfThisProcess = new Map<string, ThreadJob>();

const OWN_PID = process.pid;

/** Jobs handed over per thread by default: one running, the others ready to follow at once. */
const QUEUED_PER_THREAD = 4;

/** The worker entry, next to this file, once built (`.js`); from the sources (`.ts`), threadBootstrap.mjs. */
const OWN_EXTENSION = extname(fileURLToPath(import.meta.url));
const WORKER_URL = new URL('./threadWorker.js', import.meta.url);

export class ThreadsLauncher implements Launcher {
  readonly kind = 'threads';
  readonly name: string;
  readonly connector: Connector;
  readonly host: HostDescription;
  readonly maxThreads: number;
  readonly maxConcurrent: number;
  readonly pollIntervalMs: number;
  private readonly idleTimeoutMs: number;
  private readonly isolate: boolean;
  private readonly logger: LoggerLike;
  private readonly changes: ChangeNotifier;
  /** Jobs of this launcher waiting for a free thread, in submission order. */
  private readonly queue: ThreadJob[] = [];
  /** Jobs of this launcher not ended yet, queued or running. */
  private readonly active = new Set<ThreadJob>();
  private running = 0;
  private pool: Tinypool | undefined;
  private closed = false;
  private ownStart: Promise<string | undefined> | undefined;

  constructor(options: ThreadsLauncherOptions) {
    this.name = options.name;
    this.connector = options.connector;
    this.logger = options.logger;
    this.changes = new ChangeNotifier({ launcherName: options.name, logger: options.logger });
    this.maxThreads = options.maxThreads ?? availableParallelism();
    this.maxConcurrent = options.maxConcurrent ?? this.maxThreads * QUEUED_PER_THREAD;
    this.pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.idleTimeoutMs = options.idleTimeoutMs ?? 10_000;
    this.isolate = options.isolate ?? false;
    this.host = { cores: availableParallelism(), memory: totalmem(), gpus: 0 };
  }

  async submit(requests: readonly LaunchRequest[]): Promise<SubmitOutcome[]> {
    const processStart = await this.ownProcessStart();
    const outcomes = await Promise.all(requests.map((request) => this.accept(request, processStart)));
    this.pump();
    return outcomes.map((outcome) => {
      if ('failure' in outcome) return outcome;
      // Started at once when a thread was free; the others wait in the queue.
      const job = jobsOfThisProcess.get(outcome.handle.directory);
      return { handle: outcome.handle, state: job?.state ?? 'running' };
    });
  }

  async status(handles: readonly LaunchHandle[]): Promise<LaunchStatus[]> {
    const processStart = await this.ownProcessStart();
    // This process's jobs are answered from memory; only others' need a look at a process.
    const own = handles.map((handle) => this.ownStatus(handle as ThreadsLaunchHandle, processStart));
    if (own.every((status) => status !== undefined)) return own;
    return Promise.all(handles.map((handle, i) => own[i] ?? this.statusOne(handle as ThreadsLaunchHandle, processStart)));
  }

  async cancel(handles: readonly LaunchHandle[]): Promise<void> {
    const ends: Promise<void>[] = [];
    for (const handle of handles) {
      const job = handle.pid === OWN_PID ? jobsOfThisProcess.get(handle.directory) : undefined;
      if (!job) {
        if (handle.pid !== OWN_PID && (await this.statusOne(handle as ThreadsLaunchHandle, undefined)).state === 'running') {
          this.logger.warn(
            `job ${handle.directory} runs in a thread of process ${handle.pid} on ${handle.host}: only that process can cancel it (stop that experiment)`,
          );
        }
        continue;
      }
      if (job.cancelled) {
        ends.push(job.ended);
        continue;
      }
      job.cancelled = true;
      const index = this.queue.indexOf(job);
      if (index >= 0) {
        // Never started: it ends here, as a cancelled job does.
        this.queue.splice(index, 1);
        void this.finish(job, { marked: false, failure: { code: null, reason: 'cancelled', message: 'cancelled before it started' } });
      } else {
        // tinypool terminates the thread that runs it.
        job.controller.abort();
      }
      ends.push(job.ended);
    }
    await Promise.all(ends);
  }

  onChange(listener: () => void): () => void {
    return this.changes.subscribe(listener);
  }

  /** Ends the pool: jobs still running are interrupted and left without a marker (they run again next time). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const interrupted = [...this.active];
    for (const job of interrupted) if (jobsOfThisProcess.get(job.directory) === job) jobsOfThisProcess.delete(job.directory);
    this.active.clear();
    this.queue.length = 0;
    if (interrupted.length > 0) {
      this.logger.debug(`${interrupted.length} job(s) interrupted by the end of the experiment; they have no marker and run again on resume`);
    }
    await this.pool?.destroy();
    this.pool = undefined;
    for (const job of interrupted) job.resolveEnded();
  }

  // -------------------------------------------------------------------------

  /** Checks that the job is a function task and takes it; it waits in the queue for a thread. */
  private async accept(request: LaunchRequest, processStart: string | undefined): Promise<{ handle: ThreadsLaunchHandle } | { failure: FailureInfo }> {
    if (this.closed) return rejected(`launcher "${this.name}" is closed: the experiment is ending`);
    if (this.connector.kind !== 'local') {
      return rejected(`launcher "${this.name}" (threads) runs jobs in this process and needs the local connector, not "${this.connector.kind}"`);
    }
    let record: JobParamsFile;
    try {
      record = JSON.parse(await this.connector.readFile(jobFile(request.directory, 'params'))) as JobParamsFile;
    } catch (error) {
      return rejected(`could not read the params.json of ${request.name} in ${request.directory}: ${(error as Error).message}`);
    }
    if (!record.command && !record.module) return rejected(`the params.json of ${request.name} names neither a command nor a module`);
    if (record.command) {
      return rejected(
        `task "${record.taskId}" is a command task: launcher "${this.name}" (threads) runs only function tasks (defineTask with run). ` +
          'Submit it to a `local` launcher (e.g. submit(task, params, { launcher: "local" }), or `launcher:` in the task)',
      );
    }
    let resolveEnded!: () => void;
    const ended = new Promise<void>((resolve) => (resolveEnded = resolve));
    const job: ThreadJob = {
      directory: request.directory,
      name: request.name,
      input: {
        directory: request.directory,
        record,
        stdoutPath: jobFile(request.directory, 'stdout'),
        stderrPath: jobFile(request.directory, 'stderr'),
        host: this.connector.hostname,
        tsxApi: TSX_API,
      },
      state: 'queued',
      controller: new AbortController(),
      cancelled: false,
      ended,
      resolveEnded,
    };
    jobsOfThisProcess.set(job.directory, job);
    this.active.add(job);
    this.queue.push(job);
    const handle: ThreadsLaunchHandle = {
      launcher: this.name,
      kind: this.kind,
      host: this.connector.hostname,
      directory: request.directory,
      pid: OWN_PID,
      submittedAt: new Date().toISOString(),
    };
    if (processStart !== undefined) handle.processStart = processStart;
    return { handle };
  }

  /** Starts queued jobs while threads are free. */
  private pump(): void {
    while (!this.closed && this.running < this.maxThreads && this.queue.length > 0) {
      const job = this.queue.shift()!;
      job.state = 'running';
      this.running++;
      void this.run(job);
    }
  }

  private async run(job: ThreadJob): Promise<void> {
    const start = Date.now();
    let result: JobEnd;
    try {
      const answer = (await this.threads().run(job.input, { signal: job.controller.signal })) as ThreadJobResult;
      result = answer.markerError === undefined ? { marked: true } : { marked: true, markerError: answer.markerError };
    } catch (error) {
      result = { marked: false, failure: threadFailure(error, job), start, end: Date.now() };
    }
    this.running--;
    // The pool was destroyed under it: the experiment ends, the job stays without a marker.
    if (this.closed) return;
    await this.finish(job, result);
    this.pump();
  }

  /** Writes the marker of a job whose thread ended under it (the worker wrote the others), then tells the scheduler. */
  private async finish(job: ThreadJob, result: JobEnd): Promise<void> {
    if (result.marked) {
      // No marker: the scheduler finds the job ended without one and records it as lost.
      if (result.markerError !== undefined) this.logger.warn(`could not write the marker of ${job.name} in ${job.directory}: ${result.markerError}`);
    } else {
      try {
        // A task that ended just as it was cancelled keeps its own marker.
        if (!(await this.connector.exists(jobFile(job.directory, 'done')))) {
          const provenance = {
            ...(result.start !== undefined ? { start: epochSeconds(result.start) } : {}),
            end: epochSeconds(result.end ?? Date.now()),
            host: this.connector.hostname,
          };
          // job.sh's format: the failure and the provenance in one JSON object.
          await this.connector.writeFile(jobFile(job.directory, 'failed'), `${JSON.stringify({ ...result.failure, ...provenance })}\n`);
        }
      } catch (error) {
        this.logger.warn(`could not write the marker of ${job.name} in ${job.directory}: ${(error as Error).message}`);
      }
    }
    if (jobsOfThisProcess.get(job.directory) === job) jobsOfThisProcess.delete(job.directory);
    this.active.delete(job);
    job.resolveEnded();
    this.changes.notify();
  }

  /** The status of a job this process ran or runs, or undefined for another process's job. */
  private ownStatus(handle: ThreadsLaunchHandle, processStart: string | undefined): LaunchStatus | undefined {
    if (handle.host !== this.connector.hostname || handle.pid !== OWN_PID) return undefined;
    if (handle.processStart !== undefined && handle.processStart !== processStart) return undefined;
    // Running or queued while we have it, finished (its marker written) once we do not.
    const job = jobsOfThisProcess.get(handle.directory);
    return job ? { state: job.state } : { state: 'finished' };
  }

  private async statusOne(handle: ThreadsLaunchHandle, processStart: string | undefined): Promise<LaunchStatus> {
    if (handle.host !== this.connector.hostname) {
      return { state: 'unknown', detail: `job runs in a thread on host ${handle.host}; this launcher runs on ${this.connector.hostname}` };
    }
    const own = this.ownStatus(handle, processStart);
    if (own) return own;
    // Another experiment process runs it: running as long as that process lives.
    if (!(await this.connector.isProcessAlive(handle.pid))) return { state: 'finished' };
    if (handle.processStart !== undefined) {
      const start = await processStartTime(this.connector, handle.pid);
      // A later process with the same pid: the one that ran the job is gone.
      if (start !== undefined && start !== handle.processStart) return { state: 'finished' };
    }
    return { state: 'running', detail: `in a thread of process ${handle.pid}` };
  }

  private threads(): Tinypool {
    if (this.pool) return this.pool;
    this.pool = new Tinypool({
      filename: workerFilename(),
      maxThreads: this.maxThreads,
      minThreads: 0,
      idleTimeout: this.idleTimeoutMs,
      isolateWorkers: this.isolate,
    });
    // A thread that fails while it runs no job (an error thrown by a timer a task left
    // behind): tinypool replaces it; the experiment goes on.
    this.pool.on('error', (error: unknown) => {
      this.logger.warn(`a worker thread of launcher ${this.name} failed between jobs: ${error instanceof Error ? error.message : String(error)}`);
    });
    return this.pool;
  }

  private ownProcessStart(): Promise<string | undefined> {
    this.ownStart ??= processStartTime(this.connector, process.pid);
    return this.ownStart;
  }
}

// ---------------------------------------------------------------------------

/** tsx's register API, for task modules (and, in the monorepo, this plugin's own sources) written in TypeScript. */
const TSX_API = import.meta.resolve('tsx/esm/api');

/**
 * What tinypool loads in each thread. Built, the worker entry is JavaScript and
 * loads tsx only when a task module needs it; from the sources, a small bootstrap
 * registers tsx in the thread first (Node 20 does not pass `--import` hooks on
 * to worker threads).
 */
function workerFilename(): string {
  return fileURLToPath(OWN_EXTENSION === '.ts' ? new URL('./threadBootstrap.mjs', import.meta.url) : WORKER_URL);
}

function rejected(message: string): { failure: FailureInfo } {
  return { failure: { code: null, reason: 'rejected', message } };
}

/** A job whose thread ended under it: cancelled (terminated), out of memory, or a thread that died (process.exit in the task). */
function threadFailure(error: unknown, job: ThreadJob): FailureInfo {
  // No exit code: no process ended.
  if (job.cancelled) return { code: null, reason: 'cancelled', message: 'cancelled: its worker thread was terminated' };
  const message = (error instanceof Error ? error.message : String(error)).split('\n')[0];
  if ((error as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY') return { code: null, reason: 'oom', message: `its thread ran out of memory: ${message}` };
  return { code: null, reason: 'failed', message: `its thread failed: ${message}` };
}

function epochSeconds(ms: number): number {
  return Math.round(ms / 10) / 100;
}

/** Start time of a process (field 22 of /proc/<pid>/stat), or undefined where there is no /proc. */
async function processStartTime(connector: Connector, pid: number): Promise<string | undefined> {
  const stat = await connector.readFileIfExists(`/proc/${pid}/stat`).catch(() => undefined);
  if (stat === undefined) return undefined;
  // The command name (field 2) may hold spaces and parentheses: count from its end.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[19];
}
