// Entry of the threads launcher's worker threads: runs one function task at a
// time, the way the job runner does in a job process (core's job/runner.ts):
// read the job's params.json, import the module that exports the task, decode
// the parameters, call `run`. What the task prints (console, process.stdout and
// process.stderr, the task's logger) is appended to the job's stdout and stderr
// files; then the job's marker is written here, in the thread, with core's
// marker writers (job.sh's format). The launcher writes one only when the thread
// itself ends under the job (cancelled, out of memory). File work here is
// synchronous: it runs on this thread, never queued behind the experiment's own
// in Node's thread pool.
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { createLogger, decodeParamValue, failureMessage, importUserModule, isTask, jobFile, setLogSink, writeDoneMarkerSync, writeFailedMarkerSync } from '@baton/core/job';
import type { FailureInfo, JobParamsFile, Logger, Task } from '@baton/core/job';

export interface ThreadJobInput {
  directory: string;
  /** Host name written in the marker. */
  host: string;
  /** Name of the launcher, in the message that refuses a command task. */
  launcher: string;
}

/**
 * How the task ended, and when it ran (epoch milliseconds); `runMs`: how long its
 * `run` took, without the import of its module; `markerError` when its marker could not be written.
 */
export type ThreadJobResult = ({ ok: true } | { ok: false; failure: FailureInfo }) & { start: number; end: number; runMs?: number; markerError?: string };

/** What tinypool hands a thread: a batch of jobs, and where to say that the thread has begun them. */
export interface ThreadBatchInput {
  jobs: readonly ThreadJobInput[];
  /**
   * Shared with the launcher (a SharedArrayBuffer): set to 1 when this thread begins
   * the batch, its start-up over, so that the launcher can tell a thread busy with
   * long jobs (another thread would help) from one still starting.
   */
  begun: Int32Array;
}

/**
 * Called by tinypool in a worker thread with a batch of jobs (often one), run one
 * after the other; each job's marker is written as soon as it ends, so that if the
 * thread ends under the batch, the launcher tells from the markers which jobs ran.
 * Jobs whose task returns at once (no promise) run in one synchronous loop, with
 * no promise per job; the first that returns a promise (or whose module is not
 * imported yet) takes the rest of the batch the asynchronous way.
 */
export default function runThreadJobs({ jobs, begun }: ThreadBatchInput): ThreadJobResult[] | Promise<ThreadJobResult[]> {
  Atomics.store(begun, 0, 1);
  const results: ThreadJobResult[] = [];
  let handedOver = false;
  try {
    for (let i = 0; i < jobs.length; i++) {
      const result = runThreadJob(jobs[i]!);
      if (result instanceof Promise) {
        handedOver = true;
        return finishBatch(jobs, i, result, results);
      }
      results.push(result);
    }
    return results;
  } finally {
    if (!handedOver) jobEnvironment.restore();
  }
}

/** The rest of a batch once a job returned a promise: `pending` is job `index`'s. */
async function finishBatch(jobs: readonly ThreadJobInput[], index: number, pending: Promise<ThreadJobResult>, results: ThreadJobResult[]): Promise<ThreadJobResult[]> {
  try {
    results.push(await pending);
    for (let i = index + 1; i < jobs.length; i++) results.push(await runThreadJob(jobs[i]!));
    return results;
  } finally {
    jobEnvironment.restore();
  }
}

function runThreadJob(input: ThreadJobInput): ThreadJobResult | Promise<ThreadJobResult> {
  const result = runJob(input);
  return result instanceof Promise ? result.then((ended) => writeMarker(input, ended)) : writeMarker(input, result);
}

/** Writes the job's marker in the thread; a result says when it could not. */
function writeMarker(input: ThreadJobInput, result: ThreadJobResult): ThreadJobResult {
  try {
    const run = { start: result.start, end: result.end, host: input.host };
    if (result.ok) writeDoneMarkerSync(input.directory, run);
    else writeFailedMarkerSync(input.directory, result.failure, run);
  } catch (error) {
    return { ...result, markerError: (error as Error).message };
  }
  return result;
}

function runJob(input: ThreadJobInput): ThreadJobResult | Promise<ThreadJobResult> {
  const start = Date.now();
  let record: JobParamsFile;
  try {
    record = JSON.parse(readFileSync(jobFile(input.directory, 'params'), 'utf8')) as JobParamsFile;
  } catch (error) {
    return refused(`could not read the params.json of job ${input.directory}: ${(error as Error).message}`, start);
  }
  if (record.command) {
    return refused(
      `task "${record.taskId}" is a command task: launcher "${input.launcher}" (threads) runs only function tasks (defineTask with run). ` +
        'Submit it to a `local` launcher (e.g. submit(task, params, { launcher: "local" }), or `launcher:` in the task)',
      start,
    );
  }
  if (!record.module) return refused(`the params.json of task "${record.taskId}" names neither a command nor a module`, start);
  return runTask(input, record, start);
}

