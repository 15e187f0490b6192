// The real TensorBoard of `bash scripts/tensorboard-venv.sh start`, as the integration tests
// find it: $BATON_TENSORBOARD, else the script's venv (as root or as a user), with the venv's
// python, which has TensorBoard's event writer (no TensorFlow needed).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const SETUP_HINT = 'set it up with: bash scripts/tensorboard-venv.sh start (or export BATON_TENSORBOARD=/path/to/venv/bin/tensorboard)';

/** Writes scalars: python write_scalars.py RUN_DIR TAG N [FIRST_STEP], value 1/(step+1). */
export const WRITE_SCALARS = fileURLToPath(new URL('../__fixtures__/write_scalars.py', import.meta.url));

export interface TestTensorBoard {
  /** The tensorboard executable. */
  tensorboard: string;
  /** A python that imports tensorboard (the venv's). */
  python: string;
  version: string;
}

export type TensorBoardProbe = { found: TestTensorBoard; problem?: undefined } | { found?: undefined; problem: string };

/** The venvs scripts/tensorboard-venv.sh makes, the one named by $BATON_TENSORBOARD first. */
export function candidates(env: NodeJS.ProcessEnv = process.env): string[] {
  const cache = env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache');
  return [
    env.BATON_TENSORBOARD,
    env.BATON_TENSORBOARD_VENV && join(env.BATON_TENSORBOARD_VENV, 'bin', 'tensorboard'),
    '/opt/baton-tensorboard/bin/tensorboard',
    join(cache, 'baton-tensorboard', 'bin', 'tensorboard'),
  ].filter((path): path is string => Boolean(path));
}

export async function probeTensorBoard(env: NodeJS.ProcessEnv = process.env): Promise<TensorBoardProbe> {
  const tensorboard = candidates(env).find((path) => existsSync(path));
  if (!tensorboard) return { problem: `no tensorboard at ${candidates(env).join(', ')}` };
  const python = join(dirname(tensorboard), 'python');
  try {
    const { stdout } = await promisify(execFile)(python, ['-c', 'from tensorboard import version; print(version.VERSION)'], { timeout: 60_000 });
    return { found: { tensorboard, python, version: stdout.trim() } };
  } catch (error) {
    return { problem: `${tensorboard} is there but ${python} cannot import tensorboard: ${(error as Error).message.split('\n')[0]}` };
  }
}

/** Runs write_scalars.py with the venv's python. */
export async function writeScalars(options: { python: string; runDir: string; tag: string; count: number; firstStep?: number }): Promise<void> {
  const { python, runDir, tag, count, firstStep = 0 } = options;
  await promisify(execFile)(python, [WRITE_SCALARS, runDir, tag, String(count), String(firstStep)], { timeout: 60_000 });
}
