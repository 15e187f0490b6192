// The jobs the conformance kit hands to a launcher: real job directories with the
// job.sh core generates for every job, written through the connector (the host may
// be another machine), and what the scheduler would conclude once a launcher says a
// job finished, read from the markers job.sh wrote, as the scheduler reads them.
import { randomBytes } from 'node:crypto';
import { jobDirectory, jobFile } from '../job/jobFiles.ts';
import { jobScript } from '../job/jobScript.ts';
import { readMarkers, settleFailure, type JobProvenance } from '../scheduler/jobMarkers.ts';
import { MISSING_MARKER_GRACE_MS, unmarkedEnd } from '../scheduler/pollFlights.ts';
import type { Connector, FailureInfo, LaunchRequest, LaunchStatus } from '../types.ts';

/** Task id of every job the kit makes: its directories are `<workspace>/jobs/conformance/<hash>`. */
export const CONFORMANCE_TASK_ID = 'conformance';

/** File a gated job waits for before it ends; the kit writes it to let the job go. */
export const RELEASE_FILE = 'release';
/** File a job writes first thing (job.sh has set its traps by then). */
export const STARTED_FILE = 'started';
/** File a job writes its `BATON_JOB_HASH` into, in the directory job.sh runs it in. */
export const HASH_FILE = 'hash';

/**
 * The job's command: marks its start, records the hash job.sh exported in the directory
 * job.sh runs it in, waits for the release file when gated, then exits with its code.
 * `$1` is the exit code, `$2` is 1 for a gated job.
 */
const JOB_COMMAND = [
  `: > ${STARTED_FILE}`,
  `printf '%s\\n' "$BATON_JOB_HASH" > ${HASH_FILE}`,
  `if [ "$2" = 1 ]; then while [ ! -e ${RELEASE_FILE} ]; do sleep 0.2 2>/dev/null || sleep 1; done; fi`,
  'echo "conformance job exiting with $1"',
  'exit "$1"',
].join('\n');

export interface JobSpec {
  /** What the job's command exits with; default 0. */
  exitCode?: number;
  /** The job runs until the kit writes its release file (or it is cancelled). */
  gated?: boolean;
}

/** A job directory the kit made, with the request that hands it to a launcher. */
export interface KitJob {
  hash: string;
  /** The directory as the connector is given it. */
  directory: string;
  request: LaunchRequest;
  spec: JobSpec;
}

/** Makes a job directory under the workspace with core's job.sh in it, and the launch request the scheduler would make. */
export async function makeJob(connector: Connector, workspacePath: string, spec: JobSpec = {}): Promise<KitJob> {
  const hash = randomBytes(32).toString('hex');
  const directory = jobDirectory(workspacePath, CONFORMANCE_TASK_ID, hash);
  const hostDirectory = connector.resolve(directory);
  const argv = ['/bin/sh', '-c', JOB_COMMAND, 'baton-conformance', String(spec.exitCode ?? 0), spec.gated ? '1' : '0'];
  await connector.mkdir(directory);
  await connector.writeFile(jobFile(directory, 'script'), jobScript({ taskId: CONFORMANCE_TASK_ID, hash, directory: hostDirectory, argv, env: {} }), { mode: 0o755 });
  const request: LaunchRequest = {
    taskId: CONFORMANCE_TASK_ID,
    hash,
    directory: hostDirectory,
    scriptPath: connector.resolve(jobFile(directory, 'script')),
    name: `${CONFORMANCE_TASK_ID}-${hash.slice(0, 8)}`,
    requirements: {},
  };
  return { hash, directory, request, spec };
}

/** An empty job directory: where a job that never ran would have been. */
export async function makeEmptyJobDirectory(connector: Connector, workspacePath: string): Promise<string> {
  const directory = jobDirectory(workspacePath, CONFORMANCE_TASK_ID, randomBytes(32).toString('hex'));
  await connector.mkdir(directory);
  return connector.resolve(directory);
}

/** Lets a gated job end. */
export async function releaseJob(connector: Connector, job: KitJob): Promise<void> {
  await connector.writeFile(`${job.directory}/${RELEASE_FILE}`, '');
}

/** What the scheduler records for a job its launcher reported `finished`. */
export type Verdict = { state: 'done'; provenance?: JobProvenance } | { state: 'failed'; failure: FailureInfo; marker: 'failed' | 'none' };

/**
 * What the scheduler concludes for a job its launcher reported `finished` (its poll,
 * pollFlights): `done` when job.sh wrote the done marker; else the failed marker,
 * settled with the launcher's verdict (a job Baton cancelled is `cancelled`); without a
 * marker, the launcher's failure, `cancelled` for a job Baton cancelled, or after
 * MISSING_MARKER_GRACE_MS (a marker may lag on NFS) `lost`.
 */
export async function schedulerVerdict(connector: Connector, job: KitJob, status: LaunchStatus, options: { cancelRequested?: boolean } = {}): Promise<Verdict> {
  const cancelRequested = options.cancelRequested ?? false;
  const since = Date.now();
  for (;;) {
    const markers = await readMarkers(connector, job.directory);
    if (markers.state === 'done') return markers.provenance ? { state: 'done', provenance: markers.provenance } : { state: 'done' };
    if (markers.state === 'failed') {
      return { state: 'failed', failure: settleFailure({ marker: markers.failure, launcher: status.failure, cancelRequested }).failure, marker: 'failed' };
    }
    // No marker: the scheduler's own rule, once the grace for a late marker is over (or at once when it has a verdict).
    if (status.failure || cancelRequested || Date.now() - since >= MISSING_MARKER_GRACE_MS) {
      return { state: 'failed', failure: unmarkedEnd(status.failure, cancelRequested), marker: 'none' };
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The job's output so far (job.sh appends its command's stdout there). */
export async function jobStdout(connector: Connector, job: KitJob): Promise<string> {
  return (await connector.readFileIfExists(jobFile(job.directory, 'stdout'))) ?? '';
}