/** A job this launcher cannot run: failed, reason `rejected`, without running anything. */
function refused(message: string, start: number): ThreadJobResult {
  return { ok: false, failure: { code: null, reason: 'rejected', message }, start, end: Date.now() };
}

/**
 * Runs the task with the job's environment, `process.exit` and output, all put back
 * when it ends; synchronously when its module is loaded and its `run` returns no promise.
 */
function runTask(input: ThreadJobInput, record: JobParamsFile, start: number): ThreadJobResult | Promise<ThreadJobResult> {
  const { directory } = input;
  const output = JobOutput.begin(directory);
  const restoreExit = exitEndsTheTask();
  jobEnvironment.apply(record.env, {
    BATON_TASK_ID: record.taskId,
    BATON_JOB_HASH: record.hash,
    BATON_JOB_DIR: directory,
    // As in a job process: a task module that starts an experiment when imported is refused.
    BATON_JOB_RUNNER: `${record.taskId}/${record.hash.slice(0, 12)}`,
  });
  const ended = () => {
    restoreExit();
    output.end();
  };
  let returned: unknown;
  let runStart: number;
  try {
    const task = loadedTask(record);
    if (task === undefined) return runAfterImport(input, record, start).finally(ended);
    runStart = performance.now();
    returned = callRun(task, input, record);
  } catch (error) {
    // Its stack goes to the job's stderr: written before the output is put back.
    const failed = failedRun(error, start);
    ended();
    return failed;
  }
  if (!isThenable(returned)) {
    ended();
    return { ok: true, start, end: Date.now(), runMs: performance.now() - runStart };
  }
  return Promise.resolve(returned).then(
    () => ({ ok: true as const, start, end: Date.now(), runMs: performance.now() - runStart }),
    (error: unknown) => failedRun(error, start),
  ).finally(ended);
}

/** The first job of a task in this thread: its module is imported first (tsx for TypeScript). */
async function runAfterImport(input: ThreadJobInput, record: JobParamsFile, start: number): Promise<ThreadJobResult> {
  try {
    const task = await findTask(record);
    const runStart = performance.now();
    await callRun(task, input, record);
    return { ok: true, start, end: Date.now(), runMs: performance.now() - runStart };
  } catch (error) {
    return failedRun(error, start);
  }
}

function callRun(task: Task, input: ThreadJobInput, record: JobParamsFile): unknown {
  const params = decodeParamValue(record.resolved);
  return task.run!(params as never, { directory: input.directory, taskId: record.taskId, hash: record.hash, logger: taskLogger(record.taskId) });
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null | undefined)?.then === 'function';
}

/** How a task that threw (or called process.exit) ended. */
function failedRun(error: unknown, start: number): ThreadJobResult {
  if (error instanceof TaskExit) {
    // As in a job process: exit 0 is a success, any other code a failure with that code.
    if (error.code === 0) return { ok: true, start, end: Date.now() };
    return { ok: false, failure: { code: error.code, reason: 'failed', message: error.message }, start, end: Date.now() };
  }
  // The whole story in the job's stderr, one line in the marker (as job.sh and the runner do).
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  // 1: what the job runner exits with when the task throws.
  return { ok: false, failure: { code: 1, reason: 'failed', message: failureMessage(error) }, start, end: Date.now() };
}

// ---------------------------------------------------------------------------

const tasks = new Map<string, Task>();
const loggers = new Map<string, Logger>();

/** One logger per task, made once per thread (a debug channel each). */
function taskLogger(taskId: string): Logger {
  let logger = loggers.get(taskId);
  if (!logger) loggers.set(taskId, (logger = createLogger(`baton:task:${taskId}`)));
  return logger;
}

/** The task of the job if its module is loaded in this thread already. */
function loadedTask(record: JobParamsFile): Task | undefined {
  return tasks.get(`${record.module}#${record.taskId}`);
}

/**
 * The task exported by the job's module; modules stay loaded in the thread, as
 * imports do. A TypeScript module registers tsx in this thread first (core's
 * importUserModule); a JavaScript one loads no tsx.
 */
async function findTask(record: JobParamsFile): Promise<Task> {
  if (!record.module) throw new Error(`params.json names no module for task "${record.taskId}"`);
  const cached = loadedTask(record);
  if (cached) return cached;
  const module = await importUserModule(record.module);
  const task = Object.values(module).find((value) => isTask(value) && value.id === record.taskId);
  if (!isTask(task) || !task.run) {
    throw new Error(`Task "${record.taskId}" is not exported from ${record.module}; export the value returned by defineTask`);
  }
  tasks.set(`${record.module}#${record.taskId}`, task);
  return task;
}

