// Runs function tasks in a bounded pool of worker threads (tinypool) inside the
// experiment process: no process, no Node startup and no job.sh per job. Jobs
// keep their directory, params.json, output files and markers, so resume,
// `baton jobs list` and dependencies work as for any job; but a job lives only
// as long as the experiment process: one it interrupts has no marker, and its
// handle (this process's pid and start time) then says it is not running, so
// the next run of the experiment runs it again.
import { availableParallelism, totalmem } from 'node:os';
import { failedMarkerText, isInProcessHandle, isOwningProcessAlive, jobFile, ownProcessStartTime, requestCancel } from '@baton/core';
import type {
  Connector,
  FailureInfo,
  HostDescription,
  InProcessHandle,
  LaunchHandle,
  LaunchRequest,
  LaunchStatus,
  Launcher,
  LoggerLike,
  SubmitOutcome,
} from '@baton/core';
import type { ThreadBatchInput, ThreadJobInput, ThreadJobResult } from './threadWorker.ts';
import { ChangeNotifier } from './changeNotifier.ts';
import { CancelRequests } from './threadsCancelRequests.ts';
import { MAX_BATCH, TaskDurations, takeBatch } from './threadsBatching.ts';
import { begunFlag, ThreadGrowth, type WatchedBatch } from './threadsGrowth.ts';
import { ThreadsPool, threadFailure } from './threadsPool.ts';
import type { ThreadsLauncherOptions, ThreadsLaunchHandle } from './threadsLauncherOptions.ts';

export type { ThreadsLauncherOptions, ThreadsLaunchHandle } from './threadsLauncherOptions.ts';

/** How a job ended: the worker wrote its marker, or its thread ended under it (times in epoch ms). */
type JobEnd = { marked: true; markerError?: string } | { marked: false; failure: FailureInfo; start?: number; end?: number };

interface ThreadJob {
  directory: string;
  name: string;
  taskId: string;
  input: ThreadJobInput;
  state: 'queued' | 'running';
  /** The batch it was handed over in, once it was. */
  batch?: ThreadBatch;
  /** Set once cancelled: by whom (for its marker) when another process asked. */
  cancelled: false | { by?: string };
  /** Resolves once the job's marker is written (or the launcher closed without one). */
  ended: Promise<void>;
  resolveEnded: () => void;
}

/** Jobs handed to one thread at once (see threadsBatching.ts); aborting it terminates the thread. */
interface ThreadBatch extends WatchedBatch {
  jobs: ThreadJob[];
  controller: AbortController;
}

/**
 * Jobs this process runs in threads, whichever ThreadsLauncher instance took them
 * (two declared `threads` launchers, or one created to answer a status query).
 */
const jobsOfThisProcess = new Map<string, ThreadJob>();

const OWN_PID = process.pid;

/** The answers about this process's own jobs, asked for every job in flight at each poll: one object each, shared. */
const OWN_STATUS: Readonly<Record<'queued' | 'running' | 'finished', LaunchStatus>> = Object.freeze({
  queued: Object.freeze({ state: 'queued' }),
  running: Object.freeze({ state: 'running' }),
  finished: Object.freeze({ state: 'finished' }),
});

/** A job of this process that ended with its done marker written by its thread: the scheduler records it without a look. */
const FINISHED_DONE: LaunchStatus = Object.freeze({ state: 'finished', marker: 'done' });

const NEVER_STARTED: FailureInfo = { code: null, reason: 'cancelled', message: 'cancelled before it started' };

/**
 * Jobs handed over per thread by default: a batch running and the next one ready, so that
 * short tasks go to a thread up to MAX_BATCH at a time and the experiment writes the next
 * jobs' files while the threads start (a main thread idle while the threads started, with
 * fewer: 1000 trivial tasks ~5 % quicker with 32 than 4, when batches held at most 16).
 */
const QUEUED_PER_THREAD = 2 * MAX_BATCH;

export class ThreadsLauncher implements Launcher {
  readonly kind = 'threads';
  /** Its jobs run in this process and end with it: interrupted, they run again on resume. */
  readonly jobsOutliveProcess = false;
  /** A thread calls the task's function: no job.sh is written for its jobs. */
  readonly runsJobScript = false;
  readonly name: string;
  readonly connector: Connector;
  readonly host: HostDescription;
  readonly maxThreads: number;
  readonly maxConcurrent: number;
  readonly pollIntervalMs: number;
  private readonly isolate: boolean;
  private readonly logger: LoggerLike;
  private readonly changes: ChangeNotifier;
  /** Jobs of this launcher waiting for a free thread, in submission order. */
  private readonly queue: ThreadJob[] = [];
  /** Jobs of this launcher not ended yet, queued or running. */
  private readonly active = new Set<ThreadJob>();
  /** Threads the pool may use now (one at first, more while jobs wait behind long ones), and those busy with a batch. */
  private readonly growth: ThreadGrowth;
  private pumpScheduled = false;
  /** How long each task's jobs take: short ones go to threads in batches. */
  private readonly durations: TaskDurations;
  /** The worker threads, started on the first batch (or warmUp). */
  private readonly pool: ThreadsPool;
  private closed = false;
  /** Looks for `baton jobs kill` requests from other processes while jobs are active. */
  private readonly cancelRequests: CancelRequests;
  /** Directories of jobs whose thread wrote their done marker, until a status query has told so (once). */
  private readonly doneUntold = new Set<string>();

