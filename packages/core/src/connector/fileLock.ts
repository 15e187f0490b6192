// File locks on any path, for processes on this host or sharing a file system: a
// `<path>.lock` directory made and refreshed by proper-lockfile, taken over once stale.
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type lockfileModule from 'proper-lockfile';
import { BatonError } from '../errors.ts';
import { createLogger } from '../logger.ts';
import type { LockOptions, ReleaseLock } from '../types.ts';
import { lazyModule } from '../util/lazyModule.ts';

/** proper-lockfile (and graceful-fs, which it brings), required at the first lock. */
const loadLockfile = lazyModule<typeof lockfileModule>('proper-lockfile');

const log = createLogger('baton:connector:local');

/** A lock nobody refreshed for this long is taken over (proper-lockfile's floor is 2 s). */
const DEFAULT_LOCK_STALE_MS = 10_000;
const DEFAULT_LOCK_WAIT_MS = 10_000;

export async function lockFile(path: string, options: LockOptions = {}): Promise<ReleaseLock> {
  const waitMs = options.waitMs ?? DEFAULT_LOCK_WAIT_MS;
  const lockfile = loadLockfile();
  const lockOptions: lockfileModule.LockOptions = {
    lockfilePath: `${path}.lock`,
    // The locked path need not exist; the lock is the `.lock` directory beside it.
    realpath: false,
    stale: Math.max(options.staleMs ?? DEFAULT_LOCK_STALE_MS, 2000),
    retries: retriesFor(waitMs),
    // The default throws from a timer and crashes the process; a lost lock is worth a warning.
    onCompromised: (error) => log.warn('lock %s was compromised: %s', path, error.message),
  };
  let unlock: () => Promise<void>;
  try {
    // Most locks are free: try once before building a retry schedule (which
    // for a long wait is an array of a thousand timeouts, per call).
    unlock = await lockfile.lock(path, { ...lockOptions, retries: 0 }).catch((error: unknown) => {
      if (errorCode(error) !== 'ELOCKED' || waitMs <= 0) throw error;
      return lockfile.lock(path, lockOptions);
    });
  } catch (error) {
    if (!isMissing(error)) throw lockError(error, path, waitMs);
    // First lock in a new directory: create it, then try once more.
    await mkdir(dirname(path), { recursive: true });
    try {
      unlock = await lockfile.lock(path, lockOptions);
    } catch (retryError) {
      throw lockError(retryError, path, waitMs);
    }
  }
  let released: Promise<void> | undefined;
  return () => {
    released ??= unlock().catch((error) => {
      // Already released (e.g. after being compromised): nothing left to do.
      if (errorCode(error) !== 'ERELEASED') throw error;
    });
    return released;
  };
  }

function lockError(error: unknown, path: string, waitMs: number): unknown {
  if (errorCode(error) !== 'ELOCKED') return error;
  return new BatonError(`Could not lock ${path}: another process holds it (waited ${waitMs} ms)`, {
    where: `${path}.lock`,
    hint: `wait for the other Baton process to finish; if none is running, remove ${path}.lock`,
    cause: error,
  });
}

/** proper-lockfile retries with back-off; enough retries that their delays add up to `waitMs`. */
const retrySchedules = new Map<number, lockfileModule.LockOptions['retries']>();

function retriesFor(waitMs: number): lockfileModule.LockOptions['retries'] {
  if (waitMs <= 0) return 0;
  const known = retrySchedules.get(waitMs);
  if (known !== undefined) return known;
  const minTimeout = 5;
  const maxTimeout = 100;
  const factor = 1.5;
  let retries = 0;
  let waited = 0;
  while (waited < waitMs) {
    waited += Math.min(minTimeout * factor ** retries, maxTimeout);
    retries += 1;
  }
  const schedule = { retries, minTimeout, maxTimeout, factor };
  retrySchedules.set(waitMs, schedule);
  return schedule;
}

function isMissing(error: unknown): boolean {
  const code = errorCode(error);
  return code === 'ENOENT' || code === 'ENOTDIR';
}

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}
