// Every SLURM job state mapped to a Baton launch status, on purpose: a state
// missing here is reported as `unknown` with its name, never guessed.
import { constants } from 'node:os';
import type { FailureInfo, LaunchStatus } from '@baton/core';

/** One job as sacct or squeue describes it. */
export interface SlurmRecord {
  /** `123`, or `123_4` for an array task. */
  jobId: string;
  /** First word of the state (sacct writes `CANCELLED by 0`). */
  state: string;
  /** `code:signal`, when the source has it (sacct). */
  exitCode?: string;
  /** Pending reason, or why the job ended. */
  reason?: string;
  partition?: string;
  /** Time limit as SLURM prints it (`00:05:00`, `UNLIMITED`). */
  timeLimit?: string;
}

export interface ExitStatus {
  code: number;
  signal: number;
}

/**
 * Pending reasons that cannot clear without an administrator changing the
 * cluster: the job asks for more time than its partition, QOS or association
 * allows. The launcher cancels such a job and fails it. Other reasons (nodes
 * down or drained, partition down, limits that clear as other jobs end) are
 * shown and waited out.
 */
export const FATAL_PENDING_REASONS: ReadonlySet<string> = new Set([
  'PartitionTimeLimit',
  'QOSMaxWallDurationPerJobLimit',
  'AssocMaxWallDurationPerJobLimit',
]);

/**
 * sacct's ExitCode field, `code:signal`: `3:0` → code 3; `0:15` → signal 15. Anything else
 * (empty, a field of another shape, values out of range) is undefined: unknown, never guessed.
 */
export function parseExitCode(text: string | undefined): ExitStatus | undefined {
  const match = /^(\d{1,3}):(\d{1,3})$/.exec(text?.trim() ?? '');
  if (!match) return undefined;
  const status = { code: Number(match[1]), signal: Number(match[2]) };
  return status.code <= 255 && status.signal <= 255 ? status : undefined;
}

/**
 * Signals a job is killed by (1 to 31). SLURM also puts other numbers after the colon: a batch
 * job it could not start (say, an --output path it cannot open) ends as `0:53`, which is no
 * signal the job received.
 */
function isKillSignal(signal: number): boolean {
  return signal >= 1 && signal <= 31;
}

/** The code a shell would report: 128 + signal for a job killed by a signal; null when unknown. */
export function exitCodeOf(status: ExitStatus | undefined): number | null {
  if (!status) return null;
  if (isKillSignal(status.signal)) return 128 + status.signal;
  return status.signal === 0 || status.code !== 0 ? status.code : null;
}

/** The launch status of a SLURM job from its record. */
export function slurmStatus(record: SlurmRecord): LaunchStatus {
  const state = record.state.toUpperCase();
  const map = STATES[state];
  if (!map) return { state: 'unknown', detail: `SLURM job ${record.jobId} is in state ${record.state}, which Baton does not know` };
  return map(record);
}

/** The SLURM states Baton knows (for the docs and the tests). */
export function knownSlurmStates(): string[] {
  return Object.keys(STATES);
}

type StateMapping = (record: SlurmRecord) => LaunchStatus;

const queued =
  (what?: string): StateMapping =>
  (record) => {
    const detail = [what, pendingReason(record)].filter(Boolean).join(': ');
    return detail ? { state: 'queued', detail } : { state: 'queued' };
  };

const running =
  (detail?: string): StateMapping =>
  () =>
    detail ? { state: 'running', detail } : { state: 'running' };

const ended =
  (reason: FailureInfo['reason'], describe: (record: SlurmRecord) => string): StateMapping =>
  (record) => {
    // `0:0` on a job that did not succeed says nothing about how it ended.
    const code = exitCodeOf(parseExitCode(record.exitCode));
    return { state: 'finished', failure: { code: code === 0 ? null : code, reason, message: describe(record) } };
  };

const STATES: Readonly<Record<string, StateMapping>> = {
  PENDING: queued(),
  CONFIGURING: queued('nodes are being configured'),
  // Requeued (after preemption, node failure or `scontrol requeue`): SLURM runs it again.
  REQUEUED: queued('requeued by SLURM'),
  REQUEUE_HOLD: queued('requeued by SLURM and held'),
  REQUEUE_FED: queued('requeued by SLURM (federation)'),
  RESV_DEL_HOLD: queued('held after its reservation was deleted'),
  // Preempted jobs are requeued on clusters that preempt with REQUEUE; the
  // launcher fails one that stays preempted (see SlurmLauncher).
  PREEMPTED: queued('preempted; waiting for SLURM to requeue it'),
  RUNNING: running(),
  COMPLETING: running(),
  SIGNALING: running(),
  STAGE_OUT: running(),
  RESIZING: running(),
  SUSPENDED: running('suspended by SLURM'),
  STOPPED: running('stopped by SLURM (SIGSTOP)'),
  // The markers job.sh wrote say how it went.
  COMPLETED: () => ({ state: 'finished' }),
  FAILED: ended('failed', (record) => `SLURM job ${record.jobId} failed (${describeExit(record)})`),
  CANCELLED: ended('cancelled', (record) => `SLURM job ${record.jobId} was cancelled (scancel, or by an administrator)`),
  TIMEOUT: ended('timeout', (record) => `SLURM job ${record.jobId} reached its time limit${record.timeLimit ? ` (${record.timeLimit})` : ''}`),
  DEADLINE: ended('failed', (record) => `SLURM job ${record.jobId} ended in state DEADLINE: it could not finish before its --deadline`),
  OUT_OF_MEMORY: ended('oom', (record) => `SLURM job ${record.jobId} ran out of memory (OUT_OF_MEMORY); ask for more with mem or cpu(mem=...)`),
  NODE_FAIL: ended('node_fail', (record) => `SLURM job ${record.jobId} ended because its node failed (NODE_FAIL)`),
  BOOT_FAIL: ended('failed', (record) => `SLURM job ${record.jobId} ended in state BOOT_FAIL: its node failed to boot`),
  REVOKED: ended('failed', (record) => `SLURM job ${record.jobId} ended in state REVOKED: a sibling cluster of the federation ran it`),
  SPECIAL_EXIT: ended('failed', (record) => `SLURM job ${record.jobId} ended in state SPECIAL_EXIT (${describeExit(record)})`),
};

function pendingReason(record: SlurmRecord): string | undefined {
  const reason = record.reason?.trim();
  return reason && reason !== 'None' && reason !== '(null)' ? reason : undefined;
}

function describeExit(record: SlurmRecord): string {
  const status = parseExitCode(record.exitCode);
  if (!status) return record.exitCode?.trim() ? `exit field ${JSON.stringify(record.exitCode.trim())}, which Baton does not read` : 'no exit code';
  if (isKillSignal(status.signal)) return `killed by signal ${status.signal}${signalName(status.signal)}`;
  if (status.signal === 0) return `exit code ${status.code}`;
  return (
    `exit field ${status.code}:${status.signal}, not a signal: SLURM could not start the job script, e.g. ` +
    'because it cannot open the --output/--error file or the job directory; see slurmd\'s log'
  );
}

function signalName(signal: number): string {
  const name = Object.entries(constants.signals).find(([, number]) => number === signal)?.[0];
  return name ? ` (${name})` : '';
}
