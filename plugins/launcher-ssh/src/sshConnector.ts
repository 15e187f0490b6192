// The `ssh` connector: a remote host reached over one multiplexed SSH connection
// (ssh2). Commands run as argv quoted for the remote POSIX shell; files go over
// SFTP (atomic writes: a temporary file renamed over the target); locks are
// `<path>.lock` directories, as the local connector's (proper-lockfile) are, so
// processes on the host and on other machines exclude each other; detached
// processes get their own session on the host (setsid), pid = process group.
import { posix } from 'node:path';
import { BatonError, createLogger, isTransientError, type CommandResult, type Connector, type DirectoryEntry, type LockOptions, type LoggerLike, type ReleaseLock, type RunCommandOptions, type SpawnDetachedOptions } from '@baton/core';
import { resolveSshHost, type SshHost } from './sshConfigFile.ts';
import { SshConnection, type ConnectionStats } from './sshConnection.ts';
import { detachedCommand, PID_PREFIX, remoteCommand } from './remoteCommand.ts';
import { modifiedAgoOnHost, setModifiedAgoOnHost } from './remoteFileTimes.ts';
import { takeRemoteLock } from './remoteLock.ts';
import { RemoteProcesses } from './remoteProcesses.ts';
import { isMissing, sftpCalls } from './sftpFiles.ts';
import type { SshConnectorSettings } from './sshSettings.ts';

export interface SshConnectorOptions {
  /** Environment to read HOME, USER and SSH_AUTH_SOCK from; default process.env. */
  env?: NodeJS.ProcessEnv;
  logger?: LoggerLike;
}

const ENVIRONMENT_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Answer of a channel the server would not open (OpenSSH past MaxSessions). */
const CHANNEL_REFUSED = /open failed|administratively prohibited|resource shortage/i;

export class SshConnector implements Connector {
  readonly kind = 'ssh';
  readonly #connection: SshConnection;
  readonly #settings: SshConnectorSettings;
  readonly #log: LoggerLike;
  #hostname: string;
  #home = '/';
  readonly #processes = new RemoteProcesses((argv) => this.run(argv, { timeoutMs: 30_000 }));

