// The trace of `baton report`: one row per job, as Nextflow's trace.txt, in TSV or JSON lines.
// Unknown values are empty cells in TSV and null in JSON lines, so that every line has the same keys.
import type { ReportJob } from './reportJobs.ts';

export type TraceFormat = 'tsv' | 'jsonl';

/** The trace's columns, in order. */
export const TRACE_COLUMNS = [
  'task_id',
  'hash',
  'task',
  'state',
  'reason',
  'exit',
  'submitted',
  'started',
  'ended',
  'duration',
  'wait',
  'host',
  'launcher',
  'launcher_kind',
  'cluster_id',
  'peak_rss',
  'directory',
] as const;

export type TraceColumn = (typeof TRACE_COLUMNS)[number];

export function traceRow(job: ReportJob): Record<TraceColumn, string | number | null> {
  return {
    task_id: job.index,
    hash: job.hash,
    task: job.taskId,
    state: job.state,
    reason: job.reason ?? null,
    exit: job.exitCode ?? null,
    submitted: job.submittedAt ?? null,
    started: job.startedAt ?? null,
    ended: job.endedAt ?? null,
    duration: job.durationSeconds ?? null,
    wait: job.waitSeconds ?? null,
    host: job.host ?? null,
    launcher: job.launcher ?? null,
    launcher_kind: job.launcherKind ?? null,
    cluster_id: job.clusterId ?? null,
    peak_rss: job.peakMemoryBytes ?? null,
    directory: job.directory,
  };
}

/** The trace file's text: a header line and one line per job (TSV), or one JSON object per line. */
export function formatTrace(jobs: readonly ReportJob[], format: TraceFormat): string {
  if (format === 'jsonl') return jobs.map((job) => `${JSON.stringify(traceRow(job))}\n`).join('');
  const lines = [TRACE_COLUMNS.join('\t')];
  for (const job of jobs) {
    const row = traceRow(job);
    lines.push(TRACE_COLUMNS.map((column) => tsvCell(row[column])).join('\t'));
  }
  return `${lines.join('\n')}\n`;
}

/** A cell on one line: tabs and line breaks (a task id or host could hold one) become spaces. */
function tsvCell(value: string | number | null): string {
  return value === null ? '' : String(value).replace(/[\t\r\n]+/g, ' ');
}
