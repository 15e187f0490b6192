// Entry point of a function task's job process:
//   node <this file> <job directory>
// It imports the module that exports the task and calls its `run` in this
// process with the parameters recorded in params.json, decoded as they were
// at submit: the schema ran there, once (a transform does not run twice).
// tsx is loaded only when the task's module is TypeScript.
// On its way out it leaves its peak memory in the job directory's peak_rss, which
// job.sh folds into the job's marker (peakRssBytes), and, when the task threw, the
// first line of the error in failure_message, which job.sh puts in the failed marker.
import { renameSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isTask } from '../task/defineTask.ts';
import { decodeParamValue } from '../task/paramValues.ts';
import { createLogger } from '../logger.ts';
import { importUserModule } from '../util/importUserModule.ts';
import { failureMessage } from './failureMessage.ts';
import { JOB_FILES } from './jobFiles.ts';
import type { JobParamsFile } from './jobParamsFile.ts';

async function main(directory: string | undefined): Promise<void> {
  if (!directory) throw new Error('usage: runner <job directory>');
  // On 'exit', so that it is written however the process ends by itself (a `run` may call process.exit).
  process.once('exit', () => recordPeakMemory(directory));
  const record = JSON.parse(await readFile(join(directory, JOB_FILES.params), 'utf8')) as JobParamsFile;
  process.env.BATON_JOB_RUNNER = `${record.taskId}/${record.hash.slice(0, 12)}`;
  if (!record.module) throw new Error(`params.json of ${directory} names no module for task "${record.taskId}"`);
  const module = await importUserModule(record.module);
  const task = Object.values(module).find((value) => isTask(value) && value.id === record.taskId);
  if (!task || !isTask(task) || !task.run) {
    throw new Error(`Task "${record.taskId}" is not exported from ${record.module}; export the value returned by defineTask`);
  }
  const params = decodeParamValue(record.resolved);
  await task.run(params as never, { directory, taskId: record.taskId, hash: record.hash, logger: createLogger(`baton:task:${record.taskId}`) });
}

main(process.argv[2]).then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    if (process.argv[2]) recordFailure(process.argv[2], error);
    process.exit(1);
  },
);

/**
 * Leaves why the task failed in failure_message for job.sh's marker: one line, a JSON
 * string (job.sh copies it as is, so it must be one). Without it the marker says the exit code.
 */
function recordFailure(directory: string, error: unknown): void {
  leaveForJobScript(directory, 'failureMessage', JSON.stringify(failureMessage(error)));
}

/** Leaves this process's peak resident memory (bytes) in peak_rss for job.sh's marker. */
function recordPeakMemory(directory: string): void {
  // maxRSS is in kilobytes (KiB), as Node documents it.
  leaveForJobScript(directory, 'peakRss', String(process.resourceUsage().maxRSS * 1024));
}

/**
 * Writes one line for job.sh to read, beside the file then renamed, so job.sh never reads
 * half of it. Best effort: the job directory may be gone or full, and the marker then goes without it.
 */
function leaveForJobScript(directory: string, file: 'failureMessage' | 'peakRss', line: string): void {
  const path = join(directory, JOB_FILES[file]);
  try {
    writeFileSync(`${path}.tmp`, `${line}\n`);
    renameSync(`${path}.tmp`, path);
  } catch {
    // Nothing to do: job.sh writes the marker without it.
  }
}
