// `baton jobs list|log|kill|clean`: look at and act on the jobs of a workspace, from its files.
// The command line is declared in jobsCommand.ts; this module is loaded when one of them runs.
import { existsSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
// The job catalog alone (no zod, no scheduler): listing a workspace loads what it reads.
import { cleanJobs, findJobs, listJobs, unmatchedFilters } from '@baton/core/catalog';
import type { CatalogJobState, JobRecord, Workspace } from '@baton/core';
import { launcherStatus } from '../launcherStatus.ts';
import { locateWorkspace, openWorkspaceWithLaunchers, type LocatedWorkspace } from '../workspaceOptions.ts';
import type { WorkspaceOptions } from '../workspaceFlags.ts';
import type { CleanJobsCommandOptions, KillJobsCommandOptions, ListJobsCommandOptions, LogJobCommandOptions } from './jobsCommand.ts';

export async function listJobsCommand(options: ListJobsCommandOptions): Promise<void> {
  const located = await locateWorkspace(options);
  const { path } = located;
  const records = await listJobsAskingLaunchers(located, options.workspace === undefined ? { ...options, workdir: path } : options, {
    state: options.state,
    taskId: options.task,
    experiment: options.experiment,
  }).finally(() => located.opened?.close());
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

export async function killJobsCommand(refs: string[], options: KillJobsCommandOptions): Promise<void> {
  const filtered = options.experiment !== undefined || options.task !== undefined;
  if (refs.length === 0 && !filtered) {
    throw await killUsageError(
      'No jobs to kill',
      'name them (task-id/hash-prefix, hash prefix or job directory), or take every running or queued job of an experiment with --experiment <name> (or of a task with --task <id>)',
    );
  }
  if (refs.length > 0 && filtered) {
    throw await killUsageError('Both jobs and --experiment/--task given to baton jobs kill', 'either name the jobs, or select them with --experiment/--task, not both');
  }
  const located = refs.length > 0 ? await jobsWorkspace(refs[0]!, options) : await locateWorkspace(options);
  const workspaceOptions = options.workspace === undefined ? { ...options, workdir: located.path } : options;
  try {
    const records = refs.length > 0 ? await findJobs({ workspacePath: located.path, connector: located.opened?.connector, refs }) : await selectedActiveJobs(located, workspaceOptions, options);
    if (records.length === 0) {
      const notes = await unmatchedFilters({ workspacePath: located.path, connector: located.opened?.connector, experiment: options.experiment, taskId: options.task });
      process.stdout.write([`No running or queued jobs${describeFilters(options)}: nothing to kill.`, ...notes].join('\n') + '\n');
      return;
    }
    // Launchers come from the workspace the jobs were found in.
    const { killJobs } = await import('./killJobs.ts');
    const failures = await killJobs({ jobs: records, workspace: workspaceOptions, opened: located.opened });
    if (failures > 0) process.exitCode = 1;
  } finally {
    await located.opened?.close();
  }
}

/** The running and queued jobs an --experiment/--task selection names. */
async function selectedActiveJobs(located: LocatedWorkspace, workspaceOptions: WorkspaceOptions, options: KillJobsCommandOptions): Promise<JobRecord[]> {
  const records = await listJobsAskingLaunchers(located, workspaceOptions, { taskId: options.task, experiment: options.experiment });
  return records.filter((record) => record.state === 'running' || record.state === 'queued');
}

/**
 * The workspace's jobs, launchers asked only about those their files cannot settle: an empty
 * or finished workspace on this machine is listed without loading settings or plugins. A
 * workspace opened for its launchers here is closed here; `located.opened` is the caller's.
 */
async function listJobsAskingLaunchers(
  located: LocatedWorkspace,
  workspaceOptions: WorkspaceOptions,
  filters: { state?: CatalogJobState; taskId?: string; experiment?: string },
): Promise<JobRecord[]> {
  let opened: Promise<Workspace | undefined> | undefined = located.opened && Promise.resolve(located.opened);
  const workspace = () => (opened ??= openWorkspaceWithLaunchers({ options: workspaceOptions, required: false }));
  try {
    return await listJobs({ workspacePath: located.path, connector: located.opened?.connector, ...filters, status: launcherStatus(workspace) });
  } finally {
    const workspaceOpened = await opened;
    if (workspaceOpened !== located.opened) await workspaceOpened?.close();
  }
}

/** Core's error class is imported for the error only: `jobs` commands load the job catalog alone (above). */
async function killUsageError(message: string, hint: string): Promise<Error> {
  const { UserInputError } = await import('@baton/core');
  return new UserInputError(message, { where: 'baton jobs kill', hint });
}

function describeFilters(options: KillJobsCommandOptions): string {
  return [options.experiment !== undefined && ` of experiment ${options.experiment}`, options.task !== undefined && ` of task ${options.task}`].filter(Boolean).join(',');
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
