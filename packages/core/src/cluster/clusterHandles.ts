// A cluster launcher's handles: what process.json holds for a job a scheduler runs,
// and what a job the scheduler no longer (or not yet) lists is.
import { readMarkers } from '../scheduler/jobMarkers.ts';
import type { Connector, LaunchHandle, LaunchStatus } from '../types.ts';

/** The handle of a job the scheduler knows as `clusterId`, submitted now. */
export function clusterHandle(launcher: { name: string; kind: string; connector: Connector }, directory: string, clusterId: string): LaunchHandle {
  return {
    launcher: launcher.name,
    kind: launcher.kind,
    host: launcher.connector.hostname,
    directory,
    clusterId,
    submittedAt: new Date().toISOString(),
  };
}

export interface MissingJobOptions {
  connector: Connector;
  handle: LaunchHandle;
  /** The scheduler's name in messages. */
  scheduler: string;
  /** How long after submission a job missing from the scheduler's answer still counts as queued (its records may lag); 0: none. */
  graceMs: number;
  /** What the scheduler was asked, for the message: `is listed neither by sacct nor by squeue`. */
  notListed: string;
  /**
   * The launcher asked the scheduler to cancel this job: one that vanished without a marker
   * was cancelled before it could start (SLURM keeps no record of a pending array task
   * cancelled alone), not lost.
   */
  cancelled?: boolean;
  now?: number;
}

/**
 * A job the scheduler does not list: just submitted (queued during the grace period), or
 * forgotten: finished when it left a marker, else lost.
 */
export async function missingJobStatus(options: MissingJobOptions): Promise<LaunchStatus> {
  const { connector, handle, scheduler, graceMs, notListed } = options;
  const age = (options.now ?? Date.now()) - Date.parse(handle.submittedAt);
  if (graceMs > 0 && !(age > graceMs)) return { state: 'queued', detail: `submitted; not yet listed by ${scheduler}` };
  if ((await readMarkers(connector, handle.directory)).state !== 'none') return { state: 'finished' };
  if (options.cancelled) {
    return {
      state: 'finished',
      failure: { code: null, reason: 'cancelled', message: `${scheduler} job ${handle.clusterId} was cancelled before it started (it ${notListed})` },
    };
  }
  return {
    state: 'finished',
    failure: {
      code: null,
      reason: 'lost',
      message: `${scheduler} job ${handle.clusterId} ${notListed}, and it left no done or failed marker in ${handle.directory}`,
    },
  };
}
