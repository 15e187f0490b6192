// Reading and writing a job's markers and process.json: the source of truth
// every process consults before it runs, re-attaches or skips a job.
//
// job.sh writes both markers as JSON with the job's provenance:
//   done    {"code":0,"start":S,"end":E,"host":"node1","peakRssBytes":B}
//   failed  {"code":3,"reason":"failed","message":"...","start":S,"end":E,"host":"node1"}
// where S and E are seconds since the epoch (to the hundredth) and B the peak
// resident memory of the job's command in bytes, only where it is known (a
// function task's runner leaves it for job.sh: a shell cannot ask). Markers of
// earlier versions (an empty `done`, a `failed` without these fields) read as
// done or failed without provenance. Launchers and runners that write markers
// themselves (the threads launcher's worker) write them here, in the same format.
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { jobFile } from '../job/jobFiles.ts';
import type { Connector, FailureInfo, FailureReason, LaunchHandle } from '../types.ts';

/** When, where and how a job ran, from its marker; each field only when the marker has it. */
export interface JobProvenance {
  /** When the job's command started (ISO 8601). */
  startedAt?: string;
  /** When it ended (ISO 8601). */
  endedAt?: string;
  /** Seconds from start to end. */
  durationSeconds?: number;
  /** Host it ran on. */
  host?: string;
  /** Its exit code (128 + N when killed by signal N). */
  exitCode?: number | null;
  /** Peak resident memory of its command, in bytes; only where known (function tasks run by job.sh). */
  peakRssBytes?: number;
}

export type MarkerState =
  | { state: 'done'; provenance?: JobProvenance }
  | { state: 'failed'; failure: FailureInfo; provenance?: JobProvenance }
  | { state: 'none' };

export async function readMarkers(connector: Pick<Connector, 'readFileIfExists'>, directory: string): Promise<MarkerState> {
  const done = await connector.readFileIfExists(jobFile(directory, 'done'));
  if (done !== undefined) {
    const provenance = parseProvenance(parseJson(done));
    return provenance ? { state: 'done', provenance } : { state: 'done' };
  }
  const failed = await connector.readFileIfExists(jobFile(directory, 'failed'));
  if (failed === undefined) return { state: 'none' };
  const value = parseJson(failed);
  const failure = parseFailure(value, failed);
  const provenance = parseProvenance(value);
  return provenance ? { state: 'failed', failure, provenance } : { state: 'failed', failure };
}

/** When and where a job ran, as the writer of its marker knows it: times in milliseconds since the epoch. */
export interface MarkerRun {
  start?: number;
  end?: number;
  host?: string;
  /** Peak resident memory in bytes, when known. */
  peakRssBytes?: number;
}

/** The `done` marker's text, in job.sh's format: `{"code":0,"start":S,"end":E,"host":H}` (and `peakRssBytes` when known). */
export function doneMarkerText(run: MarkerRun): string {
  return `${JSON.stringify({ code: 0, ...markerRunFields(run) })}\n`;
}

/** The `failed` marker's text, in job.sh's format: the failure, then when and where it ran. */
export function failedMarkerText(failure: FailureInfo, run: MarkerRun = {}): string {
  return `${JSON.stringify({ ...failure, ...markerRunFields(run) })}\n`;
}

/** Writes the `done` marker, in one small write as job.sh does: whatever a reader sees of it says done. */
export async function writeDoneMarker(connector: Connector, directory: string, run: MarkerRun): Promise<void> {
  await connector.writeFile(jobFile(directory, 'done'), doneMarkerText(run));
}

/**
 * The same, synchronously and straight to the local disk: for a runner that runs
 * jobs inside this process (a worker thread), where a file write through the
 * thread pool would queue behind the scheduler's own.
 */
export function writeDoneMarkerSync(directory: string, run: MarkerRun): void {
  writeFileSync(jobFile(directory, 'done'), doneMarkerText(run));
}

