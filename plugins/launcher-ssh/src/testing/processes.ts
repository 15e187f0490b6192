// Helpers of the integration tests: an experiment driver in a process of its own
// (to kill it and start it again), waiting for a condition, and finding the sshd
// processes that serve a connection (to cut it).
import { spawn, type ChildProcess } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const REPOSITORY = fileURLToPath(new URL('../../../../', import.meta.url));

export interface Driver {
  child: ChildProcess;
  exited: Promise<number | null>;
  /** Everything it printed so far, stdout and stderr. */
  output: () => string;
}

/** Runs the TypeScript `script` (from the sources, through tsx) with `options` as JSON in argv[2]; `children` collects it for cleanup. */
export function startDriver(script: string, options: unknown, children: ChildProcess[]): Driver {
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@baton/source', script, JSON.stringify(options)], { cwd: REPOSITORY, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, output: () => output };
}

export async function until(condition: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Pids on this machine whose command line (NUL-separated) starts with `commandLine`. */
export async function processesRunning(commandLine: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const text = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (text.startsWith(commandLine)) pids.push(Number(entry));
  }
  return pids;
}

/** The sshd processes between `pid` and the listening sshd: those of the connection that started it. */
export async function sshdAncestors(pid: number, listener: number): Promise<number[]> {
  const ancestors: number[] = [];
  let current = pid;
  for (;;) {
    const stat = await readFile(`/proc/${current}/stat`, 'utf8');
    const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (parent === listener) return ancestors;
    if (parent <= 1) throw new Error(`process ${pid} does not descend from the sshd listener ${listener}`);
    if ((await readFile(`/proc/${parent}/comm`, 'utf8')).trim() === 'sshd') ancestors.push(parent);
    current = parent;
  }
}
