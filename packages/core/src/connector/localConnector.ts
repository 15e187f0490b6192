// The connector for this machine: processes through child_process (argv arrays,
// never a shell), files through fs (a job's files through the callback API: callbackFs.ts),
// locks through proper-lockfile.
// The scheduler calls it thousands of times per run, so each method does the
// least work it can: no extra stats, and in a workspace on a local disk a job's
// small files and directories made synchronously (localDisk.ts).
import { open, readdir, rm, rmdir, stat, symlink, utimes } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { existsSync, mkdirSync, writeFileSync, type WriteFileOptions } from 'node:fs';
import { BatonError } from '../errors.ts';
import { appendFile, mkdir, readFile, rename } from './callbackFs.ts';
import { isOnLocalDisk } from './localDisk.ts';
import { localFiles, writeFileBesideSync } from '../workspace/localFiles.ts';
import { ProcessProbe } from './processLiveness.ts';
import { ProcessSpawner } from './processSpawner.ts';
import { createLogger } from '../logger.ts';
import type {
  CommandResult,
  Connector,
  DirectoryEntry,
  LockOptions,
  ReleaseLock,
  RunCommandOptions,
  SpawnDetachedOptions,
} from '../types.ts';

const log = createLogger('baton:connector:local');

/**
 * An append of a string in Node's one native call (open, write, close), options given
 * once: appendFileSync copies its options into two new objects per call, to the same end.
 */
const APPEND_UTF8 = Object.freeze({ encoding: 'utf8', flag: 'a', mode: 0o666 }) satisfies WriteFileOptions;

/**
 * Locks (proper-lockfile) are in a module of their own, loaded on the first lock, so that
 * reading a workspace (`baton jobs list`, @baton/core/catalog) does not load them. The
 * package's entry (index.ts) imports it eagerly: see there why.
 */
let fileLock: Promise<typeof import('./fileLock.ts')> | undefined;

export class LocalConnector implements Connector {
  readonly kind = 'local';
  readonly hostname = hostname();
  readonly #spawner = new ProcessSpawner();
  /** Workspace folders on a local disk (with a trailing slash): their small files are written synchronously (localDisk.ts). */
  readonly #localDiskFolders: string[] = [];

  /**
   * Looks once at the file system of a workspace this connector serves: on a local disk,
   * a job's small files and directories under it are made synchronously (localDisk.ts).
   */
  noteWorkspace(folder: string): void {
    const prefix = folder.endsWith('/') ? folder : `${folder}/`;
    if (!this.#localDiskFolders.includes(prefix) && isOnLocalDisk(folder)) this.#localDiskFolders.push(prefix);
  }

  #onLocalDisk(path: string): boolean {
    for (const prefix of this.#localDiskFolders) if (path.startsWith(prefix)) return true;
    return false;
  }

  /** Ends the spawner shell; processes it started keep running. */
  async close(): Promise<void> {
    this.#spawner.close();
  }

  run(argv: readonly string[], options: RunCommandOptions = {}): Promise<CommandResult> {
    const [command, ...args] = checkArgv(argv);
    return new Promise((resolvePromise, reject) => {
      // node:child_process on first use: a process that spawns nothing (a job's own) never loads it.
      const child = process.getBuiltinModule('node:child_process').spawn(command, args, {
        cwd: options.cwd,
        env: options.env ? { ...process.env, ...options.env } : undefined,
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
      child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
      // A command that exits without reading its input closes the pipe: not our error.
      child.stdin.on('error', () => {});
      child.stdin.end(options.input);
      let timedOut = false;
      let settled = false;
      const finish = (code: number | null, signal: NodeJS.Signals | null) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolvePromise({
          code,
          signal,
          stdout: Buffer.concat(stdout).toString('utf8'),
          stderr: Buffer.concat(stderr).toString('utf8'),
        });
      };
      // Grandchildren may still hold the pipes open; a timed-out command is over once it exits.
      const finishAfterTimeout = () => {
        child.stdout.destroy();
        child.stderr.destroy();
        finish(child.exitCode, child.signalCode);
      };
      const timer =
        options.timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              timedOut = true;
              if (child.exitCode !== null || child.signalCode !== null) return finishAfterTimeout();
              // SIGKILL: a command that ignores SIGTERM must not hang the caller past its timeout.
              child.kill('SIGKILL');
            }, options.timeoutMs);
      child.once('error', (error) => {
        if (settled) return;
        // The kill of a timed-out command failed (EPERM: a setuid command such as oarsub now runs
        // as another user): it is still a timeout, not a command that could not start.
        if (timedOut && child.pid !== undefined) {
          log.debug('could not kill timed-out %o (pid %d): %s', argv, child.pid, error.message);
          stderr.push(Buffer.from(`\n(timed out; Baton could not kill it: ${error.message})\n`));
          return finishAfterTimeout();
        }
        settled = true;
        clearTimeout(timer);
        reject(spawnError(error, command, options.cwd));
      });
      child.once('exit', () => {
        if (timedOut) finishAfterTimeout();
      });
      child.once('close', (code, signal) => finish(code, signal));
    });
  }