  constructor(options: ThreadsLauncherOptions) {
    this.name = options.name;
    this.connector = options.connector;
    this.logger = options.logger;
    this.changes = new ChangeNotifier({ launcherName: options.name, logger: options.logger });
    this.maxThreads = options.maxThreads ?? availableParallelism();
    this.maxConcurrent = options.maxConcurrent ?? this.maxThreads * QUEUED_PER_THREAD;
    this.pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.isolate = options.isolate ?? false;
    this.growth = new ThreadGrowth({
      maxThreads: this.maxThreads,
      allAtOnce: this.isolate,
      ...(options.growAfterMs === undefined ? {} : { growAfterMs: options.growAfterMs }),
      waiting: () => this.queue.length,
      grown: (limit) => {
        this.logger.debug(`launcher ${this.name}: ${this.queue.length} job(s) wait behind longer ones; ${limit} thread(s) now`);
        this.pump();
      },
    });
    this.pool = new ThreadsPool({
      maxThreads: this.maxThreads,
      idleTimeoutMs: options.idleTimeoutMs ?? 10_000,
      isolate: this.isolate,
      onError: (error) => {
        this.logger.warn(`a worker thread of launcher ${this.name} failed between jobs: ${error instanceof Error ? error.message : String(error)}`);
      },
    });
    this.durations = new TaskDurations(options.batchTasksUnderMs === undefined ? {} : { shortMs: options.batchTasksUnderMs });
    this.host = { cores: availableParallelism(), memory: totalmem(), gpus: 0 };
    this.cancelRequests = new CancelRequests({
      connector: this.connector,
      logger: this.logger,
      intervalMs: Math.min(this.pollIntervalMs, 1000),
      ownProcess: () => Promise.resolve({ pid: OWN_PID, processStart: ownProcessStartTime() }),
      directories: () => [...this.active].filter((job) => !job.cancelled).map((job) => job.directory),
      cancel: (directory, by) => {
        const job = [...this.active].find((candidate) => candidate.directory === directory);
        return job ? this.cancelJob(job, by) : Promise.resolve();
      },
    });
  }

  async submit(requests: readonly LaunchRequest[]): Promise<SubmitOutcome[]> {
    const processStart = ownProcessStartTime();
    const outcomes = requests.map((request) => this.accept(request, processStart));
    this.pumpSoon();
    return outcomes.map((outcome) => {
      if ('failure' in outcome) return outcome;
      // Started at once when a thread was free; the others wait in the queue.
      const job = jobsOfThisProcess.get(outcome.handle.directory);
      return { handle: outcome.handle, state: job?.state ?? 'running' };
    });
  }

  async status(handles: readonly LaunchHandle[]): Promise<LaunchStatus[]> {
    const processStart = ownProcessStartTime();
    // This process's jobs are answered from memory; only others' need a look at a process.
    const own = handles.map((handle) => this.ownStatus(handle as ThreadsLaunchHandle, processStart));
    if (own.every((status) => status !== undefined)) return own;
    return Promise.all(handles.map((handle, i) => own[i] ?? this.statusOne(handle as ThreadsLaunchHandle, processStart)));
  }

  async cancel(handles: readonly LaunchHandle[]): Promise<void> {
    const ends: Promise<void>[] = [];
    for (const handle of handles) {
      const job = handle.pid === OWN_PID ? jobsOfThisProcess.get(handle.directory) : undefined;
      if (job) ends.push(this.cancelJob(job));
      else if (handle.pid !== OWN_PID && isInProcessHandle(handle)) ends.push(this.cancelElsewhere(handle));
    }
    await Promise.all(ends);
  }

  /** Starts the first thread ahead of the jobs (ThreadsPool.warmUp). */
  warmUp(): void {
    if (!this.closed) this.pool.warmUp();
  }

  onChange(listener: () => void): () => void {
    return this.changes.subscribe(listener);
  }

