// Every OAR job state mapped to a Baton launch status, on purpose: a state missing
// here is reported as `unknown` with its name, never guessed. OAR has one end state
// for every failure (Error); its events say what happened.
import { constants } from 'node:os';
import type { FailureInfo, LaunchStatus } from '@baton/core';

/** One event of a job, as `oarstat -f -J` lists them. */
export interface OarEvent {
  type: string;
  description: string;
  date?: number;
}

/** One job as `oarstat -f -J` describes it. */
export interface OarRecord {
  jobId: string;
  state: string;
  /** Raw wait status (`exit 3` → 768); null until the job ends, and for jobs that end in Error. */
  exitCode: number | null;
  /** The scheduler's message (why a job waits, among other things). */
  message?: string;
  events: OarEvent[];
  /** Walltime in seconds. */
  walltime?: number;
  /** When OAR expects to start a waiting job (epoch seconds). */
  scheduledStart?: number;
  name?: string;
  /** When the job started and stopped (epoch seconds; 0 when it never did). */
  startTime?: number;
  stopTime?: number;
  /** The hosts it ran on. */
  hosts?: string[];
}

export interface WaitStatus {
  /** Exit code of a process that exited. */
  code?: number;
  /** Signal that killed it. */
  signal?: number;
}

/**
 * OAR's `exit_code` is the raw wait status of the job's command: the exit code in the
 * second byte (`exit 3` → 768), a killing signal in the low 7 bits. Anything that is
 * not a wait status (negative, too large, not an integer) is undefined: never guessed.
 */
export function decodeWaitStatus(status: number | null | undefined): WaitStatus | undefined {
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 0 || status > 0xffff) return undefined;
  const signal = status & 0x7f;
  if (signal === 0) return { code: (status >> 8) & 0xff };
  // 0x7f: stopped, not ended; no signal number is above 64.
  if (signal === 0x7f || signal > 64) return undefined;
  return { signal };
}

/** The code a shell would report: 128 + signal for a job killed by a signal; null when unknown. */
export function exitCodeOf(status: WaitStatus | undefined): number | null {
  if (!status) return null;
  if (status.signal !== undefined) return 128 + status.signal;
  return status.code ?? null;
}

/** The launch status of an OAR job from its record. */
export function oarStatus(record: OarRecord): LaunchStatus {
  const map = STATES[record.state];
  if (!map) return { state: 'unknown', detail: `OAR job ${record.jobId} is in state ${record.state}, which Baton does not know` };
  return map(record);
}

/** The OAR states Baton knows (for the docs and the tests). */
export function knownOarStates(): string[] {
  return Object.keys(STATES);
}

type StateMapping = (record: OarRecord) => LaunchStatus;

const queued =
  (what?: string): StateMapping =>
  (record) => {
    const detail = [what, waitingReason(record)].filter(Boolean).join(': ');
    return detail ? { state: 'queued', detail } : { state: 'queued' };
  };

const running =
  (detail?: string): StateMapping =>
  () =>
    detail ? { state: 'running', detail } : { state: 'running' };

const STATES: Readonly<Record<string, StateMapping>> = {
  Waiting: queued(),
  // `oarsub --hold`, or `oarhold` by the user or an administrator: waits for `oarresume`.
  Hold: (record) => ({ state: 'queued', detail: `held by OAR (release it with: oarresume ${record.jobId})` }),
  // Advance reservations: OAR is checking that the asked slot can be granted.
  toAckReservation: queued('reservation waiting for acknowledgement'),
  toLaunch: queued('about to be launched'),
  Launching: queued('being launched on its node'),
  Running: running(),
  Suspended: running('suspended by OAR'),
  Resuming: running('being resumed by OAR'),
  // The job's command ended; OAR is cleaning up. The markers job.sh wrote say how it went.
  Finishing: running(),
  // On its way to Error: its events are complete once it is there.
  toError: running('ending in error'),
  // The command ended, with any exit code: job.sh's markers say how; the exit code is the fallback.
  Terminated: terminated,
  Error: inError,
};

