// Killing one job of a workspace, from outside the process that runs it: `baton jobs kill`
// and the monitor's kill button. A job in a thread of an experiment process (the `threads`
// launcher) is cancelled by that process, through a request in the job's directory; any
// other job through its launcher, which the caller finds (it may have to open the workspace).
import { jobFile } from '../job/jobFiles.ts';
import type { Connector, FailureInfo, LaunchHandle, Launcher } from '../types.ts';
import type { JobRecord } from './jobCatalog.ts';
import { isInProcessHandle, requestCancel, type InProcessHandle } from './inProcessJobs.ts';

/** How long to wait for an experiment process to cancel a job in one of its threads. */
const IN_PROCESS_ANSWER_MS = 10_000;

export interface KillJobOptions {
  job: JobRecord;
  /** Reaches the host the workspace's files (and its local jobs' processes) are on. */
  connector: Connector;
  /**
   * The launcher that cancels a job of this handle, or undefined when there is none.
   * `isLocalHere`: a local job on the workspace's host (any local launcher can cancel it).
   */
  launcher(handle: LaunchHandle, context: { isLocalHere: boolean }): Promise<Launcher | undefined>;
  /** Who kills it, for the `failed` marker's message: `killed by <by>`. */
  by: string;
  /** How long to wait for an experiment process to cancel a job in one of its threads. */
  inProcessTimeoutMs?: number;
}

/**
 * What came of it. `killed` and `nothing` are successes (`nothing`: there was nothing to
 * kill); `refused` could not be done, and `hint` says what to do.
 */
export type KillJobResult = { outcome: 'killed' | 'nothing'; message: string } | { outcome: 'refused'; message: string; hint: string };

/** Kills one job; never throws for a job that cannot be killed (a refusal says why). */
export async function killJob(options: KillJobOptions): Promise<KillJobResult> {
  const { job, connector } = options;
  if (job.state === 'done' || job.state === 'failed') return { outcome: 'nothing', message: `already ${job.state}, nothing to kill` };
  const handle = job.handle;
  if (!handle) return { outcome: 'nothing', message: 'not started (no process.json), nothing to kill' };
  if (isInProcessHandle(handle)) return killInProcessJob({ handle, connector, timeoutMs: options.inProcessTimeoutMs ?? IN_PROCESS_ANSWER_MS });
  const isLocalHere = handle.kind === 'local' && handle.host === connector.hostname;
  if (isLocalHere && job.state !== 'running') return { outcome: 'nothing', message: 'its process is gone, nothing to kill' };
  const launcher = await options.launcher(handle, { isLocalHere });
  if (!launcher) {
    return {
      outcome: 'refused',
      message: `cannot cancel a ${handle.kind} job on ${handle.host} without its launcher "${handle.launcher}"`,
      hint: `run this command with the --workspace that declares launcher "${handle.launcher}"${handle.clusterId ? `, or cancel cluster job ${handle.clusterId} with the scheduler's own command` : ''}`,
    };
  }
  await launcher.cancel([handle]);
  await writeCancelledMarker(connector, job.directory, { code: null, reason: 'cancelled', message: `killed by ${options.by}` });
  return { outcome: 'killed', message: 'killed' };
}

/**
 * A job in a thread of an experiment process: only that process can end it. It is asked to
 * (it looks for requests about once a second while it runs jobs), and we wait for its answer.
 */
async function killInProcessJob(options: { handle: InProcessHandle; connector: Connector; timeoutMs: number }): Promise<KillJobResult> {
  const { handle, connector } = options;
  const where = `experiment process ${handle.pid}`;
  if (handle.host !== connector.hostname) {
    return { outcome: 'refused', message: `runs in a thread of ${where} on ${handle.host}`, hint: `run baton jobs kill on ${handle.host}` };
  }
  const answer = await requestCancel(connector, handle, { timeoutMs: options.timeoutMs });
  if (answer.outcome === 'cancelled') return { outcome: 'killed', message: `killed (its thread in ${where} was terminated; the experiment goes on)` };
  if (answer.outcome === 'ended') {
    const state = answer.markers.state;
    return {
      outcome: 'nothing',
      message:
        state === 'none'
          ? `${where} has ended, the job with it; nothing to kill (it runs again when its experiment resumes)`
          : `ended ${state} before it could be killed`,
    };
  }
  return {
    outcome: 'refused',
    message: `${where} runs this job in a thread and has not answered within ${options.timeoutMs / 1000} s; the request stays and it cancels the job when it next looks`,
    hint: `wait, or stop that experiment (kill ${handle.pid}): the job then ends with it and runs again on resume`,
  };
}

/** Leaves the job's own marker alone (job.sh may have written one on SIGTERM). */
async function writeCancelledMarker(connector: Connector, directory: string, failure: FailureInfo): Promise<void> {
  const failed = jobFile(directory, 'failed');
  if ((await connector.exists(jobFile(directory, 'done'))) || (await connector.exists(failed))) return;
  // Atomic: a reader sees no marker or the whole of it.
  await connector.writeFile(failed, JSON.stringify(failure));
}
