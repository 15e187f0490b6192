// What a threads launcher is made with (its settings, turned into options by the
// plugin's factory), and what its jobs' process.json holds.
import type { Connector, LaunchHandle, LoggerLike } from '@baton/core';

export interface ThreadsLauncherOptions {
  /** Name the launcher is declared under in the settings. */
  name: string;
  connector: Connector;
  logger: LoggerLike;
  /** Most worker threads in the pool (started as jobs wait for one: threadsGrowth.ts). Default: the number of cores. */
  maxThreads?: number;
  /**
   * Most jobs handed over at once (the scheduler enforces it); those beyond free
   * threads wait in the launcher, queued, so that a thread that finishes a job
   * starts the next one without waiting for the scheduler. Default: 128 × maxThreads.
   */
  maxConcurrent?: number;
  pollIntervalMs?: number;
  /** An idle thread ends after this many milliseconds (modules it loaded go with it). */
  idleTimeoutMs?: number;
  /** A fresh thread for every job: no module state shared between jobs, at the cost of a thread start per job. */
  isolate?: boolean;
  /**
   * Jobs of a task whose `run` took at most this many milliseconds on average go to
   * a thread several at a time (fewer hand-overs); 0: always one by one. Default 10.
   */
  batchTasksUnderMs?: number;
  /** One more thread while jobs wait behind a batch at work for this many milliseconds (default GROW_AFTER_MS). */
  growAfterMs?: number;
}

/** What process.json holds for a job run in a thread: the experiment process, and when it started. */
export interface ThreadsLaunchHandle extends LaunchHandle {
  pid: number;
  /** Start time of process `pid` (clock ticks since boot, from /proc), to tell it from a later process with the same pid. */
  processStart?: string;
}
