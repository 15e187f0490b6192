// Starts detached processes through one long-lived helper process instead of
// forking Node for each: forking a large Node process costs about 2 ms of the
// main thread, a small process a fraction of that (the way xargs does it).
// The helper is python3's posix_spawn on Linux where there is a python3, else
// perl, else /bin/sh (spawnerHelpers.ts says what each costs). Requests and
// answers are lines on its stdin and stdout; values are data, never code.
import type { ChildProcessByStdio } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { createLogger } from '../logger.ts';
import { HELPER_UNSUPPORTED, PERL_SPAWNER, PYTHON_SPAWNER, SH_SPAWNER } from './spawnerHelpers.ts';

const log = createLogger('baton:connector:spawner');

/** The helper programs, best first (spawnerHelpers.ts). */
export type SpawnerHelper = 'python' | 'perl' | 'sh';

interface Pending {
  /** The request as written to the helper: written again to the next helper if this one cannot run here. */
  text: string;
  started: (pid: number) => void;
  failed: (error: Error) => void;
  exited: (known: boolean) => void;
}

interface RunningHelper {
  name: SpawnerHelper;
  process: ChildProcessByStdio<Writable, Readable, null>;
  /** Whether it answered anything yet: one that did may have started jobs. */
  answered: boolean;
}

export interface SpawnRequest {
  argv: readonly string[];
  cwd: string;
  stdoutPath: string;
  stderrPath: string;
}

export interface ProcessSpawnerOptions {
  /** Which helper to run; default the best this host has: python3 (on Linux), then perl, then sh. */
  helper?: SpawnerHelper;
  /** The python3 to run; default the system's (/usr/bin, /usr/local/bin), else the first on PATH. */
  python?: string;
}

export class ProcessSpawner {
  readonly #chosen: SpawnerHelper | undefined;
  readonly #python: string | undefined;
  /** Helpers that said they cannot run on this host (too old a python3, say): not tried again. */
  readonly #unsupported = new Set<SpawnerHelper>();
  #helper: RunningHelper | undefined;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #starting = 0;

  constructor(options: ProcessSpawnerOptions = {}) {
    this.#chosen = options.helper;
    this.#python = options.python;
  }

  /** Pid of the helper process, while it runs. */
  get pid(): number | undefined {
    return this.#helper?.process.pid;
  }

  /** The helper running now, if any. */
  get helper(): SpawnerHelper | undefined {
    return this.#helper?.name;
  }

  /** True when the request can travel as lines (no newline or NUL in any value). */
  static canCarry(request: SpawnRequest): boolean {
    return [request.cwd, request.stdoutPath, request.stderrPath, ...request.argv].every((value) => !/[\n\r\0]/.test(value));
  }