/** process.exit() called by a task: it ends the task, not the thread (nor the experiment). */
class TaskExit extends Error {
  readonly code: number;
  constructor(code: number) {
    super(`the task called process.exit(${code})`);
    this.name = 'TaskExit';
    this.code = code;
  }
}

function exitEndsTheTask(): () => void {
  const exit = process.exit;
  process.exit = ((code?: number | string | null) => {
    throw new TaskExit(Number(code ?? 0) || 0);
  }) as typeof process.exit;
  return () => {
    process.exit = exit;
  };
}

/**
 * The running job's variables over the thread's environment. A batch's jobs mostly
 * share theirs (the experiment's), so each job sets only what differs from the job
 * before it, and the thread's own values come back when the batch ends (`restore`).
 */
class JobEnvironment {
  /** The thread's own value of each variable set for a job (undefined: it had none). */
  readonly #saved = new Map<string, string | undefined>();
  /** Variables of the job that set them last. */
  #current = new Set<string>();

  apply(...layers: (Record<string, string> | undefined)[]): void {
    const previous = this.#current;
    const current = new Set<string>();
    for (const layer of layers) {
      if (layer === undefined) continue;
      for (const name in layer) {
        const value = layer[name]!;
        if (!this.#saved.has(name)) this.#saved.set(name, process.env[name]);
        current.add(name);
        if (process.env[name] !== value) process.env[name] = value;
      }
    }
    for (const name of previous) if (!current.has(name)) this.#put(name);
    this.#current = current;
  }

  /** Puts the thread's own values back. */
  restore(): void {
    for (const name of this.#saved.keys()) this.#put(name);
    this.#saved.clear();
    this.#current = new Set();
  }

  #put(name: string): void {
    const value = this.#saved.get(name);
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
}

const jobEnvironment = new JobEnvironment();

type WriteFunction = typeof process.stdout.write;

/**
 * Routes this thread's process.stdout / process.stderr (which console and the
 * `debug` channels write to) into the running job's files with synchronous
 * appends, so that everything is on disk before the launcher writes the marker.
 * Output written while no job runs (a timer a task left behind) goes where the
 * thread's output goes by default: the experiment process's.
 */
class JobOutput {
  static #current: JobOutput | undefined;
  static #installed = false;
  readonly #paths: { stdout: string; stderr: string };
  readonly #fds: { stdout?: number; stderr?: number } = {};

  private constructor(paths: { stdout: string; stderr: string }) {
    this.#paths = paths;
  }

  static begin(directory: string): JobOutput {
    JobOutput.#install();
    const output = new JobOutput({ stdout: jobFile(directory, 'stdout'), stderr: jobFile(directory, 'stderr') });
    JobOutput.#current = output;
    return output;
  }

  end(): void {
    if (JobOutput.#current === this) JobOutput.#current = undefined;
    for (const fd of Object.values(this.#fds)) closeSync(fd);
  }

  #write(stream: 'stdout' | 'stderr', chunk: string | Uint8Array, encoding?: BufferEncoding): void {
    this.#fds[stream] ??= openSync(this.#paths[stream], 'a');
    const fd = this.#fds[stream];
    if (typeof chunk === 'string') writeSync(fd, chunk, null, encoding ?? 'utf8');
    else writeSync(fd, chunk);
  }

  static #install(): void {
    if (JobOutput.#installed) return;
    JobOutput.#installed = true;
    for (const stream of ['stdout', 'stderr'] as const) {
      const original = process[stream].write.bind(process[stream]) as WriteFunction;
      process[stream].write = ((chunk: string | Uint8Array, encodingOrCallback?: unknown, callback?: unknown) => {
        const current = JobOutput.#current;
        if (!current) return original(chunk, encodingOrCallback as BufferEncoding, callback as () => void);
        const encoding = typeof encodingOrCallback === 'string' ? (encodingOrCallback as BufferEncoding) : undefined;
        const done = typeof encodingOrCallback === 'function' ? encodingOrCallback : callback;
        let failure: Error | null = null;
        try {
          current.#write(stream, chunk, encoding);
        } catch (error) {
          failure = error as Error;
        }
        if (typeof done === 'function') process.nextTick(done as (error: Error | null) => void, failure);
        return true;
      }) as WriteFunction;
    }
    // The task's logger: info, warn and error lines in the job's stderr (debug
    // channels already write there when DEBUG enables them).
    setLogSink((record) => {
      process.stderr.write(`[${record.level}] ${record.namespace}: ${process.getBuiltinModule('node:util').format(record.message, ...record.args)}\n`);
    });
  }
}