function terminated(record: OarRecord): LaunchStatus {
  const status = decodeWaitStatus(record.exitCode);
  const code = exitCodeOf(status);
  if (code === 0 || status === undefined) return { state: 'finished' };
  const how = status.signal !== undefined ? `killed by signal ${status.signal}${signalName(status.signal)}` : `exit code ${code}`;
  return { state: 'finished', failure: { code, reason: 'failed', message: `OAR job ${record.jobId} failed (${how})` } };
}

/** The description of a cancel request OAR's own modules make (sarko at the walltime): `User root requested to frag the job 89`. */
const OAR_ITSELF = /^User (?:root|oar) requested/;

/** Events that say nothing about why a job ended in Error: OAR's own steps. */
const BOOKKEEPING_EVENTS = new Set(['FRAG_JOB_REQUEST', 'SWITCH_INTO_ERROR_STATE', 'SWITCH_INTO_TERMINATE_STATE', 'SEND_KILL_JOB', 'CHECKPOINT', 'CHECKPOINT_SUCCESSFULL', 'HOLD_WAITING_JOB', 'RESUME_JOB']);

function inError(record: OarRecord): LaunchStatus {
  const failure = (reason: FailureInfo['reason'], message: string): LaunchStatus => ({ state: 'finished', failure: { code: null, reason, message } });
  // A besteffort job OAR killed to give its resources to another job.
  if (record.events.some((event) => event.type === 'BESTEFFORT_KILL')) {
    return failure('preempted', `OAR job ${record.jobId}, a besteffort job, was killed to give its resources to another job`);
  }
  // OAR ends a job at its walltime by a cancel request of its own (sarko's FRAG_JOB_REQUEST, as
  // root, with the WALLTIME event): a timeout. A cancel request by someone else before it, or any
  // cancel request without a WALLTIME event, is a cancel.
  const walltimeEvent = record.events.find((event) => event.type === 'WALLTIME');
  const cancelRequest = record.events.find(
    (event) => event.type === 'FRAG_JOB_REQUEST' && (!walltimeEvent || (!OAR_ITSELF.test(event.description) && (event.date ?? Infinity) < (walltimeEvent.date ?? -Infinity))),
  );
  if (cancelRequest) return failure('cancelled', `OAR job ${record.jobId} was cancelled (${cancelRequest.description.trim() || 'oardel'})`);
  if (walltimeEvent) {
    const walltime = record.walltime === undefined ? '' : ` (${formatSeconds(record.walltime)})`;
    return failure('timeout', `OAR job ${record.jobId} reached its walltime${walltime}`);
  }
  const cause = [...record.events].reverse().find((event) => !BOOKKEEPING_EVENTS.has(event.type));
  if (cause) return failure('failed', `OAR job ${record.jobId} ended in error: ${cause.type}: ${cause.description.trim()}`);
  return failure('failed', `OAR job ${record.jobId} ended in state Error with no event saying why; see \`oarstat -f -j ${record.jobId}\` and the OAR server's log`);
}

/** OAR's message on a waiting job, unless it is only the scheduler's summary (`R=1,W=0:5:0,J=B,N=x (Karma=...)`). */
function waitingReason(record: OarRecord): string | undefined {
  const message = record.message?.trim();
  if (message && !/^R=\d+,W=[\d:]+,J=\w(?:,N=[^ ]*)?(?: \(.*\))?$/.test(message)) return message;
  // Once that time has passed (a job being launched), it says nothing.
  if (record.scheduledStart && record.scheduledStart * 1000 > Date.now()) return `expected to start at ${new Date(record.scheduledStart * 1000).toISOString()}`;
  return undefined;
}

function formatSeconds(seconds: number): string {
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  return `${hours}:${String(minutes).padStart(2, '0')}:${String(seconds % 60).padStart(2, '0')}`;
}

function signalName(signal: number): string {
  const name = Object.entries(constants.signals).find(([, number]) => number === signal)?.[0];
  return name ? ` (${name})` : '';
}