  /** Ends the pool: jobs still running are interrupted and left without a marker (they run again next time). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.cancelRequests.stop();
    this.growth.close();
    const interrupted = [...this.active];
    for (const job of interrupted) if (jobsOfThisProcess.get(job.directory) === job) jobsOfThisProcess.delete(job.directory);
    this.active.clear();
    this.doneUntold.clear();
    this.queue.length = 0;
    if (interrupted.length > 0) {
      this.logger.debug(`${interrupted.length} job(s) interrupted by the end of the experiment; they have no marker and run again on resume`);
    }
    await this.pool.destroy();
    for (const job of interrupted) job.resolveEnded();
  }

  // -------------------------------------------------------------------------

  /**
   * Takes the job; it waits in the queue for a thread. Its params.json is read
   * by the thread that runs it, which refuses a command task (a read here would
   * cost the experiment's main thread a round of file I/O per job).
   */
  private accept(request: LaunchRequest, processStart: string | undefined): { handle: ThreadsLaunchHandle } | { failure: FailureInfo } {
    if (this.closed) return rejected(`launcher "${this.name}" is closed: the experiment is ending`);
    if (this.connector.kind !== 'local') {
      return rejected(`launcher "${this.name}" (threads) runs jobs in this process and needs the local connector, not "${this.connector.kind}"`);
    }
    let resolveEnded!: () => void;
    const ended = new Promise<void>((resolve) => (resolveEnded = resolve));
    const job: ThreadJob = {
      directory: request.directory,
      name: request.name,
      taskId: request.taskId,
      input: { directory: request.directory, host: this.connector.hostname, launcher: this.name },
      state: 'queued',
      cancelled: false,
      ended,
      resolveEnded,
    };
    jobsOfThisProcess.set(job.directory, job);
    this.doneUntold.delete(job.directory);
    this.active.add(job);
    this.queue.push(job);
    this.cancelRequests.start();
    const handle: ThreadsLaunchHandle = {
      launcher: this.name,
      kind: this.kind,
      host: this.connector.hostname,
      directory: request.directory,
      pid: OWN_PID,
      inProcess: true,
      submittedAt: new Date().toISOString(),
    };
    if (processStart !== undefined) handle.processStart = processStart;
    return { handle };
  }

