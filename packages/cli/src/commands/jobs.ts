// `baton jobs list|log|kill|clean`: look at and act on the jobs of a workspace, from its files.
// The command line is declared in jobsCommand.ts; this module is loaded when one of them runs.
import { existsSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
// The job catalog alone (no zod, no scheduler): listing a workspace loads what it reads.
import { cleanJobs, findJobs, listJobs } from '@baton/core/catalog';
import type { Workspace } from '@baton/core';
import { formatDuration, formatTable } from '../output/table.ts';
import { launcherStatus } from '../launcherStatus.ts';
import { openWorkspaceWithLaunchers, workspacePath } from '../workspaceOptions.ts';
import type { WorkspaceOptions } from '../workspaceFlags.ts';
import type { CleanJobsCommandOptions, ListJobsCommandOptions, LogJobCommandOptions } from './jobsCommand.ts';

export async function listJobsCommand(options: ListJobsCommandOptions): Promise<void> {
  const path = await workspacePath(options);
  // Launchers are asked only about jobs their files cannot settle: an empty or finished
  // workspace is listed without loading settings or plugins.
  let opened: Promise<Workspace | undefined> | undefined;
  const workspace = () =>
    (opened ??= openWorkspaceWithLaunchers({ options: options.workspace === undefined ? { ...options, workdir: path } : options, required: false }));
  const records = await listJobs({
    workspacePath: path,
    state: options.state,
    taskId: options.task,
    experiment: options.experiment,
    status: launcherStatus(workspace),
  }).finally(async () => (await opened)?.close());
  if (options.json) {
    process.stdout.write(`${JSON.stringify(records, null, 2)}\n`);
    return;
  }
  if (records.length === 0) {
    process.stdout.write('No jobs.\n');
    return;
  }
  // Duration and host come from the job's marker (markers of earlier versions have neither: `-`).
  const rows = records.map((job) => [
    job.state,
    job.taskId,
    job.hash.slice(0, 12),
    job.provenance?.durationSeconds === undefined ? '-' : formatDuration(job.provenance.durationSeconds * 1000),
    job.provenance?.host ?? '-',
    job.directory,
    job.detail ?? job.failure?.reason ?? '',
  ]);
  process.stdout.write(`${formatTable({ header: ['STATE', 'TASK', 'HASH', 'DURATION', 'HOST', 'DIRECTORY', 'DETAIL'], rows })}\n`);
}

export async function logJobCommand(ref: string, options: LogJobCommandOptions): Promise<void> {
  const [job] = await findJobs({ workspacePath: await jobsWorkspace(ref, options), refs: [ref] });
  const stream = options.stderr ? 'stderr' : 'stdout';
  const { followJobOutput, printJobOutput } = await import('./jobLog.ts');
  if (options.follow) await followJobOutput({ directory: job!.directory, stream });
  else await printJobOutput({ directory: job!.directory, stream });
}

export async function killJobsCommand(refs: string[], options: WorkspaceOptions): Promise<void> {
  const workspace = await jobsWorkspace(refs[0]!, options);
  const records = await findJobs({ workspacePath: workspace, refs });
  // Launchers come from the workspace the jobs were found in.
  const { killJobs } = await import('./killJobs.ts');
  const failures = await killJobs({ jobs: records, workspace: options.workspace === undefined ? { ...options, workdir: workspace } : options });
  if (failures > 0) process.exitCode = 1;
}

export async function cleanJobsCommand(options: CleanJobsCommandOptions): Promise<void> {
  const perform = options.perform === true;
  const removed = await cleanJobs({
    workspacePath: await workspacePath(options),
    states: options.state ? [options.state] : ['done', 'failed'],
    perform,
  });
  if (removed.length === 0) {
    process.stdout.write('Nothing to clean.\n');
    return;
  }
  const verb = perform ? 'Removed' : 'Would remove';
  process.stdout.write(`${verb} ${removed.length} job director${removed.length === 1 ? 'y' : 'ies'}:\n`);
  for (const directory of removed) process.stdout.write(`  ${directory}\n`);
  if (!perform) process.stdout.write('Nothing was removed: add --perform to remove them.\n');
}

/**
 * The workspace to look jobs up in. A ref that is a job directory needs no settings, so that
 * `baton jobs log <dir>` works from anywhere.
 */
async function jobsWorkspace(ref: string, options: WorkspaceOptions): Promise<string> {
  if (options.workdir === undefined && options.workspace === undefined) {
    // `<workspace>/jobs/<task-id>/<hash>`
    const directory = resolve(ref);
    const workspace = dirname(dirname(dirname(directory)));
    if (basename(dirname(dirname(directory))) === 'jobs' && existsSync(directory)) return workspace;
  }
  return workspacePath(options);
}
