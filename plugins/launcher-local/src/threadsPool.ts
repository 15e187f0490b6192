// The tinypool behind the threads launcher: made on first use, its first thread
// started ahead of the jobs on request (warmUp), which file its threads load (the
// built worker, or the sources through tsx inside the monorepo), and how a job
// whose thread ended under it is recorded.
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FailureInfo } from '@baton/core';
import Tinypool from 'tinypool';
import type { ThreadBatchInput, ThreadJobResult } from './threadWorker.ts';
import { begunFlag } from './threadsGrowth.ts';

/** The export condition that points this workspace's packages at their TypeScript sources. */
const SOURCE_CONDITION = '@baton/source';

/** This module's extension: `.js` once built, `.ts` when run from the sources (monorepo tests, benchmarks). */
const FROM_SOURCES = extname(fileURLToPath(import.meta.url)) === '.ts';

export interface ThreadsPoolOptions {
  maxThreads: number;
  idleTimeoutMs: number;
  isolate: boolean;
  /** A thread failed while it ran no job. */
  onError: (error: unknown) => void;
}

/**
 * A pool of worker threads running threadWorker, made on the first batch (or warmUp).
 * Built, the threads load threadWorker.js and nothing else until a job needs it
 * (tsx only for a TypeScript task module). From the sources, they load
 * threadBootstrap.mjs, which registers tsx first (Node 20 does not pass `--import`
 * hooks on to worker threads), with the source condition so that `@baton/core`
 * resolves to its sources as it does here, built or not.
 */
export class ThreadsPool {
  readonly #options: ThreadsPoolOptions;
  #pool: Tinypool | undefined;
  /** The empty batch that starts the first thread ahead of the jobs (warmUp), until it has run. */
  #warming: Promise<unknown> | undefined;
  #destroyed = false;

  constructor(options: ThreadsPoolOptions) {
    this.#options = options;
  }

  /** Threads running now (none before the first batch, nor once destroyed). */
  get threadCount(): number {
    return this.#pool?.threads.length ?? 0;
  }

  /** Batches the threads have finished (warmUp's empty one included). */
  get completed(): number {
    return this.#pool?.completed ?? 0;
  }

  /**
   * Starts the first thread now, with an empty batch, so that it loads Node's worker
   * and this plugin's while the experiment opens and writes the first jobs' files.
   * The first batch then waits for that thread rather than starting a second one
   * beside it (the pool starts a thread for a batch that finds none free). Nothing
   * once a thread was started, or with `isolate` (each batch gets a fresh thread).
   */
  warmUp(): void {
    if (this.#destroyed || this.#options.isolate || this.#pool) return;
    const warming = this.#tinypool()
      .run({ jobs: [], begun: begunFlag() } satisfies ThreadBatchInput)
      // A thread that cannot start fails the first batch again, which says why.
      .catch(() => undefined)
      .finally(() => {
        if (this.#warming === warming) this.#warming = undefined;
      });
    this.#warming = warming;
  }

  /** Runs a batch in a thread: the warmed one once it is up. Rejects once the pool is destroyed. */
  async run(input: ThreadBatchInput, signal: AbortSignal): Promise<ThreadJobResult[]> {
    if (this.#warming) await this.#warming;
    if (this.#destroyed) throw new Error('the pool of threads is closed');
    return (await this.#tinypool().run(input, { signal })) as ThreadJobResult[];
  }

  /** Ends every thread: a batch running is interrupted. */
  async destroy(): Promise<void> {
    this.#destroyed = true;
    await this.#pool?.destroy();
    this.#pool = undefined;
  }

  #tinypool(): Tinypool {
    if (this.#pool) return this.#pool;
    const { maxThreads, idleTimeoutMs, isolate, onError } = this.#options;
    this.#pool = new Tinypool({
      filename: fileURLToPath(new URL(FROM_SOURCES ? './threadBootstrap.mjs' : './threadWorker.js', import.meta.url)),
      maxThreads,
      minThreads: 0,
      idleTimeout: idleTimeoutMs,
      isolateWorkers: isolate,
      ...(FROM_SOURCES ? { execArgv: withSourceCondition(process.execArgv) } : {}),
    });
    // A thread that fails while it runs no job (an error thrown by a timer a task left
    // behind): tinypool replaces it; the experiment goes on.
    this.#pool.on('error', onError);
    return this.#pool;
  }
}

function withSourceCondition(execArgv: readonly string[]): string[] {
  const has = execArgv.some((arg, i) => arg === `--conditions=${SOURCE_CONDITION}` || (/^(-C|--conditions)$/.test(arg) && execArgv[i + 1] === SOURCE_CONDITION));
  return has ? [...execArgv] : [...execArgv, `--conditions=${SOURCE_CONDITION}`];
}

/** A job whose thread ended under it: cancelled (terminated), out of memory, or a thread that died. */
export function threadFailure(error: unknown, cancelled: false | { by?: string }): FailureInfo {
  // No exit code: no process ended.
  if (cancelled) return { code: null, reason: 'cancelled', message: `cancelled${cancelled.by ? ` ${cancelled.by}` : ''}: its worker thread was terminated` };
  const message = (error instanceof Error ? error.message : String(error)).split('\n')[0];
  if ((error as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY') return { code: null, reason: 'oom', message: `its thread ran out of memory: ${message}` };
  return { code: null, reason: 'failed', message: `its thread failed: ${message}` };
}
