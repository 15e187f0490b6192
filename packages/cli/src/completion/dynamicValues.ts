// Completion values that come from the settings in force and from the workspace: workspace
// ids, job names (`task-id/hash-prefix`, from the job directories alone: no marker is read),
// task ids, experiments and their runs. The workspace is the one the command line names
// (--workspace, --workdir, --config-dir), else the default, as the command itself would find it.
import type { Connector } from '@baton/core';
import { readdir } from 'node:fs/promises';
import { posix } from 'node:path';
import { jobName } from '../output/table.ts';
import { locateWorkspace, type LocatedWorkspace } from '../workspaceOptions.ts';
import type { Candidate, DynamicValues, LineContext } from './completeWords.ts';

/** Above this many jobs, `<TAB>` offers task ids (`train/`) first, and the jobs of one task once it is typed. */
const MAX_JOBS_LISTED = 200;

export interface WorkspaceValues extends DynamicValues {
  /** Closes the workspace opened for a remote one. */
  close(): Promise<void>;
}

export function workspaceValues(): WorkspaceValues {
  const located = new Map<string, Promise<LocatedWorkspace>>();
  const locate = (context: LineContext) => {
    const key = JSON.stringify([context.workspace, context.workdir, context.configDir]);
    let found = located.get(key);
    if (!found) located.set(key, (found = locateWorkspace({ workspace: context.workspace, workdir: context.workdir, configDir: context.configDir })));
    return found;
  };
  const directories = async (context: LineContext, ...segments: string[]) => {
    const workspace = await locate(context);
    return listDirectories(workspace.opened?.connector, posix.join(workspace.path, ...segments));
  };
  return {
    async workspaces(context) {
      const { loadSettings } = await import('@baton/core');
      const loaded = await loadSettings({ configDir: context.configDir });
      return loaded.settings.workspaces.map((workspace) => ({ value: workspace.id, description: workspace.path }));
    },
    async jobs(context, prefix) {
      const slash = prefix.indexOf('/');
      const tasks = slash >= 0 ? [prefix.slice(0, slash)] : await directories(context, 'jobs');
      const jobs: Candidate[] = [];
      for (const taskId of tasks) {
        for (const hash of await directories(context, 'jobs', taskId)) jobs.push({ value: jobName({ taskId, hash }) });
        if (slash < 0 && jobs.length > MAX_JOBS_LISTED) return tasks.map((task) => ({ value: `${task}/`, description: 'task' }));
      }
      return jobs;
    },
    async tasks(context) {
      return (await directories(context, 'jobs')).map((value) => ({ value }));
    },
    async experiments(context) {
      return (await directories(context, 'experiments')).map((value) => ({ value }));
    },
    async runs(context) {
      if (context.experiment === undefined) return [];
      const runs = await directories(context, 'experiments', context.experiment);
      return [{ value: 'latest' }, ...runs.sort().reverse().map((value) => ({ value }))];
    },
    async close() {
      for (const found of located.values()) await (await found.catch(() => undefined))?.opened?.close();
    },
  };
}

/** The subdirectories of a folder (none when it does not exist), on this machine or through a connector. */
async function listDirectories(connector: Connector | undefined, path: string): Promise<string[]> {
  if (connector) {
    const entries = await connector.listDirectory(path).catch(() => []);
    return entries.filter((entry) => entry.kind === 'directory').map((entry) => entry.name);
  }
  const entries = await readdir(path, { withFileTypes: true }).catch(() => []);
  return entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name);
}
