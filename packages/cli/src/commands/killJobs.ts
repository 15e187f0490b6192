// `baton jobs kill`: cancel jobs through their launcher (for local jobs on the workspace's
// host, the local launcher even when the workspace cannot be opened). A job in a thread of
// an experiment process (the `threads` launcher) is cancelled by that process: it is asked
// through a request in the job's directory, terminates the job's thread and goes on.
// A workspace on another host is reached through its connector, for all of it.
import { LocalConnector, createLogger } from '@baton/core';
import { killJob } from '@baton/core/catalog';
import { LocalLauncher } from '@baton/launcher-local';
import type { Connector, Workspace } from '@baton/core';
import type { JobRecord } from '@baton/core';
import { jobName } from '../output/table.ts';
import { openWorkspaceWithLaunchers } from '../workspaceOptions.ts';
import type { WorkspaceOptions } from '../workspaceFlags.ts';

export interface KillJobsOptions {
  jobs: readonly JobRecord[];
  /** Where to open the workspace for its launchers, when a job needs them. */
  workspace: WorkspaceOptions;
  /** The workspace already opened (one on another host): its launchers, and its connector for its files and processes; the caller closes it. */
  opened?: Workspace;
}

/**
 * Jobs killed at once: a job in a thread of an experiment process waits for that process to
 * look at its requests (about once a second), so that many are asked together, not in turn.
 */
const KILLS_AT_ONCE = 16;

/** Kills each job; prints one line per job as it is done; returns how many could not be killed. */
export async function killJobs(options: KillJobsOptions): Promise<number> {
  let failures = 0;
  // Opened once, by the first job that needs its launchers.
  let opening: Promise<Workspace | undefined> | undefined = options.opened && Promise.resolve(options.opened);
  // The host the workspace's files are on, and how to reach them and its processes.
  const connector: Connector = options.opened?.connector ?? new LocalConnector();
  const killOne = async (job: JobRecord): Promise<void> => {
    const name = `${jobName(job)} (${job.directory})`;
    const result = await killJob({
      job,
      connector,
      by: 'baton jobs kill',
      launcher: async (handle, { isLocalHere }) => {
        const workspace = await (opening ??= openWorkspaceWithLaunchers({ options: options.workspace, required: !isLocalHere }));
        // No workspace to take the launcher from: the local launcher cancels a local job all the same.
        return workspace?.launchers.get(handle.launcher) ?? (isLocalHere ? new LocalLauncher({ name: 'local', connector, logger: createLogger('baton:cli') }) : undefined);
      },
    });
    if (result.outcome === 'refused') {
      failures++;
      process.stderr.write(`${name}: ${result.message}\n  fix: ${result.hint}\n`);
    } else {
      process.stdout.write(`${name}: ${result.message}\n`);
    }
  };
  try {
    const queue = [...options.jobs];
    const worker = async (): Promise<void> => {
      for (let job = queue.shift(); job; job = queue.shift()) await killOne(job);
    };
    await Promise.all(Array.from({ length: Math.min(KILLS_AT_ONCE, queue.length) }, worker));
  } finally {
    const workspace = await opening?.catch(() => undefined);
    if (workspace !== options.opened) await workspace?.close();
    if (!options.opened) await connector.close?.();
  }
  return failures;
}
