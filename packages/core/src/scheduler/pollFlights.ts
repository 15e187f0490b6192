// One poll of one launcher: a single status query for all the jobs it runs,
// then, for each job the launcher no longer has, what its markers say (or,
// without a marker, the launcher's verdict), unless the launcher saw its done
// marker written.
import { isTransientError } from '../errors.ts';
import type { Job } from '../job/job.ts';
import { jobFile } from '../job/jobFiles.ts';
import type { Logger } from '../logger.ts';
import type { Connector, FailureInfo, LaunchStatus } from '../types.ts';
import type { FaultLog } from './faults.ts';
import { readMarkers, settleFailure, writeFailedMarker } from './jobMarkers.ts';
import type { Flight, LauncherLane } from './launcherLane.ts';

/** How long a finished job may go without a marker (NFS lag) before it counts as lost. */
export const MISSING_MARKER_GRACE_MS = 1500;
/** How often the directories of jobs still running are looked for (one look per job: rare on purpose). */
const DIRECTORY_CHECK_MS = 60_000;

export interface PollContext {
  connector: Connector;
  logger: Logger;
  faults: FaultLog;
  /** The workspace's directory, looked for at each poll (one look for all jobs). */
  workspacePath: string;
  /** A job in flight is now queued or running, or has a new launcher detail (pending reason). */
  update(job: Job, state: 'queued' | 'running', detail: string | undefined): void;
  /** A job in flight ended. */
  land(flight: Flight, state: 'done' | 'failed', failure?: FailureInfo): void;
}

/** Resolves true when some job changed, false when none did, undefined when the launcher could not answer. */
export async function pollFlights(lane: LauncherLane, context: PollContext): Promise<boolean | undefined> {
  const flights = [...lane.flights.values()];
  if (flights.length === 0) return false;
  // Its directory gone, a job can never write its marker, nor its results: it is lost
  // now rather than when it ends (hours later, maybe), and stopped.
  if (!(await context.connector.exists(context.workspacePath).catch(() => true))) {
    await loseRunning(lane, flights, context);
    return true;
  }
  if (Date.now() - lane.directoriesCheckedAt >= DIRECTORY_CHECK_MS) {
    lane.directoriesCheckedAt = Date.now();
    // An error to look counts as there: only a directory known to be gone loses its job.
    const present = await Promise.all(flights.map((flight) => context.connector.exists(flight.job.directory).catch(() => true)));
    const gone = flights.filter((_, i) => !present[i]);
    if (gone.length > 0) await loseRunning(lane, gone, context);
  }
  const { launcher } = lane;
  let statuses: LaunchStatus[];
  try {
    statuses = launcher ? await launcher.status(flights.map((flight) => flight.handle)) : flights.map(() => ({ state: 'unknown' as const }));
  } catch (error) {
    // Told once; the polls go on, and say when the launcher answers again.
    const line = `status of ${flights.length} job(s) on "${lane.name}" failed: ${errorMessage(error)}`;
    if (lane.statusFailing) context.logger.debug(line);
    else context.logger.warn(`${line} (trying again at each poll)`);
    lane.statusFailing = true;
    return undefined;
  }
  if (lane.statusFailing) context.logger.info(`"${lane.name}" answers status queries again`);
  lane.statusFailing = false;
  // Jobs still queued or running are applied in place; only those that ended need a look at their directory.
  let changed = false;
  const ended: Promise<boolean>[] = [];
  flights.forEach((flight, i) => {
    const status = statuses[i] ?? { state: 'unknown' };
    if (status.state === 'queued' || status.state === 'running') changed = applyUnderWay(flight, status.state, status.detail, context) || changed;
    else if (status.state === 'finished' && status.marker === 'done') {
      // The launcher saw the marker written: no look at the directory.
      context.land(flight, 'done');
      changed = true;
    } else ended.push(followEnded(flight, status, context).catch((error: unknown) => endFaulted(flight, error, context)));
  });
  if (ended.length === 0) return changed;
  return (await Promise.all(ended)).some(Boolean) || changed;
}