  spawn(request: SpawnRequest): Promise<{ pid: number; exited: Promise<boolean> }> {
    const helper = this.#start();
    const id = this.#nextId++;
    const text = `${[id, request.cwd, request.stdoutPath, request.stderrPath, request.argv.length, ...request.argv].join('\n')}\n`;
    let exited!: (known: boolean) => void;
    const exitedPromise = new Promise<boolean>((resolve) => (exited = resolve));
    const started = new Promise<number>((resolve, reject) => this.#pending.set(id, { text, started: resolve, failed: reject, exited }));
    this.#awaitingStart(+1);
    const settled = () => this.#awaitingStart(-1);
    started.then(settled, settled);
    helper.process.stdin.write(text);
    return started.then((pid) => ({ pid, exited: exitedPromise }));
  }

  /**
   * The helper's output keeps the process alive only while a start is awaited:
   * a caller may exit while its jobs run (their exit notices are then not needed).
   */
  #awaitingStart(delta: number): void {
    this.#starting += delta;
    const stdout = this.#helper?.process.stdout as unknown as { ref?: () => void; unref?: () => void } | undefined;
    if (this.#starting > 0) stdout?.ref?.();
    else stdout?.unref?.();
  }

  /** Ends the helper; jobs already started keep running. */
  close(): void {
    this.#helper?.process.stdin.end();
    this.#helper = undefined;
  }

  #start(): RunningHelper {
    if (this.#helper) return this.#helper;
    const { name, command, args } = this.#pick();
    // Its own process group: a Ctrl-C meant for the experiment must not kill it
    // (its jobs would lose their exit notices while the experiment winds down).
    // node:child_process and node:readline on first use: a process that starts no job (a job's own, a `threads` run) never loads them.
    const child = process.getBuiltinModule('node:child_process').spawn(command, args, { stdio: ['pipe', 'pipe', 'ignore'], detached: true });
    const helper: RunningHelper = { name, process: child, answered: false };
    this.#helper = helper;
    // Neither the helper nor its pipes keep the experiment process alive.
    child.unref();
    (child.stdin as unknown as { unref?: () => void }).unref?.();
    (child.stdout as unknown as { unref?: () => void }).unref?.();
    if (this.#starting > 0) (child.stdout as unknown as { ref?: () => void }).ref?.();
    // A write to a helper that is gone: its exit (which follows) says what that means.
    child.stdin.on('error', (error) => log.debug('spawner (%s) stdin: %s', name, error.message));
    child.once('error', (error) => this.#ended(helper, null, error));
    child.once('exit', (code) => this.#ended(helper, code));
    process.getBuiltinModule('node:readline').createInterface({ input: child.stdout }).on('line', (line) => {
      helper.answered = true;
      this.#answer(line);
    });
    log.debug('spawner (%s) started as pid %d', name, child.pid);
    return helper;
  }

  /** The helper to run: the one asked for, else the best this host has and has not refused. */
  #pick(): { name: SpawnerHelper; command: string; args: string[] } {
    const usable = (name: SpawnerHelper) => this.#chosen === name || (this.#chosen === undefined && !this.#unsupported.has(name));
    const python = usable('python') && (this.#chosen === 'python' || process.platform === 'linux') ? (this.#python ?? findPython()) : undefined;
    // -I: no PYTHON* variables, no user site; -S: no site module (faster, and nothing of the user's runs).
    if (python) return { name: 'python', command: python, args: ['-I', '-S', '-c', PYTHON_SPAWNER] };
    const perl = usable('perl') ? findOnPath('perl') : undefined;
    if (perl) return { name: 'perl', command: perl, args: ['-e', PERL_SPAWNER] };
    return { name: 'sh', command: '/bin/sh', args: ['-c', SH_SPAWNER] };
  }

  #answer(line: string): void {
    const [kind, idText, pidOrCode] = line.split(' ');
    const pending = this.#pending.get(Number(idText));
    if (!pending) return;
    if (kind === 'S') pending.started(Number(pidOrCode));
    else if (kind === 'F') {
      this.#pending.delete(Number(idText));
      pending.failed(startError(pidOrCode, line.split(' ').slice(3).join(' ')));
      pending.exited(true);
    } else if (kind === 'X') {
      this.#pending.delete(Number(idText));
      pending.exited(true);
    }
  }

  #ended(helper: RunningHelper, code: number | null, error?: Error): void {
    if (this.#helper === helper) this.#helper = undefined;
    // Python older than 3.8 (code 3) or than 3.4 (2: it does not know -I) ran no request: the next helper gets them all.
    if (this.#chosen === undefined && !helper.answered && helper.name === 'python' && (code === HELPER_UNSUPPORTED || code === 2)) {
      this.#unsupported.add(helper.name);
      log.debug('spawner (%s) cannot run here (exit code %d); trying the next helper', helper.name, code);
      if (this.#pending.size === 0) return;
      const next = this.#start();
      for (const pending of this.#pending.values()) next.process.stdin.write(pending.text);
      return;
    }
    // Started jobs run on; only their exit notices are lost: say so, callers look for themselves.
    const reason = error ?? new Error(`the spawner (${helper.name}) exited (code ${code})`);
    for (const [id, pending] of this.#pending) {
      pending.failed(reason);
      pending.exited(false);
      this.#pending.delete(id);
    }
  }
}

/** Why a helper could not start a process: no working directory (no code), else the errno code and message it gave. */
function startError(code: string | undefined, message: string): Error {
  if (!code) return new Error('cannot enter the working directory');
  return Object.assign(new Error(message || code), { code });
}

/**
 * The system's python3 first: a version manager's shim on the PATH (pyenv's is a shell
 * script) can take longer to start than the jobs it would start.
 */
function findPython(): string | undefined {
  return ['/usr/bin/python3', '/usr/local/bin/python3'].find((path) => existsSync(path)) ?? findOnPath('python3');
}

function findOnPath(command: string): string | undefined {
  for (const directory of (process.env.PATH ?? '').split(delimiter)) {
    if (!directory) continue;
    const candidate = join(directory, command);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}