  async spawnDetached(
    argv: readonly string[],
    options: SpawnDetachedOptions,
  ): Promise<{ pid: number; exited: Promise<boolean> }> {
    const [command, ...args] = checkArgv(argv);
    const request = { argv, cwd: options.cwd, stdoutPath: options.stdoutPath, stderrPath: options.stderrPath };
    if (!options.env && ProcessSpawner.canCarry(request)) {
      try {
        const started = await this.#spawner.spawn(request);
        log.debug('spawned %d: %o', started.pid, argv);
        return started;
      } catch (error) {
        throw spawnError(error as Error, command, options.cwd);
      }
    }
    // Append mode: a retried job adds to the output of its earlier attempts.
    const files: FileHandle[] = [];
    try {
      files.push(await open(options.stdoutPath, 'a'));
      files.push(options.stderrPath === options.stdoutPath ? files[0]! : await open(options.stderrPath, 'a'));
      const child = process.getBuiltinModule('node:child_process').spawn(command, args, {
        cwd: options.cwd,
        env: options.env ? { ...process.env, ...options.env } : undefined,
        // Own process group (pgid = pid), so the job can be signalled as a whole and outlives us.
        detached: true,
        stdio: ['ignore', files[0]!.fd, files[1]!.fd],
      });
      const exited = new Promise<boolean>((settle) => {
        child.once('exit', () => settle(true));
        child.once('error', () => settle(true));
      });
      await new Promise<void>((started, failed) => {
        child.once('spawn', started);
        child.once('error', (error) => failed(spawnError(error, command, options.cwd)));
      });
      // Let the caller exit while the job runs.
      child.unref();
      log.debug('spawned %d: %o', child.pid, argv);
      return { pid: child.pid!, exited };
    } finally {
      // The child holds its own copies of the descriptors.
      await Promise.all([...new Set(files)].map((file) => file.close()));
    }
  }

  isProcessAlive(pid: number, commandLineIncludes?: string): Promise<boolean> {
    return localFiles.isProcessAlive(pid, commandLineIncludes);
  }

  isProcessGroupAlive(pgid: number): Promise<boolean> {
    return new ProcessProbe().isProcessGroupAlive(pgid);
  }

  async killProcessGroup(pgid: number, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    // -0 and -1 would signal our own group or every process we may signal.
    if (!Number.isInteger(pgid) || pgid <= 1) {
      throw new BatonError(`Refusing to signal process group ${pgid}: not a job's process group`, {
        where: 'LocalConnector.killProcessGroup',
        hint: 'pass the pid returned by spawnDetached (a detached job leads its own group)',
      });
    }
    try {
      process.kill(-pgid, signal);
    } catch (error) {
      if (errorCode(error) === 'ESRCH') return; // already gone
      throw new BatonError(`Could not send ${signal} to process group ${pgid}: ${(error as Error).message}`, {
        where: `process group ${pgid} on ${this.hostname}`,
        hint: 'the job may belong to another user; stop it as that user',
        cause: error,
      });
    }
  }

