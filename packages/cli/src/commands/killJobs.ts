// `baton jobs kill`: cancel jobs through their launcher, or, for local jobs on this host,
// by signalling their process group.
import { hostname } from 'node:os';
import { existsSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { BatonError, jobFile } from '@baton/core';
import type { FailureInfo, LaunchHandle, Workspace } from '@baton/core';
import type { JobRecord } from '@baton/core';
import { jobName } from '../output/table.ts';
import { openWorkspaceWithLaunchers, type WorkspaceOptions } from '../workspaceOptions.ts';

/** How long a job gets to exit after SIGTERM before SIGKILL. */
const GRACE_MS = 3000;

const CANCELLED: FailureInfo = { code: null, reason: 'cancelled', message: 'killed by baton jobs kill' };

/** Kills each job; prints one line per job; returns how many could not be killed. */
export async function killJobs(options: { jobs: readonly JobRecord[]; workspace: WorkspaceOptions }): Promise<number> {
  let failures = 0;
  let workspace: Workspace | undefined;
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
      const isLocalHere = handle.kind === 'local' && handle.host === hostname();
      if (isLocalHere && job.state !== 'running') {
        process.stdout.write(`${name}: its process is gone, nothing to kill\n`);
        continue;
      }
      workspace ??= await openWorkspaceWithLaunchers({ options: options.workspace, required: !isLocalHere });
      const launcher = workspace?.launchers.get(handle.launcher);
      if (launcher) {
        await launcher.cancel([handle]);
      } else if (isLocalHere) {
        await killLocalProcessGroup(handle);
      } else {
        failures++;
        process.stderr.write(
          `${name}: cannot cancel a ${handle.kind} job on ${handle.host} without its launcher "${handle.launcher}"\n` +
            `  fix: run this command with the --workspace that declares launcher "${handle.launcher}"${handle.clusterId ? `, or cancel cluster job ${handle.clusterId} with the scheduler's own command` : ''}\n`,
        );
        continue;
      }
      await writeCancelledMarker(job.directory);
      process.stdout.write(`${name}: killed\n`);
    }
  } finally {
    await workspace?.close();
  }
  return failures;
}

/** SIGTERM to the job's process group, SIGKILL to what is left after the grace period. */
async function killLocalProcessGroup(handle: LaunchHandle): Promise<void> {
  const pid = handle.pid;
  // -0 and -1 would signal our own group or every process we may signal.
  if (pid === undefined || !Number.isInteger(pid) || pid <= 1) return;
  if (!signalGroup(pid, 'SIGTERM')) return;
  for (let waited = 0; waited < GRACE_MS; waited += 100) {
    await sleep(100);
    if (!signalGroup(pid, 0)) return;
  }
  signalGroup(pid, 'SIGKILL');
  for (let waited = 0; waited < 1000 && signalGroup(pid, 0); waited += 50) await sleep(50);
}

/** False when the group no longer exists. */
function signalGroup(pid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw new BatonError(`Could not signal process group ${pid}: ${(error as Error).message}`, {
      where: `process group ${pid} on ${hostname()}`,
      hint: 'the job may belong to another user; kill it as that user',
      cause: error,
    });
  }
}

/** Leaves the job's own marker alone (job.sh may have written one on SIGTERM). */
async function writeCancelledMarker(directory: string): Promise<void> {
  const failed = jobFile(directory, 'failed');
  if (existsSync(jobFile(directory, 'done')) || existsSync(failed)) return;
  const temporary = `${failed}.${process.pid}.tmp`;
  await writeFile(temporary, JSON.stringify(CANCELLED));
  await rename(temporary, failed);
}
