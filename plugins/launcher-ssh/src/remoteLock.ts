// A lock on a remote host: the directory `<path>.lock`, made with one SFTP mkdir
// (atomic, NFS included), its mtime refreshed while held, taken over once nobody
// refreshed it for `staleMs`. The same convention as proper-lockfile's, which the
// local connector uses: a Baton process on the host itself and one reaching it
// over SSH exclude each other. Ages are measured on the host's clock (the lock
// directory's mtime against a fresh one of ours), so a skewed laptop clock does
// not make a live lock look stale.
import { posix } from 'node:path';
import { BatonError, type LockOptions, type LoggerLike, type ReleaseLock } from '@baton/core';
import type { SFTPWrapper } from 'ssh2';
import { isMissing, sftpCalls } from './sftpFiles.ts';

const DEFAULT_STALE_MS = 10_000;
const DEFAULT_WAIT_MS = 10_000;
const RETRY_MIN_MS = 50;
const RETRY_MAX_MS = 500;

export interface RemoteLockOptions {
  path: string;
  options: LockOptions;
  /** Where, for messages. */
  host: string;
  sftp: <T>(work: (sftp: SFTPWrapper) => Promise<T>) => Promise<T>;
  mkdirParent: (path: string) => Promise<void>;
  logger: LoggerLike;
}

export async function takeRemoteLock({ path, options, host, sftp, mkdirParent, logger }: RemoteLockOptions): Promise<ReleaseLock> {
  const lockPath = `${path}.lock`;
  const staleMs = Math.max(options.staleMs ?? DEFAULT_STALE_MS, 2000);
  const waitMs = options.waitMs ?? DEFAULT_WAIT_MS;
  const deadline = Date.now() + waitMs;
  let delay = RETRY_MIN_MS;
  for (;;) {
    const taken = await sftp(async (session) => {
      try {
        await sftpCalls.mkdir(session, lockPath);
        return true;
      } catch (error) {
        const holder = await sftpCalls.stat(session, lockPath).catch((statError: unknown) => (isMissing(statError) ? undefined : Promise.reject(statError)));
        if (!holder) {
          // Nobody holds it: the parent folder is missing (a first lock), or it was just released.
          if (!(await sftpCalls.stat(session, posix.dirname(lockPath)).then(() => true, () => false))) return 'no-parent';
          return false;
        }
        if (await isStale(session, lockPath, holder.mtime, staleMs)) {
          logger.warn('taking over the stale lock %s on %s (not refreshed for %d ms)', lockPath, host, staleMs);
          await sftpCalls.rmdir(session, lockPath).catch(() => undefined);
          return false;
        }
        if (error instanceof Error && !/failure|exist/i.test(error.message)) throw error;
        return 'held';
      }
    });
    if (taken === true) break;
    if (taken === 'no-parent') {
      await mkdirParent(posix.dirname(lockPath));
      continue;
    }
    if (taken === 'held') {
      if (Date.now() >= deadline) {
        throw new BatonError(`Could not lock ${path} on ${host}: another process holds it (waited ${waitMs} ms)`, {
          where: lockPath,
          hint: `wait for the other Baton process to finish; if none is running, remove ${lockPath} on the host`,
        });
      }
      await sleep(Math.min(delay, Math.max(0, deadline - Date.now())));
      delay = Math.min(delay * 1.5, RETRY_MAX_MS);
    }
  }
  // Keep it fresh while held.
  const refresh = setInterval(() => {
    void sftp((session) => sftpCalls.utimes(session, lockPath, new Date())).catch((error: unknown) => logger.warn('could not refresh the lock %s on %s: %s', lockPath, host, (error as Error).message));
  }, staleMs / 2);
  refresh.unref();
  let released: Promise<void> | undefined;
  return () => {
    released ??= (async () => {
      clearInterval(refresh);
      await sftp((session) => sftpCalls.rmdir(session, lockPath)).catch((error: unknown) => {
        if (!isMissing(error)) throw error;
      });
    })();
    return released;
  };
}

/** The host's clock: a probe directory made now beside the lock tells what "now" is there. */
async function isStale(session: SFTPWrapper, lockPath: string, mtimeSeconds: number, staleMs: number): Promise<boolean> {
  const probe = `${lockPath}.probe-${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    await sftpCalls.mkdir(session, probe);
    const now = (await sftpCalls.stat(session, probe)).mtime;
    return (now - mtimeSeconds) * 1000 > staleMs;
  } catch {
    return false;
  } finally {
    await sftpCalls.rmdir(session, probe).catch(() => undefined);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
