// Handles of jobs a launcher never ran, made from one of its real handles: the
// scheduler asks launchers about such handles when it re-attaches from a
// process.json whose job is long gone (another run, another machine, a cluster
// that forgot it), and a launcher must not say they still run.
import type { Connector, LaunchHandle } from '../types.ts';

/** Linux gives pids below 2^22; counting down from there finds one no process has. */
const HIGHEST_PID = 4_194_303;
const PIDS_TRIED = 200;

/**
 * A handle like `real` for a job that never existed: its pid (a pid no process of the host
 * has) or cluster id (one the cluster never gave) changed, its directory an empty one, and
 * its submission time `submittedAt`.
 */
export async function neverSubmittedHandle(connector: Connector, real: LaunchHandle, options: { directory: string; submittedAt: Date }): Promise<LaunchHandle> {
  const handle: LaunchHandle = { ...real, directory: options.directory, submittedAt: options.submittedAt.toISOString() };
  if (real.pid !== undefined) handle.pid = await unusedPid(connector);
  if (real.clusterId !== undefined) handle.clusterId = unusedClusterId(real.clusterId);
  return handle;
}

/** A handle without the pid or cluster id a launcher follows its jobs by: one the launcher cannot check. */
export function handleWithoutId(real: LaunchHandle, directory: string): LaunchHandle {
  const { pid: _pid, clusterId: _clusterId, inProcess: _inProcess, processStart: _processStart, ...rest } = real;
  return { ...rest, directory };
}

async function unusedPid(connector: Connector): Promise<number> {
  for (let pid = HIGHEST_PID; pid > HIGHEST_PID - PIDS_TRIED; pid--) {
    if (!(await connector.isProcessAlive(pid)) && !(await connector.isProcessGroupAlive(pid))) return pid;
  }
  throw new Error(`every pid from ${HIGHEST_PID - PIDS_TRIED + 1} to ${HIGHEST_PID} runs on ${connector.hostname}: the kit found no pid to make a handle of a job that never existed`);
}

/** A cluster id no job has: the number 10,000,000 larger (`123_4` → `10000123_4`); a non-numeric id gets a suffix. */
function unusedClusterId(id: string): string {
  const match = /^(\d+)(.*)$/s.exec(id);
  return match ? `${Number(match[1]) + 10_000_000}${match[2]}` : `${id}-never-submitted`;
}
