// A counted resource shared through the workspace: every process that uses the
// workspace (on any host that mounts it) sees the same holders, one file each,
// and changes them only under a lock that works on NFS. A share lives until its
// job writes a marker or, on a host we can look at, its holder's processes are
// all gone. Every file goes through the workspace's connector (the workspace may
// live on another host); the holders' processes are looked at where they run.
import { hostname } from 'node:os';
import { posix } from 'node:path';
import { BatonError, UserInputError } from '../errors.ts';
import { JOB_FILES } from '../job/jobFiles.ts';
import { createLogger } from '../logger.ts';
import type { Connector, Token, TokenHolder } from '../types.ts';
import { LocalConnector } from '../connector/localConnector.ts';
import { ProcessProbe } from '../connector/processLiveness.ts';

const { join } = posix;

export interface CounterTokenOptions {
  /** Token name, e.g. `gpu`; also its folder under `<workspace>/tokens/`. */
  name: string;
  /** Units the token holds in all. */
  total: number;
  /** Absolute path of the workspace, as the connector's host sees it. */
  workspacePath: string;
  /** Reaches the workspace's files (the workspace's connector); default: this machine's. */
  connector?: Connector;
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
/** How long to keep trying for the lock before reporting it as stuck. */
const LOCK_WAIT_MS = 5_000;
const SAFE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

export class CounterToken implements Token {
  readonly name: string;
  readonly total: number;
  /** `<workspace>/tokens/<name>` */
  readonly directory: string;
  readonly #holdersDirectory: string;
  readonly #connector: Connector;
  /** This machine, whose processes the token can look at without its connector. */
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
    this.#connector = options.connector ?? localConnector();
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
      // Atomic: `available()` reads holders without the lock.
      await this.#connector.writeFile(holderPath, `${JSON.stringify(record, null, 2)}\n`);
      logger.debug('%s: %d unit(s) to %s (%d/%d used)', this.name, count, holder.hash, used + count, this.total);
      return true;
    });
  }

  async release(holder: TokenHolder): Promise<void> {
    const holderPath = this.#holderPath(holder.hash);
    await this.#withLock(() => this.#connector.remove(holderPath));
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
    this.#ready ??= this.#connector.mkdir(this.#holdersDirectory);
    await this.#ready;
    // The lock is the directory `<token>/holders.lock`, refreshed while held, taken over once stale.
    const release = await this.#connector.lock(this.#holdersDirectory, { staleMs: LOCK_STALE_MS, waitMs: LOCK_WAIT_MS });
    try {
      return await action();
    } finally {
      await release().catch((error: unknown) => logger.warn('token "%s": could not release its lock: %O', this.name, error));
    }
  }

  async #liveHolders(options: { dropDead: boolean }): Promise<Array<{ hash: string; record: HolderRecord }>> {
    const names = await this.#connector.readdir(this.#holdersDirectory).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [];
      throw error;
    });
    const files = names.filter((file) => file.endsWith('.json') && !file.startsWith('.'));
    const probe = new ProcessProbe();
    const holders = await Promise.all(
      files.map(async (file) => {
        const path = join(this.#holdersDirectory, file);
        const hash = file.slice(0, -'.json'.length);
        const record = await readHolder(this.#connector, path);
        if (record === 'missing') return undefined;
        const live = record !== 'corrupt' && (await this.#isLive(record, probe));
        if (!live) {
          if (record === 'corrupt') logger.warn('token "%s": ignoring unreadable holder file %s', this.name, path);
          if (options.dropDead) await this.#connector.remove(path);
          return undefined;
        }
        return { hash, record };
      }),
    );
    return holders.filter((holder) => holder !== undefined);
  }

  /**
   * A holder is dead once its job wrote a marker (on any host: the marker is all
   * another host can see), or when its processes are gone on a host we can look
   * at (this machine, or the connector's): its pid, and with a process group every
   * process of that group, so that killing only a job's shell does not free the
   * share while the command it started runs on. A holder on any other host lives
   * until its marker: its pid means nothing here.
   */
  async #isLive(record: HolderRecord, probe: ProcessProbe): Promise<boolean> {
    const connector = this.#connector;
    const [done, failed] = await Promise.all([
      connector.exists(join(record.directory, JOB_FILES.done)),
      connector.exists(join(record.directory, JOB_FILES.failed)),
    ]);
    if (done || failed) return false;
    // This machine first: one probe reads its process table once for all the holders.
    const processes = record.host === this.#host ? probe : record.host === connector.hostname ? connector : undefined;
    if (processes === undefined) return true;
    if (await processes.isProcessAlive(record.pid)) return true;
    // The pid alone also covers the moment after a launch when the job does not lead its group yet.
    return record.processGroup !== undefined && (await processes.isProcessGroupAlive(record.processGroup));
  }
}

async function readHolder(connector: Connector, path: string): Promise<HolderRecord | 'missing' | 'corrupt'> {
  const text = await connector.readFileIfExists(path);
  if (text === undefined) return 'missing';
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

/** This machine's connector, for tokens made without one (one per process: it holds nothing until used). */
let local: LocalConnector | undefined;

function localConnector(): LocalConnector {
  return (local ??= new LocalConnector());
}

function sum(values: number[]): number {
  return values.reduce((total, value) => total + value, 0);
}
