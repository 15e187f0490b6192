// Starts detached processes through one long-lived helper process instead of
// forking Node for each: forking a large Node process costs about 2 ms of the
// main thread, a small process a fraction of that (the way xargs does it).
// The helper is perl where there is one (one fork and one exec per job: Debian
// and macOS always have it), else /bin/sh (a few more forks per job). Requests
// and answers are lines on its stdin and stdout; values are data, never code.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { createLogger } from '../logger.ts';

const log = createLogger('baton:connector:spawner');

// One request: id, cwd, stdout path, stderr path, argc, then argc arguments, a line each.
// Answers: `S <id> <pid>` once started, `F <id>` if cd failed, `X <id>` once it exited.
// The job runs under setsid: its own session and process group (pgid = pid), so it
// outlives the experiment and can be signalled as a group. `S` comes as soon as the
// process exists, possibly a moment before setsid and the exec of the command.
const PERL_SPAWNER = String.raw`use strict;
use warnings;
use POSIX qw(setsid WNOHANG SIGCHLD SIG_BLOCK SIG_UNBLOCK sigprocmask);
$| = 1;
$SIG{PIPE} = 'IGNORE';
my %ids;
my $chld = POSIX::SigSet->new(SIGCHLD);
$SIG{CHLD} = sub {
  while ((my $pid = waitpid(-1, WNOHANG)) > 0) {
    my $id = delete $ids{$pid};
    print "X $id\n" if defined $id;
  }
};
sub line { my $l = <STDIN>; return undef unless defined $l; chomp $l; return $l; }
while (defined(my $id = line())) {
  my ($cwd, $out, $err, $argc) = (line(), line(), line(), line());
  my @argv = map { line() } 1 .. $argc;
  unless (-d $cwd) { print "F $id\n"; next; }
  sigprocmask(SIG_BLOCK, $chld);
  my $pid = fork();
  if (!defined $pid) { sigprocmask(SIG_UNBLOCK, $chld); print "F $id\n"; next; }
  if ($pid == 0) {
    $SIG{CHLD} = 'DEFAULT';
    sigprocmask(SIG_UNBLOCK, $chld);
    setsid();
    chdir($cwd) or POSIX::_exit(120);
    open(STDIN, '<', '/dev/null');
    open(STDOUT, '>>', $out) or POSIX::_exit(121);
    open(STDERR, '>>', $err) or POSIX::_exit(122);
    { no warnings "exec"; exec { $argv[0] } @argv; }
    POSIX::_exit(127);
  }
  $ids{$pid} = $id;
  print "S $id $pid\n";
  sigprocmask(SIG_UNBLOCK, $chld);
}
# The caller is gone or done: stay until the last job ends, to reap it (where
# PID 1 does not reap orphans, a job would otherwise linger as a zombie).
$SIG{CHLD} = 'DEFAULT';
1 while wait() != -1;
`;

const SH_SPAWNER = `
while IFS= read -r id && IFS= read -r cwd && IFS= read -r out && IFS= read -r err && IFS= read -r argc; do
  set --
  while [ "$argc" -gt 0 ]; do IFS= read -r arg; set -- "$@" "$arg"; argc=$((argc - 1)); done
  # The watcher runs in the background of a subshell that ends at once: this shell
  # reaps that subshell now, and keeps no job table that grows with every job.
  ( (
    cd "$cwd" 2>/dev/null || { echo "F $id"; exit 0; }
    setsid "$@" </dev/null >>"$out" 2>>"$err" &
    echo "S $id $!"
    wait "$!"
    echo "X $id"
  ) & )
done
`;

interface Pending {
  started: (pid: number) => void;
  failed: (error: Error) => void;
  exited: (known: boolean) => void;
}

export interface SpawnRequest {
  argv: readonly string[];
  cwd: string;
  stdoutPath: string;
  stderrPath: string;
}

export interface ProcessSpawnerOptions {
  /** Which helper to run; default perl when on PATH, else sh. */
  helper?: 'perl' | 'sh';
}

export class ProcessSpawner {
  readonly #helper: 'perl' | 'sh' | undefined;
  #shell: ChildProcessByStdio<Writable, Readable, null> | undefined;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;

