// `baton jobs kill`: cancel jobs through their launcher (for local jobs on the workspace's
// host, the local launcher even when the workspace cannot be opened). A job in a thread of
// an experiment process (the `threads` launcher) is cancelled by that process: it is asked
// through a request in the job's directory, terminates the job's thread and goes on.
// A workspace on another host is reached through its connector, for all of it.
import { LocalConnector, createLogger, isInProcessHandle, jobFile, requestCancel } from '@baton/core';
import { LocalLauncher } from '@baton/launcher-local';
import type { Connector, FailureInfo, InProcessHandle, Workspace } from '@baton/core';
import type { JobRecord } from '@baton/core';
import { jobName } from '../output/table.ts';
import { openWorkspaceWithLaunchers } from '../workspaceOptions.ts';
import type { WorkspaceOptions } from '../workspaceFlags.ts';

const CANCELLED: FailureInfo = { code: null, reason: 'cancelled', message: 'killed by baton jobs kill' };

/** How long to wait for an experiment process to cancel a job in one of its threads. */
const IN_PROCESS_ANSWER_MS = 10_000;

export interface KillJobsOptions {
  jobs: readonly JobRecord[];
  /** Where to open the workspace for its launchers, when a job needs them. */
  workspace: WorkspaceOptions;
  /** The workspace already opened (one on another host): its launchers, and its connector for its files and processes; the caller closes it. */
  opened?: Workspace;
}

/** Kills each job; prints one line per job; returns how many could not be killed. */
export async function killJobs(options: KillJobsOptions): Promise<number> {
  let failures = 0;
  let workspace: Workspace | undefined = options.opened;
  // The host the workspace's files are on, and how to reach them and its processes.
  const connector: Connector = options.opened?.connector ?? new LocalConnector();
  try {
    for (const job of options.jobs) {
      const name = `${jobName(job)} (${job.directory})`;
      if (job.state === 'done' || job.state === 'failed') {
        process.stdout.write(`${name}: already ${job.state}, nothing to kill\n`);
        continue;
      }
      const handle = job.handle;
      if (!handle) {
        process.stdout.write(`${name}: not started (no process.json), nothing to kill\n`);
        continue;
      }
      if (isInProcessHandle(handle)) {
        if (!(await killInProcessJob({ name, handle, connector }))) failures++;
        continue;
      }
      const isLocalHere = handle.kind === 'local' && handle.host === connector.hostname;
      if (isLocalHere && job.state !== 'running') {
        process.stdout.write(`${name}: its process is gone, nothing to kill\n`);
        continue;
      }
      workspace ??= await openWorkspaceWithLaunchers({ options: options.workspace, required: !isLocalHere });
      const launcher = workspace?.launchers.get(handle.launcher);
      if (launcher) {
        await launcher.cancel([handle]);
      } else if (isLocalHere) {
        // No workspace to take the launcher from: the local launcher cancels it all the same.
        await new LocalLauncher({ name: 'local', connector, logger: createLogger('baton:cli') }).cancel([handle]);
      } else {
        failures++;
        process.stderr.write(
          `${name}: cannot cancel a ${handle.kind} job on ${handle.host} without its launcher "${handle.launcher}"\n` +
            `  fix: run this command with the --workspace that declares launcher "${handle.launcher}"${handle.clusterId ? `, or cancel cluster job ${handle.clusterId} with the scheduler's own command` : ''}\n`,
        );
        continue;
      }
      await writeCancelledMarker(connector, job.directory);
      process.stdout.write(`${name}: killed\n`);
    }
  } finally {
    if (workspace !== options.opened) await workspace?.close();
    if (!options.opened) await connector.close?.();
  }
  return failures;
}

/**
 * A job in a thread of an experiment process: only that process can end it. It is asked to
 * (it looks for requests about once a second while it runs jobs), and we wait for its answer.
 * Returns false when the job could not be killed.
 */
async function killInProcessJob(options: { name: string; handle: InProcessHandle; connector: Connector }): Promise<boolean> {
  const { name, handle, connector } = options;
  const where = `experiment process ${handle.pid}`;
  if (handle.host !== connector.hostname) {
    process.stderr.write(`${name}: runs in a thread of ${where} on ${handle.host}\n  fix: run baton jobs kill on ${handle.host}\n`);
    return false;
  }
  const answer = await requestCancel(connector, handle, { timeoutMs: IN_PROCESS_ANSWER_MS });
  if (answer.outcome === 'cancelled') {
    process.stdout.write(`${name}: killed (its thread in ${where} was terminated; the experiment goes on)\n`);
    return true;
  }
  if (answer.outcome === 'ended') {
    const state = answer.markers.state;
    process.stdout.write(
      state === 'none'
        ? `${name}: ${where} has ended, the job with it; nothing to kill (it runs again when its experiment resumes)\n`
        : `${name}: ended ${state} before it could be killed\n`,
    );
    return true;
  }
  process.stderr.write(
    `${name}: ${where} runs this job in a thread and has not answered within ${IN_PROCESS_ANSWER_MS / 1000} s; the request stays and it cancels the job when it next looks\n` +
      `  fix: wait, or stop that experiment (kill ${handle.pid}): the job then ends with it and runs again on resume\n`,
  );
  return false;
}

/** Leaves the job's own marker alone (job.sh may have written one on SIGTERM). */
async function writeCancelledMarker(connector: Connector, directory: string): Promise<void> {
  const failed = jobFile(directory, 'failed');
  if ((await connector.exists(jobFile(directory, 'done'))) || (await connector.exists(failed))) return;
  // Atomic: a reader sees no marker or the whole of it.
  await connector.writeFile(failed, JSON.stringify(CANCELLED));
}
