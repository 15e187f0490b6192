// Starts a TypeScript fixture (a driver) in a Node process of its own, run from the
// packages' sources as the tests are (tsx, the @baton/source export condition), with
// its stdout and stderr collected: the process tests' one way to start one.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const repositoryRoot = fileURLToPath(new URL('../../../../', import.meta.url));

export interface SourceProcess {
  child: ChildProcess;
  /** Resolves with the exit code (null when a signal ended it). */
  exited: Promise<number | null>;
  /** Everything it printed so far, stdout and stderr interleaved. */
  output(): string;
}

/** Runs `node --import tsx --conditions=@baton/source <script> <args...>` from the repository's root. */
export function startSourceProcess(script: string, args: readonly string[] = []): SourceProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@baton/source', script, ...args], {
    cwd: repositoryRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, output: () => output };
}
