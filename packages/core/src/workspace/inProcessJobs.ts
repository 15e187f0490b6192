// Jobs that run inside another process rather than in a process of their own
// (the `threads` launcher runs function tasks in worker threads of the experiment
// process). Their process.json names that process: its pid and its start time.
// Any process on the same host can tell from it whether the job may still run,
// with no launcher declared, and ask the owning process to cancel the job: it
// writes a cancel request in the job's directory, which the owner's launcher
// looks for while it runs the job.
import { readFileSync } from 'node:fs';
import { readMarkers, type MarkerState } from '../scheduler/jobMarkers.ts';
import type { Connector, LaunchHandle } from '../types.ts';

/** Name of the cancel request in a job's directory. */
export const CANCEL_REQUEST_FILE = 'cancel-request';

/** A handle of a job that runs inside process `pid`. */
export type InProcessHandle = LaunchHandle & { pid: number };

/** What a cancel request holds: the process asked to cancel, and who asks. */
export interface CancelRequest {
  /** The process that runs the job, as its handle names it. */
  pid: number;
  processStart?: string;
  requestedAt: string;
  /** Process that wrote the request. */
  by: number;
}

export function isInProcessHandle(handle: LaunchHandle | undefined): handle is InProcessHandle {
  // Handles written before `inProcess` existed carry `processStart` only.
  return handle !== undefined && (handle.inProcess === true || handle.processStart !== undefined) && typeof handle.pid === 'number';
}

/** True while the process that took the job runs (the same process: same pid and start time). */
export async function isOwningProcessAlive(connector: Pick<Connector, 'isProcessAlive' | 'readFileIfExists'>, handle: InProcessHandle): Promise<boolean> {
  if (!(await connector.isProcessAlive(handle.pid))) return false;
  if (handle.processStart === undefined) return true;
  const start = await processStartTime(connector, handle.pid);
  // A later process with the same pid: the one that ran the job is gone.
  return start === undefined || start === handle.processStart;
}

/**
 * What `baton jobs list` says of an in-process job without a marker, from its
 * handle alone (no launcher needed): running while the process that took it runs,
 * `incomplete` once it ended (interrupted: it runs again on resume).
 */
export async function inProcessJobState(
  connector: Pick<Connector, 'hostname' | 'isProcessAlive' | 'readFileIfExists'>,
  handle: InProcessHandle,
): Promise<{ state: 'running' | 'incomplete'; detail: string }> {
  if (handle.host !== connector.hostname) return { state: 'running', detail: `in a thread of process ${handle.pid} on ${handle.host} (not checked from ${connector.hostname})` };
  if (await isOwningProcessAlive(connector, handle)) return { state: 'running', detail: `in a thread of process ${handle.pid}` };
  return { state: 'incomplete', detail: `interrupted: its experiment process ${handle.pid} ended; it runs again on resume` };
}

/** Start time of a process (field 22 of /proc/<pid>/stat), or undefined where there is no /proc. */
export async function processStartTime(connector: Pick<Connector, 'readFileIfExists'>, pid: number): Promise<string | undefined> {
  const stat = await connector.readFileIfExists(`/proc/${pid}/stat`).catch(() => undefined);
  return stat === undefined ? undefined : startTimeField(stat);
}

let ownStart: { processStart: string | undefined } | undefined;

/**
 * This process's start time, as processStartTime gives it, read once and synchronously
 * (/proc/self/stat is made by the kernel, not read from a disk). A launcher that runs jobs
 * in this process writes it in their handles without waiting for a file read, which could
 * queue behind the experiment's work on its other jobs.
 */
export function ownProcessStartTime(): string | undefined {
  if (!ownStart) {
    let stat: string | undefined;
    try {
      stat = readFileSync('/proc/self/stat', 'utf8');
    } catch {
      // No /proc (macOS): handles carry the pid alone.
    }
    ownStart = { processStart: stat === undefined ? undefined : startTimeField(stat) };
  }
  return ownStart.processStart;
}

function startTimeField(stat: string): string | undefined {
  // The command name (field 2) may hold spaces and parentheses: count from its end.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[19];
}

export type CancelOutcome =
  /** The owning process cancelled it: its marker says so. */
  | { outcome: 'cancelled'; markers: MarkerState }
  /** It ended on its own first (done or failed), or its process ended meanwhile. */
  | { outcome: 'ended'; markers: MarkerState }
  /** No answer within the time given: the request stays, the owner acts on it when it looks next. */
  | { outcome: 'no answer' };

/**
 * Asks the process that runs an in-process job to cancel it, and waits for the
 * job's marker (the owner terminates the job's thread and marks it `cancelled`;
 * the experiment goes on with its other jobs).
 */
export async function requestCancel(
  connector: Connector,
  handle: InProcessHandle,
  options: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<CancelOutcome> {
  const request: CancelRequest = { pid: handle.pid, requestedAt: new Date().toISOString(), by: process.pid };
  if (handle.processStart !== undefined) request.processStart = handle.processStart;
  const path = `${handle.directory}/${CANCEL_REQUEST_FILE}`;
  await connector.writeFile(path, `${JSON.stringify(request)}\n`);
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  for (;;) {
    const markers = await readMarkers(connector, handle.directory);
    if (markers.state === 'failed' && markers.failure.reason === 'cancelled') return { outcome: 'cancelled', markers };
    if (markers.state !== 'none' || !(await isOwningProcessAlive(connector, handle))) {
      // Nobody will act on it: a request left behind would only be read and dropped later.
      await connector.remove(path).catch(() => undefined);
      return { outcome: 'ended', markers };
    }
    if (Date.now() >= deadline) return { outcome: 'no answer' };
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 100));
  }
}

/** The cancel request in a job's directory, if one is there and readable. */
export async function readCancelRequest(connector: Connector, directory: string): Promise<CancelRequest | undefined> {
  const text = await connector.readFileIfExists(`${directory}/${CANCEL_REQUEST_FILE}`).catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    const value = JSON.parse(text) as CancelRequest;
    return typeof value.pid === 'number' ? value : undefined;
  } catch {
    return undefined;
  }
}
