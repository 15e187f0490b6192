// Parses the `|`-separated output of sacct and squeue into records by job id,
// expanding the compressed lines of pending array tasks (`123_[4-9%2]`).
import type { SlurmRecord } from './slurmStates.ts';

/** The fields requested from sacct (`--format`) and squeue (`-o`), in the same order. */
export const SACCT_FORMAT = 'JobID,State,ExitCode,Reason,Partition,Timelimit';
export const SQUEUE_FORMAT = '%i|%T|%r|%P|%l';

export function parseSacct(stdout: string): Map<string, SlurmRecord> {
  return parseRecords(stdout, ([jobId, state, exitCode, reason, partition, timeLimit]) => ({
    jobId: jobId!,
    state: state!,
    exitCode,
    reason,
    partition,
    timeLimit,
  }));
}

export function parseSqueue(stdout: string): Map<string, SlurmRecord> {
  return parseRecords(stdout, ([jobId, state, reason, partition, timeLimit]) => ({ jobId: jobId!, state: state!, reason, partition, timeLimit }));
}

/** The id to ask sacct/squeue about: an array task is found through its array job. */
export function queryId(clusterId: string): string {
  return clusterId.split('_')[0]!;
}

/** `123_[0-3,7%2]` → `123_0` ... `123_3`, `123_7`; any other id as it is. */
export function expandJobId(jobId: string): string[] {
  const match = /^(\d+)_\[([^\]]+)\]$/.exec(jobId);
  if (!match) return [jobId];
  const ids: string[] = [];
  const spec = match[2]!.split('%')[0]!;
  for (const part of spec.split(',')) {
    const range = /^(\d+)(?:-(\d+))?(?::(\d+))?$/.exec(part.trim());
    if (!range) continue;
    const first = Number(range[1]);
    const last = range[2] === undefined ? first : Number(range[2]);
    const step = range[3] === undefined ? 1 : Math.max(1, Number(range[3]));
    for (let index = first; index <= last; index += step) ids.push(`${match[1]}_${index}`);
  }
  return ids;
}

function parseRecords(stdout: string, toRecord: (fields: string[]) => SlurmRecord): Map<string, SlurmRecord> {
  const records = new Map<string, SlurmRecord>();
  for (const line of stdout.split('\n')) {
    const fields = line.trim().split('|');
    if (fields.length < 2 || !fields[0] || !fields[1]) continue;
    const record = toRecord(fields.map((field) => field.trim()));
    // sacct writes `CANCELLED by 1000`.
    record.state = record.state.split(/\s+/)[0]!;
    // A later line wins: sacct lists a requeued job's latest run last.
    for (const jobId of expandJobId(record.jobId)) records.set(jobId, { ...record, jobId });
  }
  return records;
}
