// Writes what a job is to its directory: params.json (what any process needs to know
// about the job) and job.sh (what every launcher runs).
import { identityValue } from '../task/identity.ts';
import { encodeParamValue } from '../task/paramValues.ts';
import type { Connector } from '../types.ts';
import type { Job } from './job.ts';
import { jobFile } from './jobFiles.ts';
import type { JobParamsFile } from './jobParamsFile.ts';
import { jobScript } from './jobScript.ts';
import type { RemoteFunctionTasks } from './remoteFunctionTasks.ts';
import { runnerCommand } from './runnerCommand.ts';
import { checkArgv } from './shellValues.ts';

export interface WriteJobFilesOptions {
  connector: Connector;
  job: Job;
  /** The workspace's environment overlay; the job's own wins over it. */
  workspaceEnv: Record<string, string>;
  /** The experiment run that writes the files. */
  experiment: { name: string; runId: string };
  /** The caller holds the job's claim, which made the directory: nobody else writes or reads these files meanwhile. */
  claimed?: boolean;
  /** The claim made the directory just now (a fresh claim): neither file exists, each is written in one create. */
  fresh?: boolean;
  /** Whether to write job.sh (default true); false for a launcher that does not run it (Launcher.runsJobScript). */
  script?: boolean;
  /** How function tasks run on the workspace's host, when it is another host. */
  functionTasks?: Pick<RemoteFunctionTasks, 'runnerArgv'> | undefined;
}

export async function writeJobFiles(options: WriteJobFilesOptions): Promise<void> {
  const { connector, job, claimed = false, fresh = false, script: withScript = true, functionTasks } = options;
  const env = { ...options.workspaceEnv, ...job.env };
  const directory = connector.resolve(job.directory);
  const command = job.commandArgv(directory);
  // Checked at submit for the directory as this machine sees it; again here when another host sees it elsewhere.
  if (command) checkArgv(command, `command of task "${job.taskId}" for ${job.shortName}`);
  // Everything that can refuse the job is computed before the directory is made. A function
  // task's runner command is only written in job.sh: none is made without one (threads).
  let script: string | undefined;
  if (withScript) {
    const argv = command ?? (functionTasks && job.task.module ? await functionTasks.runnerArgv(job.task.module, directory) : runnerCommand(directory));
    script = jobScript({ taskId: job.taskId, hash: job.hash, directory, argv, env, resumable: job.task.resumable !== undefined });
  }
  const paramsText = paramsFileText(job, { command, env, experiment: options.experiment });
  if (!claimed) await connector.mkdir(job.directory);
  const paramsPath = jobFile(job.directory, 'params');
  // Written under the job's claim, so nobody reads them half-written: a job's files written
  // for the first time are each one create, without the write-beside-and-rename (a
  // file-system call less per file; a file created half-way is rewritten whole by the next
  // prepare, which finds it there). job.sh has no exec bit: every launcher runs it as
  // `/bin/sh job.sh`. A launcher without job.sh (threads) has one file to write: no Promise.all for it.
  if (fresh) {
    if (script === undefined) return connector.appendFile(paramsPath, paramsText);
    await Promise.all([connector.appendFile(paramsPath, paramsText), connector.appendFile(jobFile(job.directory, 'script'), script)]);
    return;
  }
  const firstTime = claimed && !(await connector.exists(paramsPath));
  const writeParams = firstTime ? connector.appendFile(paramsPath, paramsText) : connector.writeFile(paramsPath, paramsText);
  if (script === undefined) return writeParams;
  await Promise.all([writeParams, connector.writeFile(jobFile(job.directory, 'script'), script)]);
}

/**
 * params.json's text. Built field by field rather than with spreads of optional parts:
 * this runs once per job, and V8 optimised the whole function with spreads in it in
 * ~50 ms of a background thread's time, taken from the threads running the jobs.
 */
function paramsFileText(job: Job, parts: { command: readonly string[] | undefined; env: Record<string, string>; experiment: { name: string; runId: string } }): string {
  const { task } = job;
  const record: Partial<JobParamsFile> = { taskId: job.taskId, hash: job.hash };
  if (task.version !== undefined) record.version = task.version;
  record.params = identityValue(job.identityParams, 'params');
  record.resolved = encodeParamValue(job.params) as Record<string, unknown>;
  if (Object.keys(job.options).length > 0) record.options = encodeParamValue(job.options) as Record<string, unknown>;
  record.dependencies = job.dependencies.map(({ taskId, hash, directory }) => ({ taskId, hash, directory }));
  if (task.command) record.command = parts.command;
  else record.module = task.module;
  if (task.requirements) record.requirements = task.requirements;
  record.tokens = job.tokens;
  record.env = parts.env;
  record.experiment = parts.experiment;
  return `${JSON.stringify(record, null, 2)}\n`;
}