/** Writes the `failed` marker synchronously to the local disk, beside it then renamed (a reader never sees half of it). */
export function writeFailedMarkerSync(directory: string, failure: FailureInfo, run: MarkerRun = {}): void {
  const path = jobFile(directory, 'failed');
  const temporary = `${path}.tmp`;
  try {
    writeFileSync(temporary, failedMarkerText(failure, run));
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}

/** Writes the `failed` marker; `provenance` (e.g. from the marker it replaces) is kept in job.sh's format. */
export async function writeFailedMarker(connector: Connector, directory: string, failure: FailureInfo, provenance?: JobProvenance): Promise<void> {
  const run: MarkerRun = {};
  const start = epochMilliseconds(provenance?.startedAt);
  const end = epochMilliseconds(provenance?.endedAt);
  if (start !== undefined) run.start = start;
  if (end !== undefined) run.end = end;
  if (provenance?.host !== undefined) run.host = provenance.host;
  if (provenance?.peakRssBytes !== undefined) run.peakRssBytes = provenance.peakRssBytes;
  await connector.writeFile(jobFile(directory, 'failed'), failedMarkerText(failure, run));
}

/**
 * True when a `failed` marker may not be the job's last word: job.sh only saw a
 * signal (reason `cancelled`), or its command die of one (a cluster signals every
 * process of the job, and the command may die before job.sh's own trap runs).
 * That is also how a time limit, an out-of-memory kill or a cluster requeueing
 * the job looks from inside. The launcher's status says which; until then the
 * job must not be retried nor its marker removed.
 */
export function launcherMayKnowBetter(markers: MarkerState): boolean {
  return markers.state === 'failed' && sawSignal(markers.failure);
}

/** job.sh was signalled, or its command was killed by a signal (exit code 128 + N). */
function sawSignal(failure: FailureInfo): boolean {
  return failure.reason === 'cancelled' || (failure.reason === 'failed' && failure.code !== null && failure.code > 128);
}

/** Reasons a launcher gives that say more than job.sh can see (it only sees a signal, or its command killed). */
const LAUNCHER_REASONS: ReadonlySet<FailureReason> = new Set(['timeout', 'oom', 'node_fail', 'preempted']);

export interface SettleFailureOptions {
  /** What job.sh wrote. */
  marker: FailureInfo;
  /** The launcher's verdict, when it has one. */
  launcher?: FailureInfo;
  /** Baton itself cancelled the job (kill, `baton jobs kill`). */
  cancelRequested: boolean;
}

/**
 * The failure to record for a job that ended with a `failed` marker, and whether
 * the marker must be rewritten so that it says the same (the marker, the live
 * output and `baton jobs list` agree on the reason).
 * - Baton cancelled it: `cancelled`, whatever killed it first.
 * - job.sh saw a signal, or its command die of one, and the launcher knows why
 *   (time limit, out of memory, node failure, preemption): the launcher's reason,
 *   with job.sh's exit code when the launcher has none.
 * - Otherwise job.sh's verdict stands.
 */
export function settleFailure({ marker, launcher, cancelRequested }: SettleFailureOptions): { failure: FailureInfo; rewrite: boolean } {
  if (cancelRequested) {
    return marker.reason === 'cancelled' ? { failure: marker, rewrite: false } : { failure: { ...marker, reason: 'cancelled' }, rewrite: true };
  }
  if (launcher && sawSignal(marker) && LAUNCHER_REASONS.has(launcher.reason) && launcher.reason !== marker.reason) {
    return { failure: { ...launcher, code: launcher.code ?? marker.code }, rewrite: true };
  }
  return { failure: marker, rewrite: false };
}

export async function readProcessFile(connector: Pick<Connector, 'readFileIfExists'>, directory: string): Promise<LaunchHandle | undefined> {
  const text = await connector.readFileIfExists(jobFile(directory, 'process'));
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as LaunchHandle;
  } catch {
    return undefined; // half-written by a process that died: as good as absent
  }
}

export async function writeProcessFile(connector: Connector, handle: LaunchHandle): Promise<void> {
  await connector.writeFile(jobFile(handle.directory, 'process'), `${JSON.stringify(handle, null, 2)}\n`);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function parseFailure(value: unknown, text: string): FailureInfo {
  if (!isObject(value)) return { code: null, reason: 'failed', message: text.trim() || 'failed (empty marker)' };
  return {
    code: typeof value.code === 'number' ? value.code : null,
    reason: typeof value.reason === 'string' ? (value.reason as FailureReason) : 'failed',
    message: typeof value.message === 'string' ? value.message : '',
  };
}

/** The provenance fields of a marker; undefined when it has none (a marker of an earlier version). */
function parseProvenance(value: unknown): JobProvenance | undefined {
  if (!isObject(value)) return undefined;
  const provenance: JobProvenance = {};
  const start = toMilliseconds(value.start);
  const end = toMilliseconds(value.end);
  if (start !== undefined) provenance.startedAt = new Date(start).toISOString();
  if (end !== undefined) provenance.endedAt = new Date(end).toISOString();
  if (start !== undefined && end !== undefined && end >= start) provenance.durationSeconds = Math.round(end - start) / 1000;
  if (typeof value.host === 'string' && value.host !== '') provenance.host = value.host;
  if (typeof value.peakRssBytes === 'number' && Number.isSafeInteger(value.peakRssBytes) && value.peakRssBytes > 0) provenance.peakRssBytes = value.peakRssBytes;
  if (typeof value.code === 'number' || (value.code === null && Object.keys(provenance).length > 0)) provenance.exitCode = value.code;
  return Object.keys(provenance).length > 0 ? provenance : undefined;
}

/** Epoch seconds (job.sh) or an ISO 8601 string, as milliseconds. */
function toMilliseconds(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) return Math.round(value * 1000);
  if (typeof value === 'string') {
    const time = Date.parse(value);
    return Number.isFinite(time) ? time : undefined;
  }
  return undefined;
}

function epochMilliseconds(iso: string | undefined): number | undefined {
  const time = iso === undefined ? NaN : Date.parse(iso);
  return Number.isFinite(time) ? time : undefined;
}

/** job.sh's `start`, `end` (seconds since the epoch, to the hundredth), `host` and `peakRssBytes`, each when known. */
function markerRunFields(run: MarkerRun): { start?: number; end?: number; host?: string; peakRssBytes?: number } {
  const times: { start?: number; end?: number; host?: string; peakRssBytes?: number } = {};
  if (run.start !== undefined) times.start = Math.round(run.start / 10) / 100;
  if (run.end !== undefined) times.end = Math.round(run.end / 10) / 100;
  if (run.host !== undefined) times.host = run.host;
  if (run.peakRssBytes !== undefined) times.peakRssBytes = run.peakRssBytes;
  return times;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
