// An OAR array for a batch of jobs with equal options: `oarsub --array-param-file`
// appends line N of the file to the command of task N, as shell words. Each line is
// the task's job.sh, quoted; the command `exec /bin/sh` makes job.sh the job's
// first process, the one OAR signals ahead of the walltime and on oardel.
import { shellQuote } from '@baton/core';

/** The command of a single job, or of an array whose parameter lines are job.sh paths. */
export function jobCommand(scriptPath?: string): string {
  return scriptPath === undefined ? 'exec /bin/sh' : `exec /bin/sh ${shellQuote(scriptPath)}`;
}

/** The parameter file: line N (from 1, OAR_ARRAY_INDEX) is the quoted job.sh of array task N. */
export function arrayParamFile(scriptPaths: readonly string[]): string {
  for (const path of scriptPaths) {
    if (/[\n\r]/.test(path)) throw new Error(`a job script path contains a line break, which an OAR parameter file cannot hold: ${JSON.stringify(path)}`);
  }
  return `${scriptPaths.map((path) => shellQuote(path)).join('\n')}\n`;
}
