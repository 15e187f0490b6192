// Entry of the threads launcher's worker threads: runs one function task at a
// time, the way the job runner does in a job process (core's job/runner.ts):
// import the module that exports the task, decode the parameters recorded in
// params.json, call `run`. What the task prints (console, process.stdout and
// process.stderr, the task's logger) is appended to the job's stdout and stderr
// files; then the job's marker is written here, in the thread, as job.sh writes
// it. The launcher writes one only when the thread itself ends under the job
// (cancelled, out of memory).
import { closeSync, openSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { format } from 'node:util';
import { createLogger, decodeParamValue, isTask, setLogSink } from '@baton/core';
import type { JobParamsFile, Task } from '@baton/core';

export interface ThreadJobInput {
  directory: string;
  /** The job's params.json, as the launcher read it. */
  record: JobParamsFile;
  /** The job's output files (appended to, made on the first write). */
  stdoutPath: string;
  stderrPath: string;
  /** Host name written in the marker. */
  host: string;
  /** URL of tsx's `tsx/esm/api`: registered in this thread when a task module is TypeScript. */
  tsxApi?: string;
}

/** How the task ended, and when it ran (epoch milliseconds); `markerError` when its marker could not be written. */
export type ThreadJobResult = ({ ok: true } | { ok: false; message: string; code: number }) & { start: number; end: number; markerError?: string };

/** Called by tinypool in a worker thread, one job at a time per thread. */
export default async function runThreadJob(input: ThreadJobInput): Promise<ThreadJobResult> {
  const result = await runTask(input);
  try {
    writeMarker(input, result);
  } catch (error) {
    return { ...result, markerError: (error as Error).message };
  }
  return result;
}

async function runTask(input: ThreadJobInput): Promise<ThreadJobResult> {
  const start = Date.now();
  const { directory, record } = input;
  const output = JobOutput.begin(input);
  const restoreExit = exitEndsTheTask();
  const restoreEnv = overlayEnvironment({
    ...record.env,
    BATON_TASK_ID: record.taskId,
    BATON_JOB_HASH: record.hash,
    BATON_JOB_DIR: directory,
    // As in a job process: a task module that starts an experiment when imported is refused.
    BATON_JOB_RUNNER: `${record.taskId}/${record.hash.slice(0, 12)}`,
  });
  try {
    const task = await findTask(record, input.tsxApi);
    const params = decodeParamValue(record.resolved);
    const logger = createLogger(`baton:task:${record.taskId}`);
    await task.run!(params as never, { directory, taskId: record.taskId, hash: record.hash, logger });
    return { ok: true, start, end: Date.now() };
  } catch (error) {
    if (error instanceof TaskExit) {
      // As in a job process: exit 0 is a success, any other code a failure with that code.
      if (error.code === 0) return { ok: true, start, end: Date.now() };
      return { ok: false, message: error.message, code: error.code, start, end: Date.now() };
    }
    // The whole story in the job's stderr, one line in the marker (as job.sh and the runner do).
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    // 1: what the job runner exits with when the task throws.
    return { ok: false, message: failureMessage(error), code: 1, start, end: Date.now() };
  } finally {
    restoreExit();
    restoreEnv();
    output.end();
  }
}

// ---------------------------------------------------------------------------

/**
 * The `done` or `failed` marker in job.sh's format (start and end in seconds
 * since the epoch, to the hundredth; host; exit code). As job.sh does, `done`
 * is written in one small write (whatever a reader sees of it says done), and
 * `failed` beside it, then renamed.
 */
function writeMarker(input: ThreadJobInput, result: ThreadJobResult): void {
  const provenance = { start: epochSeconds(result.start), end: epochSeconds(result.end), host: input.host };
  if (result.ok) {
    writeFileSync(join(input.directory, 'done'), `${JSON.stringify({ code: 0, ...provenance })}\n`);
    return;
  }
  const marker = { code: result.code, reason: 'failed', message: result.message, ...provenance };
  const path = join(input.directory, 'failed');
  const temporary = `${path}.tmp`;
  try {
    writeFileSync(temporary, `${JSON.stringify(marker)}\n`);
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}

function epochSeconds(ms: number): number {
  return Math.round(ms / 10) / 100;
}

const tasks = new Map<string, Task>();
let tsxRegistered = false;

/** The task exported by the job's module; modules stay loaded in the thread, as imports do. */
async function findTask(record: JobParamsFile, tsxApi: string | undefined): Promise<Task> {
  if (!record.module) throw new Error(`params.json names no module for task "${record.taskId}"`);
  const key = `${record.module}#${record.taskId}`;
  const cached = tasks.get(key);
  if (cached) return cached;
  const module = await importModule(record.module, tsxApi);
  const task = Object.values(module).find((value) => isTask(value) && value.id === record.taskId);
  if (!isTask(task) || !task.run) {
    throw new Error(`Task "${record.taskId}" is not exported from ${record.module}; export the value returned by defineTask`);
  }
  tasks.set(key, task);
  return task;
}

/** A plain import; a TypeScript module registers tsx in this thread first (once). */
async function importModule(url: string, tsxApi: string | undefined): Promise<Record<string, unknown>> {
  try {
    return (await import(url)) as Record<string, unknown>;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ERR_UNKNOWN_FILE_EXTENSION' || !tsxApi || tsxRegistered) throw error;
  }
  const { register } = (await import(tsxApi)) as { register: () => unknown };
  register();
  tsxRegistered = true;
  return (await import(url)) as Record<string, unknown>;
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

/** Sets variables for the job; returns what puts the thread's environment back. */
function overlayEnvironment(env: Record<string, string>): () => void {
  const previous = new Map<string, string | undefined>();
  for (const [name, value] of Object.entries(env)) {
    previous.set(name, process.env[name]);
    process.env[name] = value;
  }
  return () => {
    for (const [name, value] of previous) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
}

function failureMessage(error: unknown): string {
  const text = error instanceof Error ? error.message || error.name : String(error);
  const message = text.split('\n')[0]!.trim() || 'the task threw';
  return message.length > 500 ? `${message.slice(0, 497)}...` : message;
}

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

  static begin(input: ThreadJobInput): JobOutput {
    JobOutput.#install();
    const output = new JobOutput({ stdout: input.stdoutPath, stderr: input.stderrPath });
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
      process.stderr.write(`[${record.level}] ${record.namespace}: ${format(record.message, ...record.args)}\n`);
    });
  }
}
