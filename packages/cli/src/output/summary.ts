// The end-of-run summary of `baton run-experiment`: counts, failed jobs (grouped when many fail
// for one cause, so that the cause stays visible), and after an interruption what still runs
// (with the command that stops it), what stopped with this process (jobs in its threads) and
// what was not started.
import type { ExperimentSummary } from '@baton/core';
import { describeFailure, failureKey } from './failures.ts';
import { formatDuration, jobName } from './table.ts';

/** A cause shared by more jobs than this is one group: its count, its message and a few of its jobs. */
const GROUP_ABOVE = 3;
const GROUP_EXAMPLES = 3;

export interface SummaryOptions {
  summary: ExperimentSummary;
  experiment: string;
  /** The signal that interrupted the run, if one did. */
  interruptedBy?: string;
  killed: boolean;
  runMode: string;
}

export function formatSummary(options: SummaryOptions): string[] {
  const { summary } = options;
  const lines: string[] = [];
  const out = (line = '') => lines.push(line);
  const total = Object.values(summary.counts).reduce((sum, count) => sum + count, 0);
  const counts = Object.entries(summary.counts)
    .filter(([, count]) => count > 0)
    .map(([state, count]) => `${count} ${state}`)
    .join(', ');
  const mode = options.runMode === 'normal' ? '' : ` (${options.runMode})`;
  const interrupted = options.interruptedBy !== undefined;
  out(`${interrupted ? `Stopped by ${options.interruptedBy}` : 'Finished'}${mode}: ${plural(total, 'job')}${counts ? ` (${counts})` : ''} in ${formatDuration(summary.elapsedMs)}`);

  if (summary.failed.length > 0 && options.runMode !== 'dry-run') {
    out(`\n${plural(summary.failed.length, 'job')} failed:`);
    const groups = new Map<string, ExperimentSummary['failed']>();
    for (const job of summary.failed) {
      const key = failureKey(job.failure, job.directory);
      groups.set(key, [...(groups.get(key) ?? []), job]);
    }
    for (const [key, jobs] of [...groups].sort((a, b) => b[1].length - a[1].length)) {
      if (jobs.length > GROUP_ABOVE) {
        out(`  ${jobs.length} jobs: ${key}`);
        for (const job of jobs.slice(0, GROUP_EXAMPLES)) out(`    ${jobName(job)}  stderr: ${job.stderrPath}`);
        out(`    ... and ${jobs.length - GROUP_EXAMPLES} more (baton jobs list --state failed --experiment ${options.experiment})`);
        continue;
      }
      for (const job of jobs) {
        out(`  ${jobName(job)}  ${describeFailure(job.failure)}`);
        out(`    stderr: ${job.stderrPath}`);
      }
    }
  }

  const launched = summary.active.filter((job) => job.state === 'running' || job.state === 'queued');
  const notStarted = summary.active.length - launched.length;
  // Jobs in threads of this process (the `threads` launcher) end with it; the others keep going.
  const lasting = launched.filter((job) => job.outlivesProcess !== false);
  const stopped = launched.filter((job) => job.outlivesProcess === false);
  if (interrupted && lasting.length > 0 && !options.killed) {
    out(`\n${plural(lasting.length, 'job')} ${lasting.length === 1 ? 'is' : 'are'} still running or queued; they keep going and the next run of this experiment re-attaches them:`);
    for (const job of lasting) out(`  ${jobName(job)}  ${job.state}  ${job.directory}`);
    out(`To stop them: baton jobs kill ${lasting.map((job) => job.directory).join(' ')}`);
    out('(or run again with --kill, so that Ctrl-C also cancels running jobs)');
  }
  if (interrupted && stopped.length > 0) {
    const launchers = [...new Set(stopped.map((job) => job.launcher).filter((name) => name !== undefined))];
    out(
      `\n${plural(stopped.length, 'thread job')} ${stopped.length === 1 ? 'was' : 'were'} stopped with this process` +
        `${launchers.length > 0 ? ` (launcher ${launchers.join(', ')})` : ''} and will run again on resume:`,
    );
    for (const job of stopped) out(`  ${jobName(job)}  ${job.directory}`);
  }
  if (interrupted && notStarted > 0) {
    out(`${plural(notStarted, 'job')} ${notStarted === 1 ? 'was' : 'were'} not started; the next run of this experiment starts ${notStarted === 1 ? 'it' : 'them'}.`);
  }
  return lines;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
