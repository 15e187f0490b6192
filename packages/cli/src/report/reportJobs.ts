// One row per job for `baton report`: what its files say (marker provenance, process.json),
// flattened so that the trace and the HTML page read the same thing.
import type { JobRecord } from '@baton/core/catalog';
import { lastLines } from '../fileTail.ts';

/** Lines of a failed job's stderr the report shows. */
export const STDERR_TAIL_LINES = 20;

export interface ReportJob {
  /** 1-based, in the order the jobs are reported (Nextflow's task_id). */
  index: number;
  taskId: string;
  hash: string;
  directory: string;
  state: JobRecord['state'];
  /** Failure reason (failed, timeout, cancelled, oom...), for failed jobs. */
  reason?: string;
  message?: string;
  exitCode?: number | null;
  /** ISO 8601 */
  submittedAt?: string;
  startedAt?: string;
  endedAt?: string;
  durationSeconds?: number;
  /** From hand-over to start. */
  waitSeconds?: number;
  host?: string;
  launcher?: string;
  launcherKind?: string;
  clusterId?: string;
  /** Peak resident memory in bytes, where the marker records it (function tasks run by job.sh). */
  peakMemoryBytes?: number;
  /** The job's parameters, from its params.json. */
  params?: unknown;
  /** Last lines of stderr, for failed jobs. */
  stderrTail?: string[];
}

/** Report rows from catalog records; `readFile` gives one of a job's files (undefined when there is none). */
export async function reportJobs(options: {
  records: readonly JobRecord[];
  readFile: (directory: string, name: 'stderr' | 'params.json') => Promise<string | undefined>;
}): Promise<ReportJob[]> {
  return Promise.all(
    options.records.map(async (record, i) => {
      const provenance = record.provenance;
      const handle = record.handle;
      const job: ReportJob = { index: i + 1, taskId: record.taskId, hash: record.hash, directory: record.directory, state: record.state };
      if (record.failure) {
        job.reason = record.failure.reason;
        job.message = record.failure.message;
      }
      const exitCode = provenance?.exitCode ?? record.failure?.code;
      if (exitCode !== undefined) job.exitCode = exitCode;
      if (handle?.submittedAt) job.submittedAt = handle.submittedAt;
      if (provenance?.startedAt) job.startedAt = provenance.startedAt;
      if (provenance?.endedAt) job.endedAt = provenance.endedAt;
      if (provenance?.durationSeconds !== undefined) job.durationSeconds = provenance.durationSeconds;
      else if (job.startedAt && job.endedAt) job.durationSeconds = seconds(job.startedAt, job.endedAt);
      if (job.submittedAt && job.startedAt) job.waitSeconds = Math.max(0, seconds(job.submittedAt, job.startedAt));
      if (provenance?.peakRssBytes !== undefined) job.peakMemoryBytes = provenance.peakRssBytes;
      const host = provenance?.host ?? handle?.host;
      if (host) job.host = host;
      if (handle) {
        job.launcher = handle.launcher;
        job.launcherKind = handle.kind;
        if (handle.clusterId !== undefined) job.clusterId = handle.clusterId;
      }
      const params = parseParams(await options.readFile(record.directory, 'params.json').catch(() => undefined));
      if (params !== undefined) job.params = params;
      if (record.state === 'failed') {
        const stderr = await options.readFile(record.directory, 'stderr').catch(() => undefined);
        if (stderr !== undefined) job.stderrTail = lastLines(stderr, STDERR_TAIL_LINES);
      }
      return job;
    }),
  );
}

function parseParams(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return (JSON.parse(text) as { params?: unknown } | null)?.params;
  } catch {
    return undefined;
  }
}

function seconds(from: string, to: string): number {
  return Math.round((Date.parse(to) - Date.parse(from)) / 10) / 100;
}