  constructor(options: ProcessSpawnerOptions = {}) {
    this.#helper = options.helper;
  }

  #starting = 0;

  /** Pid of the helper process, while it runs. */
  get pid(): number | undefined {
    return this.#shell?.pid;
  }

  /** True when the request can travel as lines (no newline or NUL in any value). */
  static canCarry(request: SpawnRequest): boolean {
    return [request.cwd, request.stdoutPath, request.stderrPath, ...request.argv].every((value) => !/[\n\r\0]/.test(value));
  }

  spawn(request: SpawnRequest): Promise<{ pid: number; exited: Promise<boolean> }> {
    const shell = this.#start();
    const id = this.#nextId++;
    let exited!: (known: boolean) => void;
    const exitedPromise = new Promise<boolean>((resolve) => (exited = resolve));
    const started = new Promise<number>((resolve, reject) => this.#pending.set(id, { started: resolve, failed: reject, exited }));
    this.#awaitingStart(+1);
    const settled = () => this.#awaitingStart(-1);
    started.then(settled, settled);
    const lines = [id, request.cwd, request.stdoutPath, request.stderrPath, request.argv.length, ...request.argv];
    shell.stdin.write(`${lines.join('\n')}\n`);
    return started.then((pid) => ({ pid, exited: exitedPromise }));
  }

  /**
   * The shell's output keeps the process alive only while a start is awaited:
   * a caller may exit while its jobs run (their exit notices are then not needed).
   */
  #awaitingStart(delta: number): void {
    this.#starting += delta;
    const stdout = this.#shell?.stdout as unknown as { ref?: () => void; unref?: () => void } | undefined;
    if (this.#starting > 0) stdout?.ref?.();
    else stdout?.unref?.();
  }

  /** Ends the shell; jobs already started keep running. */
  close(): void {
    this.#shell?.stdin.end();
    this.#shell = undefined;
  }

  #start(): ChildProcessByStdio<Writable, Readable, null> {
    if (this.#shell) return this.#shell;
    const perl = this.#helper === 'sh' ? undefined : findOnPath('perl');
    // Its own process group: a Ctrl-C meant for the experiment must not kill it
    // (its jobs would lose their exit notices while the experiment winds down).
    const shell = perl
      ? spawn(perl, ['-e', PERL_SPAWNER], { stdio: ['pipe', 'pipe', 'ignore'], detached: true })
      : spawn('/bin/sh', ['-c', SH_SPAWNER], { stdio: ['pipe', 'pipe', 'ignore'], detached: true });
    this.#shell = shell;
    // Neither the shell nor its pipes keep the experiment process alive.
    shell.unref();
    (shell.stdin as unknown as { unref?: () => void }).unref?.();
    (shell.stdout as unknown as { unref?: () => void }).unref?.();
    shell.stdin.on('error', (error) => this.#fail(shell, error));
    shell.once('exit', (code) => this.#fail(shell, new Error(`the spawner shell exited (code ${code})`)));
    createInterface({ input: shell.stdout }).on('line', (line) => this.#answer(line));
    log.debug('spawner (%s) started as pid %d', perl ?? '/bin/sh', shell.pid);
    return shell;
  }

  #answer(line: string): void {
    const [kind, idText, pidText] = line.split(' ');
    const pending = this.#pending.get(Number(idText));
    if (!pending) return;
    if (kind === 'S') pending.started(Number(pidText));
    else if (kind === 'F') {
      this.#pending.delete(Number(idText));
      pending.failed(new Error('cannot enter the working directory'));
      pending.exited(true);
    } else if (kind === 'X') {
      this.#pending.delete(Number(idText));
      pending.exited(true);
    }
  }

  #fail(shell: ChildProcessByStdio<Writable, Readable, null>, error: Error): void {
    if (this.#shell === shell) this.#shell = undefined;
    // Started jobs run on; only their exit notices are lost: say so, callers look for themselves.
    for (const [id, pending] of this.#pending) {
      pending.failed(error);
      pending.exited(false);
      this.#pending.delete(id);
    }
  }
}

function findOnPath(command: string): string | undefined {
  for (const directory of (process.env.PATH ?? '').split(delimiter)) {
    if (!directory) continue;
    const candidate = join(directory, command);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}
