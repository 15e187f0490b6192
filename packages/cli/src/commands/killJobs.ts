// `baton jobs kill`: cancel jobs through their launcher (for local jobs on this host, the
// local launcher even when the workspace cannot be opened).
import { hostname } from 'node:os';
import { existsSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { LocalConnector, createLogger, jobFile } from '@baton/core';
import { LocalLauncher } from '@baton/launcher-local';
import type { FailureInfo, Workspace } from '@baton/core';
import type { JobRecord } from '@baton/core';
import { jobName } from '../output/table.ts';
import { openWorkspaceWithLaunchers } from '../workspaceOptions.ts';
import type { WorkspaceOptions } from '../workspaceFlags.ts';

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
        // No workspace to take the launcher from: the local launcher cancels it all the same.
        await new LocalLauncher({ name: 'local', connector: new LocalConnector(), logger: createLogger('baton:cli') }).cancel([handle]);
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

/** Leaves the job's own marker alone (job.sh may have written one on SIGTERM). */
async function writeCancelledMarker(directory: string): Promise<void> {
  const failed = jobFile(directory, 'failed');
  if (existsSync(jobFile(directory, 'done')) || existsSync(failed)) return;
  const temporary = `${failed}.${process.pid}.tmp`;
  await writeFile(temporary, JSON.stringify(CANCELLED));
  await rename(temporary, failed);
}
