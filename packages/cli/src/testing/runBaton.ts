// Runs the real `baton` command (bin/baton.js) in a child process, for tests.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const BATON_BIN = fileURLToPath(new URL('../../bin/baton.js', import.meta.url));

export interface BatonResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runBaton(args: readonly string[], options: { cwd: string; env?: Record<string, string> }): Promise<BatonResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BATON_BIN, ...args], {
      cwd: options.cwd,
      // A settings file or workspace of the machine running the tests must not leak in, nor a
      // FORCE_COLOR (it wins over NO_COLOR) or COLUMNS of the test runner's.
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: undefined, COLUMNS: undefined, HOME: options.cwd, XDG_CONFIG_HOME: options.cwd, BATON_WORKSPACE: '', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}
