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
  functionTasks?: Pick<RemoteFunctionTasks, 'runnerArgv'>;
}

export async function writeJobFiles({ connector, job, workspaceEnv, experiment, claimed = false, fresh = false, script: withScript = true, functionTasks }: WriteJobFilesOptions): Promise<void> {
  const env = { ...workspaceEnv, ...job.env };
  const directory = connector.resolve(job.directory);
  const command = job.commandArgv(directory);
  // Checked at submit for the directory as this machine sees it; again here when another host sees it elsewhere.
  if (command) checkArgv(command, `command of task "${job.taskId}" for ${job.shortName}`);
  const argv = command ?? (functionTasks && job.task.module ? await functionTasks.runnerArgv(job.task.module, directory) : runnerCommand(directory));
  const record: JobParamsFile = {
    taskId: job.taskId,
    hash: job.hash,
    ...(job.task.version === undefined ? {} : { version: job.task.version }),
    params: identityValue(job.identityParams, 'params'),
    resolved: encodeParamValue(job.params) as Record<string, unknown>,
    ...(Object.keys(job.options).length > 0 ? { options: encodeParamValue(job.options) as Record<string, unknown> } : {}),
    dependencies: job.dependencies.map(({ taskId, hash, directory }) => ({ taskId, hash, directory })),
    ...(job.task.command ? { command: argv } : { module: job.task.module }),
    ...(job.task.requirements ? { requirements: job.task.requirements } : {}),
    tokens: job.tokens,
    env,
    experiment,
  };
  // Everything that can refuse the job is computed before the directory is made.
  const script = withScript
    ? jobScript({ taskId: job.taskId, hash: job.hash, directory, argv, env, resumable: job.task.resumable !== undefined })
    : undefined;
  if (!claimed) await connector.mkdir(job.directory);
  const paramsPath = jobFile(job.directory, 'params');
  const scriptPath = jobFile(job.directory, 'script');
  const paramsText = `${JSON.stringify(record, null, 2)}\n`;
  // Written under the job's claim, so nobody reads them half-written: a job's files written
  // for the first time are each one create, without the write-beside-and-rename (a
  // file-system call less per file; a file created half-way is rewritten whole by the next
  // prepare, which finds it there). job.sh has no exec bit: every launcher runs it as
  // `/bin/sh job.sh`.
  const writes: Promise<void>[] = [];
  if (fresh) {
    writes.push(connector.appendFile(paramsPath, paramsText));
    if (script !== undefined) writes.push(connector.appendFile(scriptPath, script));
  } else {
    const firstTime = claimed && !(await connector.exists(paramsPath));
    writes.push(firstTime ? connector.appendFile(paramsPath, paramsText) : connector.writeFile(paramsPath, paramsText));
    if (script !== undefined) writes.push(connector.writeFile(scriptPath, script));
  }
  // A launcher without job.sh (threads) has one file to write: no Promise.all for it.
  await (writes.length === 1 ? writes[0] : Promise.all(writes));
}