  /**
   * Jobs of a short task wait for the end of this turn of the event loop, so that
   * those submitted in the same turn go to a thread together; others start at once.
   */
  private pumpSoon(): void {
    const next = this.queue[0];
    if (!next || this.isolate || !this.durations.isShort(next.taskId)) return this.pump();
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  /** Starts queued jobs while threads are free: one by one, or jobs of short tasks in batches. */
  private pump(): void {
    const { growth } = this;
    while (!this.closed && growth.busy < growth.limit && this.queue.length > 0) {
      // Shared out between the free threads, so that none idles while another has a backlog.
      const size = this.isolate ? 1 : Math.min(MAX_BATCH, Math.ceil(this.queue.length / (growth.limit - growth.busy)));
      const batch: ThreadBatch = {
        jobs: takeBatch(this.queue, { size, budgetMs: this.durations.shortMs, shortRunMs: (taskId) => this.durations.shortRunMs(taskId) }),
        controller: new AbortController(),
        begun: begunFlag(),
      };
      for (const job of batch.jobs) {
        job.state = 'running';
        job.batch = batch;
      }
      growth.started(batch);
      void this.run(batch);
    }
    if (!this.closed && this.queue.length > 0) this.growth.backlogged();
  }

  private async run(batch: ThreadBatch): Promise<void> {
    const start = Date.now();
    let answers: ThreadJobResult[] | undefined;
    let error: unknown;
    try {
      const input: ThreadBatchInput = { jobs: batch.jobs.map((job) => job.input), begun: batch.begun };
      answers = await this.pool.run(input, batch.controller.signal);
    } catch (caught) {
      error = caught;
    }
    this.growth.ended(batch);
    // The pool was destroyed under it: the experiment ends, its jobs stay without a marker.
    if (this.closed) return;
    if (answers) {
      // Each job's thread wrote its marker (or says why it could not): nothing to wait for.
      batch.jobs.forEach((job, i) => {
        const answer = answers[i]!;
        // A job that did not run its task (refused, or its module failed) says nothing of its length.
        if (answer.runMs !== undefined) this.durations.record(job.taskId, answer.runMs);
        this.ended(job, answer.markerError, answer.ok && answer.markerError === undefined);
      });
    } else {
      await this.settleBrokenBatch(batch, error, start);
    }
    this.pump();
  }

  /**
   * The thread ended under a batch: cancelled (terminated), out of memory, or it died.
   * Its jobs ran one after the other, each writing its marker as it ended: those with a
   * marker ended; the first without one was running; the others never started, and go
   * back to the front of the queue, as does the one running when a cancel of another
   * job of the batch terminated the thread.
   */
  private async settleBrokenBatch(batch: ThreadBatch, error: unknown, start: number): Promise<void> {
    const cancelledOther = batch.jobs.some((job) => job.cancelled);
    const marked = await Promise.all(batch.jobs.map((job) => this.hasMarker(job.directory)));
    const again: ThreadJob[] = [];
    let runningSeen = false;
    const ends = batch.jobs.map((job, i) => {
      const wasRunning = !marked[i] && !runningSeen;
      if (!marked[i]) runningSeen = true;
      if (marked[i]) return this.finish(job, { marked: true });
      if (job.cancelled && !wasRunning) return this.finish(job, { marked: false, failure: NEVER_STARTED });
      if (job.cancelled) return this.finish(job, { marked: false, failure: threadFailure(error, job.cancelled), start, end: Date.now() });
      if (wasRunning && !cancelledOther) return this.finish(job, { marked: false, failure: threadFailure(error, false), start, end: Date.now() });
      again.push(job);
      return Promise.resolve();
    });
    for (const job of again) {
      job.state = 'queued';
      delete job.batch;
    }
    this.queue.unshift(...again);
    await Promise.all(ends);
  }

  private async hasMarker(directory: string): Promise<boolean> {
    return (await this.connector.exists(jobFile(directory, 'done'))) || (await this.connector.exists(jobFile(directory, 'failed')));
  }

  /** Writes the marker of a job whose thread ended under it (the worker wrote the others), then tells the scheduler. */
  private async finish(job: ThreadJob, result: JobEnd): Promise<void> {
    if (result.marked) return this.ended(job, result.markerError);
    try {
      // A task that ended just as it was cancelled keeps its own marker.
      if (!(await this.connector.exists(jobFile(job.directory, 'done')))) {
        const run = { ...(result.start !== undefined ? { start: result.start } : {}), end: result.end ?? Date.now(), host: this.connector.hostname };
        await this.connector.writeFile(jobFile(job.directory, 'failed'), failedMarkerText(result.failure, run));
      }
    } catch (error) {
      this.logger.warn(`could not write the marker of ${job.name} in ${job.directory}: ${(error as Error).message}`);
    }
    this.ended(job);
  }

  /**
   * The job's marker is written (or `markerError` says why not): it is no longer this launcher's; the scheduler is told.
   * `markedDone`: its thread wrote its done marker, which the next status query says.
   */
  private ended(job: ThreadJob, markerError?: string, markedDone = false): void {
    // No marker: the scheduler finds the job ended without one and records it as lost.
    if (markerError !== undefined) this.logger.warn(`could not write the marker of ${job.name} in ${job.directory}: ${markerError}`);
    if (markedDone) this.doneUntold.add(job.directory);
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
    if (job) return OWN_STATUS[job.state];
    return this.doneUntold.delete(handle.directory) ? FINISHED_DONE : OWN_STATUS.finished;
  }

  private async statusOne(handle: ThreadsLaunchHandle, processStart: string | undefined): Promise<LaunchStatus> {
    if (handle.host !== this.connector.hostname) {
      return { state: 'unknown', detail: `job runs in a thread on host ${handle.host}; this launcher runs on ${this.connector.hostname}` };
    }
    const own = this.ownStatus(handle, processStart);
    if (own) return own;
    // Another experiment process runs it: running as long as that process lives.
    if (!(await isOwningProcessAlive(this.connector, handle))) return { state: 'finished' };
    return { state: 'running', detail: `in a thread of process ${handle.pid}` };
  }

  /** Cancels a job of this process: out of the queue if it waits, its thread terminated if it runs. */
  private cancelJob(job: ThreadJob, by?: string): Promise<void> {
    if (job.cancelled) return job.ended;
    job.cancelled = by === undefined ? {} : { by };
    const index = this.queue.indexOf(job);
    if (index >= 0) {
      // Never started: it ends here, as a cancelled job does.
      this.queue.splice(index, 1);
      void this.finish(job, { marked: false, failure: { code: null, reason: 'cancelled', message: 'cancelled before it started' } });
    } else {
      // tinypool terminates the thread that runs its batch; the batch's other jobs run again.
      job.batch?.controller.abort();
    }
    return job.ended;
  }

  /** A job in a thread of another process: that process is asked to cancel it, and does when it next looks. */
  private async cancelElsewhere(handle: InProcessHandle): Promise<void> {
    if (handle.host !== this.connector.hostname) {
      this.logger.warn(`job ${handle.directory} runs in a thread of process ${handle.pid} on ${handle.host}: cancel it from that host`);
      return;
    }
    const answer = await requestCancel(this.connector, handle);
    if (answer.outcome === 'no answer') {
      this.logger.warn(`job ${handle.directory} runs in a thread of process ${handle.pid}, which has not answered the request to cancel it yet`);
    }
  }
}

// ---------------------------------------------------------------------------

function rejected(message: string): { failure: FailureInfo } {
  return { failure: { code: null, reason: 'rejected', message } };
}
