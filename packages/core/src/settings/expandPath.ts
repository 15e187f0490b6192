import { homedir } from 'node:os';
import { isAbsolute, resolve } from 'node:path';

export interface ExpandPathOptions {
  path: string;
  /** Folder a relative path is relative to (the settings file's folder). */
  baseDir: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * Resolves a path from the settings file: `$VAR` / `${VAR}` from the environment
 * (cluster users write `$SCRATCH/runs`), a leading `~`, then relative to `baseDir`.
 * Throws an Error naming the variable when one is not set.
 */
export function expandPath(options: ExpandPathOptions): string {
  const { baseDir, env = process.env } = options;
  const withVariables = options.path.replace(/\$(?:\{([A-Za-z_]\w*)\}|([A-Za-z_]\w*))/g, (_match, braced?: string, bare?: string) => {
    const name = (braced ?? bare) as string;
    const value = env[name];
    if (value === undefined || value === '') throw new Error(`environment variable ${name} is not set`);
    return value;
  });
  const home = env.HOME || homedir();
  const withHome = withVariables === '~' ? home : withVariables.startsWith('~/') ? `${home}${withVariables.slice(1)}` : withVariables;
  return isAbsolute(withHome) ? resolve(withHome) : resolve(baseDir, withHome);
}