  private constructor(host: SshHost, settings: SshConnectorSettings, options: Required<SshConnectorOptions>) {
    this.#settings = settings;
    this.#log = options.logger;
    this.#hostname = host.hostname;
    this.#connection = new SshConnection({
      host,
      settings,
      env: options.env,
      logger: options.logger,
    });
  }

  /** Connects (host key checked, user authenticated) and learns the host's name and the user's home. */
  static async connect(settings: SshConnectorSettings, options: SshConnectorOptions = {}): Promise<SshConnector> {
    const env = options.env ?? process.env;
    const logger = options.logger ?? createLogger('baton:connector:ssh');
    const connector = new SshConnector(resolveSshHost(settings, { env }), settings, { env, logger });
    try {
      const [home, name] = await Promise.all([connector.#connection.withSftp((sftp) => sftpCalls.realpath(sftp, '.')), connector.run(['uname', '-n'])]);
      connector.#home = home;
      if (name.code === 0 && name.stdout.trim() !== '') connector.#hostname = name.stdout.trim();
    } catch (error) {
      await connector.close();
      throw error;
    }
    return connector;
  }

  /** The host's own name (`uname -n`), as jobs there see it. */
  get hostname(): string {
    return this.#hostname;
  }

  get stats(): ConnectionStats {
    return this.#connection.stats;
  }

  /** Where the connector goes, for messages: user@host:port. */
  get description(): string {
    return this.#connection.description;
  }

  async run(argv: readonly string[], options: RunCommandOptions = {}): Promise<CommandResult> {
    checkArgv(argv);
    checkEnvironment(options.env);
    const command = remoteCommand(argv, { ...(options.cwd === undefined ? {} : { cwd: this.resolve(options.cwd) }), ...(options.env ? { env: options.env } : {}) });
    const timeoutMs = options.timeoutMs ?? this.#settings.commandTimeoutMs;
    for (let refusals = 0; ; refusals++) {
      try {
        return await this.#connection.withChannel((client, lost) => this.#exec(client, command, argv, timeoutMs, options.input, lost));
      } catch (error) {
        if (!(error instanceof ChannelRefused)) throw error;
        if (refusals >= MAX_REFUSALS) {
          throw new BatonError(`${this.description} refused ${refusals + 1} times to open a channel for ${argv[0]}: ${error.message}`, {
            where: 'ssh connector',
            hint: 'lower maxSessions on this connector to the server’s MaxSessions (OpenSSH: 10), or raise MaxSessions in its sshd_config',
          });
        }
        this.#connection.channelRefused(error.openAtRefusal);
        // Passing, most often: the server frees a closed channel's slot a moment late.
        await new Promise((resolve) => setTimeout(resolve, Math.min(20 * 2 ** refusals, 500)));
      }
    }
  }

  #exec(client: import('ssh2').Client, command: string, argv: readonly string[], timeoutMs: number, input: string | undefined, lost: Promise<never>): Promise<CommandResult> {
    return new Promise<CommandResult>((resolve, reject) => {
      client.exec(command, (error, stream) => {
        if (error) {
          reject(CHANNEL_REFUSED.test(error.message) ? new ChannelRefused(error.message, this.#connection.openChannels) : error);
          return;
        }
        const stdout: Buffer[] = [];
        const stderr: Buffer[] = [];
        let exit: { code: number | null; signal: string | null } | undefined;
        let timedOut = false;
        const timer = setTimeout(() => {
          timedOut = true;
          const pid = remotePid(Buffer.concat(stdout).toString('utf8'));
          this.#log.warn('%s on %s: no end after %d ms; killing it', argv[0], this.description, timeoutMs);
          // Kill it on the host (its pid came first on its stdout), then give up on the channel.
          const kill = pid ? this.run(['/bin/sh', '-c', 'kill -s KILL "$1"', 'sh', String(pid)], { timeoutMs: 10_000 }).catch(() => undefined) : Promise.resolve();
          void kill.finally(() => {
            stream.close();
            finish({ code: null, signal: 'SIGKILL' });
          });
        }, timeoutMs);
        const finish = (status: { code: number | null; signal: string | null }) => {
          clearTimeout(timer);
          resolve({ ...status, stdout: stripPidLine(Buffer.concat(stdout).toString('utf8')), stderr: Buffer.concat(stderr).toString('utf8') });
        };
        lost.catch((lostError: unknown) => {
          clearTimeout(timer);
          reject(new BatonError(`${(lostError as Error).message}, while running ${argv[0]}`, { where: 'ssh connector', hint: (lostError as BatonError).hint ?? '', cause: lostError }));
        });
        stream.on('data', (chunk: Buffer) => stdout.push(chunk));
        stream.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
        stream.on('exit', (code: number | null, signal?: string) => {
          exit = { code: signal ? null : code, signal: signal ? `SIG${signal}` : null };
        });
        stream.on('close', () => {
          if (timedOut) return;
          if (exit) {
            finish(exit);
            return;
          }
          // Closed without an exit status: the connection is going down (then `lost`
          // rejects first), or the server ended the channel.
          setTimeout(() => {
            clearTimeout(timer);
            reject(new BatonError(`${argv[0]} on ${this.description} ended without an exit status`, { where: 'ssh connector', hint: 'the SSH server closed the channel; see its log' }));
          }, 2000).unref();
        });
        if (input !== undefined) stream.end(input);
        else stream.end();
      });
    });
  }

  async spawnDetached(argv: readonly string[], options: SpawnDetachedOptions): Promise<{ pid: number }> {
    checkArgv(argv);
    checkEnvironment(options.env);
    const cwd = this.resolve(options.cwd);
    const token = `${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
    const script = detachedCommand(argv, {
      cwd,
      stdoutPath: this.resolve(options.stdoutPath),
      stderrPath: this.resolve(options.stderrPath),
      ...(options.env ? { env: options.env } : {}),
      token,
    });
    // A connection lost before the answer: the same start again (same token) answers
    // with the process the first one started, if it did, instead of a second one.
    let result: CommandResult;
    for (let attempt = 1; ; attempt++) {
      try {
        result = await this.run(['/bin/sh', '-c', script]);
        break;
      } catch (error) {
        if (attempt >= SPAWN_ATTEMPTS || !isTransientError(error)) throw error;
        this.#log.warn('starting %s on %s: %s; asking again', argv[0], this.description, (error as Error).message);
      }
    }
    const pid = Number(result.stdout.trim().split('\n').pop());
    if (result.code !== 0 || !Number.isInteger(pid) || pid <= 1) {
      throw new BatonError(`Could not start ${argv[0]} on ${this.description} in ${options.cwd}: ${result.stderr.trim() || `exit code ${result.code}`}`, {
        where: options.cwd,
        hint: result.code === 126 ? 'the directory does not exist on the host, or is not readable' : 'check that the command exists on the host',
      });
    }
    this.#log.debug('spawned %d on %s: %o', pid, this.description, argv);
    // The claim has served; nothing waits for it.
    const claim = `${cwd}/.baton-spawn-${token}`;
    void this.#connection
      .withSftp(async (sftp) => {
        await sftpCalls.unlink(sftp, `${claim}/pid`);
        await sftpCalls.rmdir(sftp, claim);
      })
      .catch((error: unknown) => this.#log.debug('could not remove %s: %s', claim, (error as Error).message));
    return { pid };
  }

  isProcessAlive(pid: number, commandLineIncludes?: string): Promise<boolean> {
    if (!Number.isInteger(pid) || pid <= 0) return Promise.resolve(false);
    return this.#processes.isProcessAlive(pid, commandLineIncludes);
  }

  isProcessGroupAlive(pgid: number): Promise<boolean> {
    if (!Number.isInteger(pgid) || pgid <= 1) return Promise.resolve(false);
    return this.#processes.isProcessGroupAlive(pgid);
  }

  /** How many times the host's process table was read (liveness checks share reads). */
  get processTableReads(): number {
    return this.#processes.reads;
  }

  async killProcessGroup(pgid: number, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (!Number.isInteger(pgid) || pgid <= 1) {
      throw new BatonError(`Refusing to signal process group ${pgid}: not a job's process group`, {
        where: 'SshConnector.killProcessGroup',
        hint: 'pass the pid returned by spawnDetached (a detached job leads its own group)',
      });
    }
    // The shell's own kill: procps' /usr/bin/kill 4.0 mis-reads `-s SIG -- -pgid`.
    const result = await this.run(['/bin/sh', '-c', 'kill -s "$1" -- "-$2"', 'sh', signal.replace(/^SIG/, ''), String(pgid)]);
    if (result.code === 0 || /no such process/i.test(result.stderr)) return;
    throw new BatonError(`Could not send ${signal} to process group ${pgid} on ${this.description}: ${result.stderr.trim()}`, {
      where: `process group ${pgid} on ${this.hostname}`,
      hint: 'the job may belong to another user; stop it as that user',
    });
  }

  readFile(path: string): Promise<string> {
    const target = this.resolve(path);
    return this.#connection.withSftp((sftp) => sftpCalls.readFile(sftp, target));
  }

  async readFileIfExists(path: string): Promise<string | undefined> {
    try {
      return await this.readFile(path);
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  async writeFile(path: string, data: string, options: { mode?: number } = {}): Promise<void> {
    // Readers never see a half-written file: write beside it, then rename over it.
    const target = this.resolve(path);
    const temporary = `${target}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
    await this.#connection.withSftp(async (sftp) => {
      try {
        await sftpCalls.writeFile(sftp, temporary, data, options.mode ?? 0o644);
        await sftpCalls.rename(sftp, temporary, target);
      } catch (error) {
        await sftpCalls.unlink(sftp, temporary).catch(() => undefined);
        throw error;
      }
    });
  }

  appendFile(path: string, data: string): Promise<void> {
    const target = this.resolve(path);
    return this.#connection.withSftp((sftp) => sftpCalls.appendFile(sftp, target, data));
  }

  async mkdir(path: string, options: { exclusive?: boolean } = {}): Promise<void> {
    const target = this.resolve(path);
    if (!options.exclusive) {
      await this.#connection.withSftp((sftp) => mkdirRecursive(sftp, target));
      return;
    }
    await this.#connection.withSftp(async (sftp) => {
      try {
        await sftpCalls.mkdir(sftp, target);
      } catch (error) {
        // SFTP answers "failure" for an existing name: tell it apart from a missing parent.
        if (await sftpCalls.stat(sftp, target).then(() => true, () => false)) throw Object.assign(error as Error, { code: 'EEXIST' });
        throw error;
      }
    });
  }

  rename(from: string, to: string): Promise<void> {
    const [source, target] = [this.resolve(from), this.resolve(to)];
    return this.#connection.withSftp((sftp) => sftpCalls.rename(sftp, source, target));
  }

  async exists(path: string): Promise<boolean> {
    const target = this.resolve(path);
    try {
      await this.#connection.withSftp((sftp) => sftpCalls.stat(sftp, target));
      return true;
    } catch (error) {
      if (isMissing(error)) return false;
      throw error;
    }
  }

  /** By the host's clock: a caller's skewed clock does not matter (fresh claims, core's scheduler). */
  modifiedAgo(path: string): Promise<number | undefined> {
    return modifiedAgoOnHost(this, path);
  }

  setModifiedAgo(path: string, agoMs: number): Promise<void> {
    return setModifiedAgoOnHost(this, path, agoMs);
  }

  async remove(path: string): Promise<void> {
    const target = this.resolve(path);
    if (target === '/' || target === this.#home) {
      throw new BatonError(`Refusing to remove ${target} on ${this.description}`, { where: 'SshConnector.remove', hint: 'remove a job or run folder, not the root or home folder' });
    }
    const result = await this.run(['rm', '-rf', '--', target]);
    if (result.code !== 0) throw new BatonError(`Could not remove ${target} on ${this.description}: ${result.stderr.trim()}`, { where: target, hint: 'check the permissions of that folder on the host' });
  }

  rmdir(path: string): Promise<void> {
    const target = this.resolve(path);
    return this.#connection.withSftp((sftp) => sftpCalls.rmdir(sftp, target));
  }

  readdir(path: string): Promise<string[]> {
    const target = this.resolve(path);
    return this.#connection.withSftp((sftp) => sftpCalls.readdir(sftp, target));
  }

  async listDirectory(path: string): Promise<DirectoryEntry[]> {
    const target = this.resolve(path);
    const entries = await this.#connection.withSftp((sftp) => sftpCalls.list(sftp, target));
    return entries.map(({ filename, attrs }) => ({
      name: filename,
      kind: attrs.isSymbolicLink() ? 'symlink' : attrs.isDirectory() ? 'directory' : attrs.isFile() ? 'file' : 'other',
    }));
  }

  symlink(target: string, path: string): Promise<void> {
    const link = this.resolve(path);
    return this.#connection.withSftp((sftp) => sftpCalls.symlink(sftp, target, link));
  }

  async readlink(path: string): Promise<string | undefined> {
    const link = this.resolve(path);
    return this.#connection.withSftp((sftp) => sftpCalls.readlink(sftp, link)).catch(() => undefined);
  }

  lock(path: string, options: LockOptions = {}): Promise<ReleaseLock> {
    const target = this.resolve(path);
    return takeRemoteLock({
      path: target,
      options,
      host: this.description,
      sftp: (work) => this.#connection.withSftp(work),
      mkdirParent: (parent) => this.mkdir(parent),
      logger: this.#log,
    });
  }

  /** A path on the host: `~` and relative paths are taken from the user's home there. */
  resolve(path: string): string {
    if (path === '~') return this.#home;
    if (path.startsWith('~/')) return posix.join(this.#home, path.slice(2));
    return posix.resolve(this.#home, path);
  }

  close(): Promise<void> {
    return this.#connection.close();
  }
}

class ChannelRefused extends Error {
  constructor(
    message: string,
    /** Channels open when it was refused, this one included. */
    readonly openAtRefusal: number,
  ) {
    super(message);
  }
}

/** Starts of one detached process tried over a connection that drops, before it fails. */
const SPAWN_ATTEMPTS = 3;

/** Refusals of a channel in a row before a command fails. */
const MAX_REFUSALS = 40;

/**
 * `mkdir -p` over SFTP, safe when other calls make the same folders at the same
 * time (the jobs of one task prepared together): a failed mkdir is looked at, the
 * parent made, and the mkdir tried again, a folder that exists by then accepted.
 */
async function mkdirRecursive(sftp: import('ssh2').SFTPWrapper, path: string): Promise<void> {
  try {
    await sftpCalls.mkdir(sftp, path);
    return;
  } catch {
    // SFTP says "failure" for a folder that exists and for a missing parent alike: look.
    if (await isDirectory(sftp, path)) return;
  }
  const parent = posix.dirname(path);
  if (parent !== path) await mkdirRecursive(sftp, parent);
  try {
    await sftpCalls.mkdir(sftp, path);
  } catch (error) {
    if (!(await isDirectory(sftp, path))) throw error;
  }
}

function isDirectory(sftp: import('ssh2').SFTPWrapper, path: string): Promise<boolean> {
  return sftpCalls.stat(sftp, path).then(
    (stats) => stats.isDirectory(),
    () => false,
  );
}

function remotePid(stdout: string): number | undefined {
  const line = stdout.split('\n').find((candidate) => candidate.startsWith(PID_PREFIX));
  const pid = line === undefined ? Number.NaN : Number(line.slice(PID_PREFIX.length));
  return Number.isInteger(pid) && pid > 1 ? pid : undefined;
}

function stripPidLine(stdout: string): string {
  const start = stdout.indexOf(PID_PREFIX);
  if (start < 0) return stdout;
  const end = stdout.indexOf('\n', start);
  return stdout.slice(0, start) + (end < 0 ? '' : stdout.slice(end + 1));
}

function checkArgv(argv: readonly string[]): void {
  if (argv.length === 0 || !argv[0]) {
    throw new BatonError('Cannot run an empty command', { where: 'ssh connector', hint: 'pass the command as a non-empty argv array' });
  }
  for (const word of argv) {
    if (typeof word !== 'string' || word.includes('\0')) {
      throw new BatonError(`Cannot pass ${JSON.stringify(word)} to a command: arguments are strings without NUL bytes`, { where: 'ssh connector', hint: 'pass every argument as a string' });
    }
  }
}

function checkEnvironment(env: Record<string, string> | undefined): void {
  for (const [name, value] of Object.entries(env ?? {})) {
    if (!ENVIRONMENT_NAME.test(name) || typeof value !== 'string' || value.includes('\0')) {
      throw new BatonError(`Cannot set environment variable ${JSON.stringify(name)} on the host`, { where: 'ssh connector', hint: 'names are letters, digits and _ (not first a digit); values are strings without NUL bytes' });
    }
  }
}