  readFile(path: string): Promise<string> {
    return readFile(path, 'utf8');
  }

  readFileIfExists(path: string): Promise<string | undefined> {
    return readFileOrUndefined(path);
  }

  async writeFile(path: string, data: string, options: { mode?: number } = {}): Promise<void> {
    if (this.#onLocalDisk(path)) return writeFileBesideSync(path, data, options.mode);
    return localFiles.writeFile(path, data, options);
  }

  async appendFile(path: string, data: string): Promise<void> {
    if (this.#onLocalDisk(path)) return writeFileSync(path, data, APPEND_UTF8);
    return appendFile(path, data);
  }

  async mkdir(path: string, options: { exclusive?: boolean } = {}): Promise<void> {
    if (this.#onLocalDisk(path)) mkdirSync(path, { recursive: !options.exclusive });
    else await mkdir(path, { recursive: !options.exclusive });
  }

  rename(from: string, to: string): Promise<void> {
    return rename(from, to);
  }

  async exists(path: string): Promise<boolean> {
    // One stat, done in place: through the thread pool it would wait behind
    // every queued write, and marker checks sit on the path from one job's
    // end to the next job's start.
    return existsSync(path);
  }

  async modifiedAgo(path: string): Promise<number | undefined> {
    try {
      return Date.now() - (await stat(path)).mtimeMs;
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  async setModifiedAgo(path: string, agoMs: number): Promise<void> {
    const date = new Date(Date.now() - agoMs);
    await utimes(path, date, date);
  }

  remove(path: string): Promise<void> {
    return rm(path, { recursive: true, force: true });
  }

  rmdir(path: string): Promise<void> {
    return rmdir(path);
  }

  readdir(path: string): Promise<string[]> {
    return readdir(path);
  }

  listDirectory(path: string): Promise<DirectoryEntry[]> {
    return localFiles.listDirectory(path);
  }

  symlink(target: string, path: string): Promise<void> {
    return symlink(target, path);
  }

  readlink(path: string): Promise<string | undefined> {
    return localFiles.readlink(path);
  }

  async lock(path: string, options: LockOptions = {}): Promise<ReleaseLock> {
    const { lockFile } = await (fileLock ??= import('./fileLock.ts'));
    return lockFile(path, options);
  }

  resolve(path: string): string {
    // Job directories are absolute and normalized already: taken as they are, without
    // the copies path.resolve makes (it is asked twice per job handed to a launcher).
    return path.startsWith('/') && !NOT_NORMALIZED.test(path) ? path : resolve(path);
  }
}

/** A segment `.` or `..`, an empty segment (`//`), or a trailing slash. */
const NOT_NORMALIZED = /\/\.{1,2}(?:\/|$)|\/\/|.\/$/;

function checkArgv(argv: readonly string[]): [string, ...string[]] {
  if (argv.length === 0 || !argv[0]) {
    throw new BatonError('Cannot run an empty command', {
      where: 'LocalConnector',
      hint: 'pass the program and its arguments as an array, e.g. ["echo", "hello"]',
    });
  }
  return argv as [string, ...string[]];
}

function spawnError(error: Error, command: string, cwd: string | undefined): BatonError {
  const code = errorCode(error);
  const hint =
    code === 'ENOENT'
      ? `check that "${command}" is installed and on PATH${cwd ? `, and that the directory ${cwd} exists` : ''}`
      : code === 'EACCES'
        ? `make "${command}" executable (chmod +x)`
        : 'check the command and its working directory';
  return new BatonError(`Could not start "${command}": ${error.message}`, {
    where: cwd ? `working directory ${cwd}` : 'LocalConnector',
    hint,
    cause: error,
  });
}



async function readFileOrUndefined(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
}

function isMissing(error: unknown): boolean {
  const code = errorCode(error);
  return code === 'ENOENT' || code === 'ENOTDIR';
}

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}