/** Jobs whose directory is gone: cancelled (best effort: nothing of theirs can be kept) and lost. */
async function loseRunning(lane: LauncherLane, flights: Flight[], context: PollContext): Promise<void> {
  await lane.launcher?.cancel(flights.map((flight) => flight.handle)).catch((error: unknown) => context.logger.debug(`cancel of lost jobs: ${errorMessage(error)}`));
  for (const flight of flights) {
    if (lane.flights.has(flight.job.hash)) context.land(flight, 'failed', await context.faults.directoryRemoved(flight.job));
  }
}

/** A fault while following one job ends that job, never the poll. */
async function endFaulted(flight: Flight, error: unknown, context: PollContext): Promise<boolean> {
  const { job } = flight;
  if (!flight.lane.flights.has(job.hash)) return true; // it landed before the fault
  // The host could not be reached for a moment (a dropped SSH connection): the job
  // goes on there; the next poll looks again.
  if (isTransientError(error)) {
    context.logger.debug(`could not look at ${job.directory} for now: ${errorMessage(error)}`);
    return false;
  }
  const present = await context.connector.exists(job.directory).catch((lookError: unknown) => (isTransientError(lookError) ? undefined : false));
  if (present === undefined) return false;
  if (!present) {
    context.land(flight, 'failed', await context.faults.directoryRemoved(job));
    return true;
  }
  const failure = context.faults.jobFault(job, error, { doing: 'Baton could not follow the job', reason: 'lost', tell: true });
  await writeFailedMarker(context.connector, job.directory, failure).catch(() => undefined);
  context.land(flight, 'failed', failure);
  return true;
}

/** A job the launcher still has, queued or running; true when that is news. */
function applyUnderWay(flight: Flight, state: 'queued' | 'running', detail: string | undefined, context: PollContext): boolean {
  const { job } = flight;
  flight.missingMarkerSince = undefined;
  const changed = job.state !== state || job.detail !== detail;
  if (changed) context.update(job, state, detail);
  return changed;
}

/** A job the launcher no longer has (or cannot tell about): what its markers say; true when the job changed. */
async function followEnded(flight: Flight, status: LaunchStatus, context: PollContext): Promise<boolean> {
  const { job } = flight;
  // Most jobs end done: one look at the marker (a stat, for the local connector) instead of reading it.
  if (await context.connector.exists(jobFile(job.directory, 'done'))) {
    context.land(flight, 'done');
    return true;
  }
  const markers = await readMarkers(context.connector, job.directory);
  if (markers.state === 'done') {
    context.land(flight, 'done');
    return true;
  }
  if (markers.state === 'failed') {
    // A job Baton cancelled failed because of that, whatever killed it first; the
    // launcher knows better why a job it stopped ended (timeout, oom...). The marker
    // is rewritten to say the same as what the user is told.
    const { failure, rewrite } = settleFailure({ marker: markers.failure, launcher: status.failure, cancelRequested: flight.cancelRequested });
    if (rewrite) await writeFailedMarker(context.connector, job.directory, failure, markers.provenance);
    context.land(flight, 'failed', failure);
    return true;
  }
  // No marker will ever come from a directory that is gone.
  if (!(await context.connector.exists(job.directory))) {
    context.land(flight, 'failed', await context.faults.directoryRemoved(job));
    return true;
  }
  if (status.state === 'unknown') return true;
  flight.missingMarkerSince ??= Date.now();
  if (!status.failure && !flight.cancelRequested && Date.now() - flight.missingMarkerSince < MISSING_MARKER_GRACE_MS) return true;
  const failure = unmarkedEnd(status.failure, flight.cancelRequested);
  await writeFailedMarker(context.connector, job.directory, failure);
  context.land(flight, 'failed', failure);
  return true;
}

/**
 * Why a job that the launcher no longer has ended, when it left no marker (after the
 * grace for a late one): the launcher's verdict, else cancelled if Baton asked for it, else lost.
 */
export function unmarkedEnd(launcherFailure: FailureInfo | undefined, cancelRequested: boolean): FailureInfo {
  if (launcherFailure) return launcherFailure;
  return cancelRequested
    ? { code: null, reason: 'cancelled', message: 'cancelled by Baton' }
    : { code: null, reason: 'lost', message: 'the job ended without writing a done or failed marker (killed?)' };
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
