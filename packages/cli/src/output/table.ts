// Plain text tables: columns padded to their widest cell, the last one left as is.
export function formatTable(options: {
  header: readonly string[];
  rows: readonly (readonly string[])[];
  /** Styles a cell once padded (colors do not count in widths); row -1 is the header. */
  paint?: (column: number, text: string, row: number) => string;
}): string {
  const all = [options.header, ...options.rows];
  const widths = options.header.map((_, column) => Math.max(...all.map((row) => (row[column] ?? '').length)));
  const paint = options.paint ?? ((_column: number, text: string) => text);
  return all
    .map((row, index) =>
      row
        .map((cell, column) => paint(column, column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0), index - 1))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** `1h02m`, `3m05s`, `12.3s`. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, ms) / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const whole = Math.floor(seconds);
  const [h, m, s] = [Math.floor(whole / 3600), Math.floor((whole % 3600) / 60), whole % 60];
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${String(s).padStart(2, '0')}s`;
}

/** `train/3fa2c1d0e4b5`: how jobs are named in output. */
export function jobName(job: { taskId: string; hash: string }): string {
  return `${job.taskId}/${job.hash.slice(0, 12)}`;
}
