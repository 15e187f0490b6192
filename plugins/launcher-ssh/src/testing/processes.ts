// Helpers of the integration tests: an experiment driver in a process of its own
// (to kill it and start it again), and waiting for a condition.
import { spawn, type ChildProcess } from 'node:child_process';
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
