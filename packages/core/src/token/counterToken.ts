// A counted resource shared through the workspace: every process that uses the
// workspace (on any host that mounts it) sees the same holders, one file each,
// and changes them only under a lock that works on NFS. A share lives until its
// job writes a marker or, on this host, its holder's processes are all gone.
import { randomBytes } from 'node:crypto';
import { access, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
// Imported eagerly on purpose: through signal-exit it listens for signals, and it must be
// listening before the user's own handlers (loaded later, it could end the process on a
// SIGINT a `process.once` handler had taken care of).
import lockfile from 'proper-lockfile';
import { BatonError, UserInputError } from '../errors.ts';
import { JOB_FILES } from '../job/jobFiles.ts';
import { createLogger } from '../logger.ts';
import type { Token, TokenHolder } from '../types.ts';
import { ProcessProbe } from '../connector/processLiveness.ts';

export interface CounterTokenOptions {
  /** Token name, e.g. `gpu`; also its folder under `<workspace>/tokens/`. */
  name: string;
  /** Units the token holds in all. */
  total: number;
  /** Absolute path of the workspace. */
  workspacePath: string;
}

/** What a holder file (`holders/<hash>.json`) holds. */
export interface HolderRecord {
  count: number;
  directory: string;
  pid: number;
  /** The job's process group on `host`; absent in files written before it existed (and before launch). */
  processGroup?: number;
  host: string;
  /** ISO 8601. */
  acquiredAt: string;
}

/** `<workspace>/tokens/<name>` */
export function tokenDirectory(workspacePath: string, name: string): string {
  return join(workspacePath, 'tokens', name);
}

const logger = createLogger('baton:token');

/** The lock is refreshed while held; a holder that stops refreshing for this long is dead. */
const LOCK_STALE_MS = 5_000;
const LOCK_UPDATE_MS = 1_000;
/** How long to keep trying for the lock before reporting it as stuck. */
const LOCK_WAIT_MS = 5_000;
const SAFE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

export class CounterToken implements Token {
  readonly name: string;
  readonly total: number;
  /** `<workspace>/tokens/<name>` */
  readonly directory: string;
  readonly #holdersDirectory: string;
  readonly #lockPath: string;
  readonly #host = hostname();
  #ready: Promise<void> | undefined;

  constructor(options: CounterTokenOptions) {
    const { name, total, workspacePath } = options;
    if (!SAFE_NAME.test(name)) {
      throw new UserInputError(`Token name "${name}" cannot be used as a folder name.`, {
        where: `token "${name}"`,
        hint: 'Use letters, digits, "_", "-" and "." only, e.g. "gpu".',
      });
    }
    if (!Number.isInteger(total) || total < 0) {
      throw new UserInputError(`Token "${name}" has total ${total}; a total must be a whole number, 0 or more.`, {
        where: `token "${name}"`,
        hint: 'Set the token to the number of units it shares, e.g. `gpu: 2`.',
      });
    }
    this.name = name;
    this.total = total;
    this.directory = tokenDirectory(workspacePath, name);
    this.#holdersDirectory = join(this.directory, 'holders');
    this.#lockPath = join(this.directory, 'lock');
  }

  async tryAcquire(holder: TokenHolder, count: number): Promise<boolean> {
    this.#checkCount(count);
    this.#checkProcessGroup(holder);
    const holderPath = this.#holderPath(holder.hash);
    return this.#withLock(async () => {
      const holders = await this.#liveHolders({ dropDead: true });
      // A holder that acquires again (re-attach, or its pid is now known) replaces its own share.
      const used = sum(holders.filter((h) => h.hash !== holder.hash).map((h) => h.record.count));
      if (this.total - used < count) return false;
      const record: HolderRecord = {
        count,
        directory: holder.directory,
        pid: holder.pid,
        ...(holder.processGroup === undefined ? {} : { processGroup: holder.processGroup }),
        host: holder.host,
        acquiredAt: new Date().toISOString(),
      };
      await writeFileAtomically(holderPath, `${JSON.stringify(record, null, 2)}\n`);
      logger.debug('%s: %d unit(s) to %s (%d/%d used)', this.name, count, holder.hash, used + count, this.total);
      return true;
    });
  }

  async release(holder: TokenHolder): Promise<void> {
    const holderPath = this.#holderPath(holder.hash);
    await this.#withLock(() => rm(holderPath, { force: true }));
    logger.debug('%s: released by %s', this.name, holder.hash);
  }

  async available(): Promise<number> {
    // Read-only: holder files are written atomically, so no lock is needed to count them.
    const holders = await this.#liveHolders({ dropDead: false });
    return Math.max(0, this.total - sum(holders.map((h) => h.record.count)));
  }

  /** The holders that still hold a share, with their hash. */
  async holders(): Promise<Array<{ hash: string; record: HolderRecord }>> {
    return this.#liveHolders({ dropDead: false });
  }

  #checkCount(count: number): void {
    if (!Number.isInteger(count) || count < 1) {
      throw new UserInputError(`A job asked for ${count} unit(s) of token "${this.name}"; it must ask for a whole number, 1 or more.`, {
        where: `token "${this.name}"`,
        hint: 'Ask for a positive whole number of units, e.g. 1.',
      });
    }
    if (count > this.total) {
      throw new UserInputError(
        `A job asks for ${count} unit(s) of token "${this.name}", which only has ${this.total}: it could never run.`,
        {
          where: `token "${this.name}"`,
          hint: `Ask for at most ${this.total}, or raise the token's total in the settings file.`,
        },
      );
    }
  }

  #checkProcessGroup(holder: TokenHolder): void {
    const { processGroup } = holder;
    if (processGroup === undefined || (Number.isInteger(processGroup) && processGroup > 1)) return;
    throw new BatonError(`Token holder "${holder.hash}" names process group ${processGroup}, which cannot be a job's.`, {
      where: `token "${this.name}"`,
      hint: 'Pass the pid of a process that leads its own group (a detached job), or leave processGroup out; this is a bug in the caller.',
    });
  }

  #holderPath(hash: string): string {
    if (!SAFE_NAME.test(hash)) {
      throw new BatonError(`Token holder "${hash}" cannot be used as a file name.`, {
        where: `token "${this.name}"`,
        hint: 'A holder is identified by its job hash (hexadecimal); this is a bug in the caller.',
      });
    }
    return join(this.#holdersDirectory, `${hash}.json`);
  }

  async #withLock<T>(action: () => Promise<T>): Promise<T> {
    this.#ready ??= mkdir(this.#holdersDirectory, { recursive: true }).then(() => undefined);
    await this.#ready;
    const release = await this.#lock();
    try {
      return await action();
    } finally {
      await release().catch((error: unknown) => logger.warn('token "%s": could not release its lock: %O', this.name, error));
    }
  }

  async #lock(): Promise<() => Promise<void>> {
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (;;) {
      try {
        return await lockfile.lock(this.directory, {
          lockfilePath: this.#lockPath,
          realpath: false,
          stale: LOCK_STALE_MS,
          update: LOCK_UPDATE_MS,
          retries: 0,
          // The default throws from a timer; a lost lock is reported, the next call takes it again.
          onCompromised: (error) => logger.warn('token "%s": its lock was taken over: %s', this.name, error.message),
        });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw error;
        if (Date.now() >= deadline) {
          throw new BatonError(`Could not lock token "${this.name}" within ${LOCK_WAIT_MS / 1000} s.`, {
            where: this.#lockPath,
            hint: 'Another process holds the lock; if no Baton process is running, remove that directory.',
            cause: error,
          });
        }
        // Jittered waits so that contending processes do not retry in step.
        await sleep(5 + Math.random() * 25);
      }
    }
  }

  async #liveHolders(options: { dropDead: boolean }): Promise<Array<{ hash: string; record: HolderRecord }>> {
    const names = await readdir(this.#holdersDirectory).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [];
      throw error;
    });
    const files = names.filter((file) => file.endsWith('.json') && !file.startsWith('.'));
    const probe = new ProcessProbe();
    const holders = await Promise.all(
      files.map(async (file) => {
        const path = join(this.#holdersDirectory, file);
        const hash = file.slice(0, -'.json'.length);
        const record = await readHolder(path);
        if (record === 'missing') return undefined;
        const live = record !== 'corrupt' && (await this.#isLive(record, probe));
        if (!live) {
          if (record === 'corrupt') logger.warn('token "%s": ignoring unreadable holder file %s', this.name, path);
          if (options.dropDead) await rm(path, { force: true });
          return undefined;
        }
        return { hash, record };
      }),
    );
    return holders.filter((holder) => holder !== undefined);
  }

  /**
   * A holder is dead once its job wrote a marker (on any host: the marker is all
   * another host can see), or, on this host, when its processes are gone: its pid,
   * and with a process group every process of that group, so that killing only a
   * job's shell does not free the share while the command it started runs on.
   */
  async #isLive(record: HolderRecord, probe: ProcessProbe): Promise<boolean> {
    const [done, failed] = await Promise.all([
      exists(join(record.directory, JOB_FILES.done)),
      exists(join(record.directory, JOB_FILES.failed)),
    ]);
    if (done || failed) return false;
    if (record.host !== this.#host) return true;
    if (await probe.isProcessAlive(record.pid)) return true;
    // The pid alone also covers the moment after a launch when the job does not lead its group yet.
    return record.processGroup !== undefined && (await probe.isProcessGroupAlive(record.processGroup));
  }
}

async function readHolder(path: string): Promise<HolderRecord | 'missing' | 'corrupt'> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw error;
  }
  try {
    const record = JSON.parse(text) as Partial<HolderRecord>;
    const valid =
      typeof record.count === 'number' &&
      typeof record.directory === 'string' &&
      typeof record.pid === 'number' &&
      typeof record.host === 'string' &&
      (record.processGroup === undefined || Number.isInteger(record.processGroup));
    return valid ? (record as HolderRecord) : 'corrupt';
  } catch {
    return 'corrupt';
  }
}

async function writeFileAtomically(path: string, data: string): Promise<void> {
  const temporary = join(dirname(path), `.${randomBytes(6).toString('hex')}.tmp`);
  await writeFile(temporary, data);
  await rename(temporary, path);
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

function sum(values: number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
