// The process behind a service on this machine: its own process group (stopped as a whole,
// nothing left behind), its output appended to a log file (read back into error messages),
// and no orphan when the experiment process ends: stopped on exit, and on Linux killed by
// the kernel if the experiment process dies without a word (setpriv --pdeathsig).
import { constants, existsSync } from 'node:fs';
import { access, mkdir, open, stat } from 'node:fs/promises';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import { createLogger } from '../logger.ts';
import { ProcessProbe } from '../connector/processLiveness.ts';

export interface ServiceProcessOptions {
  /** The command (an absolute path, see findExecutable) and its arguments. */
  argv: readonly string[];
  cwd?: string;
  /** Added to this process's environment. */
  env?: Record<string, string>;
  /** Receives the process's stdout and stderr, appended to. */
  logFile: string;
  /** Leave it running when this process ends (a kept service); default false. */
  outlive?: boolean;
}

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const log = createLogger('baton:service:process');
/** Bytes of the log file quoted in error messages, at most. */
const TAIL_BYTES = 4000;
const TAIL_LINES = 20;
/** Linux: the kernel sends SIGTERM to the service when the experiment process dies (kill -9 included). */
const SETPRIV = '/usr/bin/setpriv';

/** Process groups to stop when this process exits: the services that do not outlive it. */
const groupsToStop = new Set<number>();
let exitHookInstalled = false;

export class ServiceProcess {
  readonly pid: number;
  readonly logFile: string;
  /** Settles when the process has exited; never rejects. */
  readonly exited: Promise<ProcessExit>;
  #exit: ProcessExit | undefined;
  /** Size of the log file when the process started: its own output comes after. */
  readonly #logStart: number;

  private constructor(options: { pid: number; logFile: string; logStart: number; exited: Promise<ProcessExit> }) {
    this.pid = options.pid;
    this.logFile = options.logFile;
    this.#logStart = options.logStart;
    this.exited = options.exited.then((exit) => {
      this.#exit = exit;
      groupsToStop.delete(this.pid);
      return exit;
    });
  }

  /** Starts the process in its own process group; resolves once it runs (or rejects when it cannot). */
  static async start(options: ServiceProcessOptions): Promise<ServiceProcess> {
    const { argv, cwd, env, logFile, outlive = false } = options;
    await mkdir(dirname(logFile), { recursive: true });
    const logStart = await stat(logFile).then(
      (info) => info.size,
      () => 0,
    );
    const output = await open(logFile, 'a');
    try {
      const guarded = !outlive && existsSync(SETPRIV) ? [SETPRIV, '--pdeathsig', 'TERM', '--', ...argv] : argv;
      const [command, ...args] = guarded as [string, ...string[]];
      const child = process.getBuiltinModule('node:child_process').spawn(command, args, {
        cwd,
        env: env ? { ...process.env, ...env } : process.env,
        // Own process group (pgid = pid): stopped as a whole, and a Ctrl-C in the terminal
        // reaches the experiment only, which then stops its services in order.
        detached: true,
        stdio: ['ignore', output.fd, output.fd],
      });
      const exited = new Promise<ProcessExit>((settle) => {
        child.once('exit', (code, signal) => settle({ code, signal }));
        child.once('error', () => settle({ code: null, signal: null }));
      });
      await new Promise<void>((started, failed) => {
        child.once('spawn', started);
        child.once('error', failed);
      });
      // The experiment process may end while a kept service runs on.
      child.unref();
      const pid = child.pid as number;
      log.debug('started %d: %o (output: %s)', pid, argv, logFile);
      const started = new ServiceProcess({ pid, logFile, logStart, exited });
      if (!outlive) stopOnExit(pid);
      return started;
    } finally {
      // The child holds its own copy of the descriptor.
      await output.close();
    }
  }

  /** How it ended, once it has. */
  get exit(): ProcessExit | undefined {
    return this.#exit;
  }

  /**
   * Stops the whole process group: SIGTERM, then SIGKILL after `graceMs`; resolves once no
   * process of the group runs (zombies aside).
   */
  async stop(options: { graceMs?: number } = {}): Promise<void> {
    const { graceMs = 10_000 } = options;
    groupsToStop.delete(this.pid);
    if (!this.#exit) {
      signalGroup(this.pid, 'SIGTERM');
      if (!(await settlesWithin(this.exited, graceMs))) {
        log.debug('process %d ignored SIGTERM for %d ms: SIGKILL to its group', this.pid, graceMs);
        signalGroup(this.pid, 'SIGKILL');
        await this.exited;
      }
    }
    // What the service started may outlive its leader (e.g. a helper process).
    const probe = () => new ProcessProbe().isProcessGroupAlive(this.pid);
    for (let waited = 0; await probe(); waited += 50) {
      if (waited === 2000) signalGroup(this.pid, 'SIGKILL');
      if (waited > 5000) break;
      await delay(50);
    }
  }

  /** The last lines it wrote (stdout and stderr), for error messages. */
  async outputTail(): Promise<string> {
    let text = '';
    try {
      const file = await open(this.logFile, 'r');
      try {
        const { size } = await file.stat();
        const from = Math.max(this.#logStart, size - TAIL_BYTES);
        const buffer = Buffer.alloc(size - from);
        await file.read(buffer, 0, buffer.length, from);
        text = buffer.toString('utf8');
      } finally {
        await file.close();
      }
    } catch {
      return '';
    }
    return text.trimEnd().split('\n').slice(-TAIL_LINES).join('\n');
  }
}

/**
 * The absolute path of a command: one with a slash is checked where it is (relative to
 * `cwd`), a bare name is looked up on PATH. Undefined when there is no such executable.
 */
export async function findExecutable(options: { command: string; cwd?: string; path?: string }): Promise<string | undefined> {
  const { command, cwd = process.cwd(), path = process.env.PATH ?? '' } = options;
  const candidates = command.includes('/')
    ? [isAbsolute(command) ? command : resolve(cwd, command)]
    : path
        .split(delimiter)
        .filter((dir) => dir !== '')
        .map((dir) => join(dir, command));
  for (const candidate of candidates) {
    try {
      await access(candidate, constants.X_OK);
      if ((await stat(candidate)).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

function stopOnExit(pgid: number): void {
  groupsToStop.add(pgid);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // process.exit() (a second Ctrl-C in the CLI) skips the experiment's close: stop what is left.
  process.once('exit', () => {
    for (const group of groupsToStop) signalGroup(group, 'SIGTERM');
  });
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  if (!Number.isInteger(pgid) || pgid <= 1) return;
  try {
    process.kill(-pgid, signal);
  } catch {
    // already gone
  }
}

/** True when `promise` settles within `ms`; the timer is cleared either way. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
