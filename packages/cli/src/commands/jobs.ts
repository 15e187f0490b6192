// `baton jobs list|log|kill|clean`: look at and act on the jobs of a workspace, from its files.
// The command line is declared in jobsCommand.ts; this module is loaded when one of them runs.
import { existsSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
// The job catalog alone (no zod, no scheduler): listing a workspace loads what it reads.
import { cleanJobs, findJobs, listJobs, unmatchedFilters } from '@baton/core/catalog';
import type { Workspace } from '@baton/core';
import { launcherStatus } from '../launcherStatus.ts';
import { locateWorkspace, openWorkspaceWithLaunchers, type LocatedWorkspace } from '../workspaceOptions.ts';
import type { WorkspaceOptions } from '../workspaceFlags.ts';
import type { CleanJobsCommandOptions, ListJobsCommandOptions, LogJobCommandOptions } from './jobsCommand.ts';

export async function listJobsCommand(options: ListJobsCommandOptions): Promise<void> {
  const located = await locateWorkspace(options);
  const { path } = located;
  // Launchers are asked only about jobs their files cannot settle: an empty or finished
  // workspace on this machine is listed without loading settings or plugins.
  let opened: Promise<Workspace | undefined> | undefined = located.opened && Promise.resolve(located.opened);
  const workspace = () =>
    (opened ??= openWorkspaceWithLaunchers({ options: options.workspace === undefined ? { ...options, workdir: path } : options, required: false }));
  const records = await listJobs({
    workspacePath: path,
    connector: located.opened?.connector,
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
    // A filter that names nothing of this workspace is more likely a typo than an empty answer.
    const notes = await unmatchedFilters({ workspacePath: path, connector: located.opened?.connector, experiment: options.experiment, taskId: options.task });
    process.stdout.write(['No jobs.', ...notes].join('\n') + '\n');
    return;
  }
  const [{ formatJobsTable }, { outputStyle, outputWidth }] = await Promise.all([import('../output/jobsTable.ts'), import('../output/terminal.ts')]);
  const table = formatJobsTable({ records, wide: options.wide === true, width: outputWidth(process.stdout), style: outputStyle(process.stdout) });
  process.stdout.write(`${table}\n`);
}

export async function logJobCommand(ref: string, options: LogJobCommandOptions): Promise<void> {
  const located = await jobsWorkspace(ref, options);
  try {
    const connector = located.opened?.connector;
    const [job] = await findJobs({ workspacePath: located.path, connector, refs: [ref] });
    const stream = options.stderr ? 'stderr' : 'stdout';
    const { followJobOutput, printJobOutput } = await import('./jobLog.ts');
    if (options.follow) await followJobOutput({ directory: job!.directory, stream, connector });
    else await printJobOutput({ directory: job!.directory, stream, connector });
  } finally {
    await located.opened?.close();
  }
}

export async function killJobsCommand(refs: string[], options: WorkspaceOptions): Promise<void> {
  const located = await jobsWorkspace(refs[0]!, options);
  try {
    const records = await findJobs({ workspacePath: located.path, connector: located.opened?.connector, refs });
    // Launchers come from the workspace the jobs were found in.
    const { killJobs } = await import('./killJobs.ts');
    const failures = await killJobs({
      jobs: records,
      workspace: options.workspace === undefined ? { ...options, workdir: located.path } : options,
      opened: located.opened,
    });
    if (failures > 0) process.exitCode = 1;
  } finally {
    await located.opened?.close();
  }
}

export async function cleanJobsCommand(options: CleanJobsCommandOptions): Promise<void> {
  const perform = options.perform === true;
  const located = await locateWorkspace(options);
  const removed = await cleanJobs({
    workspacePath: located.path,
    connector: located.opened?.connector,
    states: options.state ? [options.state] : ['done', 'failed'],
    perform,
  }).finally(() => located.opened?.close());
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
async function jobsWorkspace(ref: string, options: WorkspaceOptions): Promise<LocatedWorkspace> {
  if (options.workdir === undefined && options.workspace === undefined) {
    // `<workspace>/jobs/<task-id>/<hash>`
    const directory = resolve(ref);
    const workspace = dirname(dirname(dirname(directory)));
    if (basename(dirname(dirname(directory))) === 'jobs' && existsSync(directory)) return { path: workspace };
  }
  return locateWorkspace(options);
}
