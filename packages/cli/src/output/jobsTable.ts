// The table of `baton jobs list`: one line per job, fitted to the terminal. A job is named by
// `task-id/hash-prefix` (what `baton jobs log|kill` take); its directory is shown with --wide,
// which also prints every column whole.
import type { JobRecord } from '@baton/core/catalog';
import { describeFailure } from './failures.ts';
import { fitTable, type FitColumn } from './fitTable.ts';
import { formatDuration, jobName } from './table.ts';
import type { OutputStyle } from './terminal.ts';

export function formatJobsTable(options: { records: readonly JobRecord[]; wide: boolean; width?: number; style: OutputStyle }): string {
  const { records, wide, style } = options;
  const cells = (cell: (job: JobRecord) => string | undefined) => records.map((job) => cell(job) || '-');
  const columns: FitColumn[] = [
    { header: 'JOB', cells: cells(jobName), cut: 'start', readable: 20 },
    { header: 'STATE', cells: cells((job) => job.state) },
    { header: 'EXPERIMENT', cells: cells((job) => job.experiments.join(',')), cut: 'end' },
    // From the job's marker (markers of earlier versions have none: `-`).
    { header: 'DURATION', cells: cells((job) => (job.provenance?.durationSeconds === undefined ? undefined : formatDuration(job.provenance.durationSeconds * 1000))) },
    { header: 'LAUNCHER', cells: cells((job) => job.handle?.launcher), cut: 'end', readable: 8, optional: 1 },
    { header: 'HOST', cells: cells((job) => job.provenance?.host ?? job.handle?.host), cut: 'end', readable: 8, optional: 2 },
    ...(wide ? [{ header: 'DIRECTORY', cells: cells((job) => job.directory) }] : []),
    // The launcher's word on a live job (SLURM's pending reason), or why it failed.
    { header: 'DETAIL', cells: records.map((job) => (job.detail ?? (job.failure ? describeFailure(job.failure) : '')).replace(/\s*\n\s*/g, ' ')), cut: 'end', readable: 16 },
  ];
  return fitTable({
    columns,
    // --wide: everything, whole, however long the lines.
    width: wide ? undefined : options.width,
    ellipsis: style.ellipsis,
    paint: (header, text, row) => (header === 'STATE' && row >= 0 ? paintState(style, text) : text),
  });
}

function paintState(style: OutputStyle, text: string): string {
  const state = text.trim();
  if (state === 'done') return style.green(text);
  if (state === 'failed') return style.red(text);
  if (state === 'running') return style.cyan(text);
  if (state === 'queued') return style.yellow(text);
  return text;
}
