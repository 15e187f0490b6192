// The tinypool behind the threads launcher: which file its threads load (the built
// worker, or the sources through tsx inside the monorepo), and how a job whose
// thread ended under it is recorded.
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FailureInfo } from '@baton/core';
import Tinypool from 'tinypool';

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
 * A pool of worker threads running threadWorker. Built, the threads load
 * threadWorker.js and nothing else until a job needs it (tsx only for a
 * TypeScript task module). From the sources, they load threadBootstrap.mjs,
 * which registers tsx first (Node 20 does not pass `--import` hooks on to
 * worker threads), with the source condition so that `@baton/core` resolves to
 * its sources as it does here, built or not.
 */
export function createThreadsPool(options: ThreadsPoolOptions): Tinypool {
  const pool = new Tinypool({
    filename: fileURLToPath(new URL(FROM_SOURCES ? './threadBootstrap.mjs' : './threadWorker.js', import.meta.url)),
    maxThreads: options.maxThreads,
    minThreads: 0,
    idleTimeout: options.idleTimeoutMs,
    isolateWorkers: options.isolate,
    ...(FROM_SOURCES ? { execArgv: withSourceCondition(process.execArgv) } : {}),
  });
  // A thread that fails while it runs no job (an error thrown by a timer a task left
  // behind): tinypool replaces it; the experiment goes on.
  pool.on('error', options.onError);
  return pool;
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
