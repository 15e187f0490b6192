// The end-of-run summary of `baton run-experiment`: counts, failed jobs (grouped when many fail
// for one cause, so that the cause stays visible) with the last lines of their stderr and the
// command that shows the rest, and after an interruption what still runs
// (with the command that stops it), what stopped with this process (jobs in its threads) and
// what was not started.
import type { ExperimentSummary } from '@baton/core';
import { describeFailure, failureKey } from './failures.ts';
import { formatDuration, jobName } from './table.ts';
import { outputStyle, type OutputStyle } from './terminal.ts';

/** A cause shared by more jobs than this is one group: its count, its message and a few of its jobs. */
const GROUP_ABOVE = 3;
const GROUP_EXAMPLES = 3;
/** Failed jobs shown with the end of their stderr: the first few tell the story; the others get the command. */
export const MAX_STDERR_TAILS = 5;
/** Jobs still running (or stopped with this process) named one by one after an interruption; the others are counted. */
export const LISTED_AT_MOST = 10;

type FailedJob = ExperimentSummary['failed'][number];

export interface SummaryOptions {
  summary: ExperimentSummary;
  experiment: string;
  /** The signal that interrupted the run, if one did. */
  interruptedBy?: string;
  killed: boolean;
  runMode: string;
  /** The last lines of failed jobs' stderr, by job directory (see `jobsShowingStderr`); a job without an entry gets the command only. */
  stderrTails?: ReadonlyMap<string, readonly string[]>;
  /** Flags that name the run's workspace (`--workdir /ws`), quoted for a shell, added to the commands the summary suggests. */
  workspaceFlags?: string;
  /** Colors and symbols (default: what stdout supports). */
  style?: OutputStyle;
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
  // Flags that name the run's workspace, for the commands suggested below.
  const flags = options.workspaceFlags ? ` ${options.workspaceFlags}` : '';
  out(`${interrupted ? `Stopped by ${options.interruptedBy}` : 'Finished'}${mode}: ${plural(total, 'job')}${counts ? ` (${counts})` : ''} in ${formatDuration(summary.elapsedMs)}`);
  // A resumed run says what it did not run again.
  if (summary.alreadyDone > 0) {
    const whole = summary.alreadyDone === total;
    out(whole ? `${summary.alreadyDone === 1 ? 'It was' : `All ${total} were`} already done: nothing ran again.` : `${plural(summary.alreadyDone, 'job')} already done did not run again.`);
  }

  if (summary.failed.length > 0 && options.runMode !== 'dry-run') {
    const style = options.style ?? outputStyle(process.stdout);
    const tails = options.stderrTails ?? new Map<string, readonly string[]>();
    const stderrLines = (job: FailedJob, indent: string) => {
      const tail = tails.get(job.directory);
      if (tail === undefined) return;
      if (tail.length === 0) {
        out(`${indent}(stderr is empty)`);
        return;
      }
      for (const line of tail) out(`${indent}${style.dim(`${style.bar} ${printable(line)}`)}`);
      out(`${indent}all of it: baton jobs log ${jobName(job)} --stderr${flags}`);
    };
    out(`\n${style.red(`${plural(summary.failed.length, 'job')} failed:`)}`);
    for (const group of failureGroups(summary.failed)) {
      if (group.grouped) {
        out(`  ${group.jobs.length} jobs: ${group.key}`);
        for (const [index, job] of group.jobs.slice(0, GROUP_EXAMPLES).entries()) {
          out(`    ${jobName(job)}  stderr: ${job.stderrPath}`);
          if (index === 0) stderrLines(job, '      ');
        }
        out(`    ... and ${group.jobs.length - GROUP_EXAMPLES} more (baton jobs list --state failed --experiment ${options.experiment}${flags})`);
        continue;
      }
      for (const job of group.jobs) {
        out(`  ${jobName(job)}  ${describeFailure(job.failure)}`);
        out(`    stderr: ${job.stderrPath}`);
        stderrLines(job, '    ');
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
    for (const job of lasting.slice(0, LISTED_AT_MOST)) out(`  ${jobName(job)}  ${job.state}  ${job.directory}`);
    if (lasting.length > LISTED_AT_MOST) out(`  ... and ${lasting.length - LISTED_AT_MOST} more (baton jobs list --experiment ${options.experiment}${flags})`);
    // A few are named; more, the experiment's (every run's jobs still running or queued).
    out(
      lasting.length > LISTED_AT_MOST
        ? `To stop them: baton jobs kill --experiment ${options.experiment}${flags}`
        : `To stop them: baton jobs kill ${lasting.map((job) => job.directory).join(' ')}`,
    );
    out('(or run again with --kill, so that Ctrl-C also cancels running jobs)');
  }
  if (interrupted && stopped.length > 0) {
    const launchers = [...new Set(stopped.map((job) => job.launcher).filter((name) => name !== undefined))];
    out(
      `\n${plural(stopped.length, 'thread job')} ${stopped.length === 1 ? 'was' : 'were'} stopped with this process` +
        `${launchers.length > 0 ? ` (launcher ${launchers.join(', ')})` : ''} and will run again on resume:`,
    );
    for (const job of stopped.slice(0, LISTED_AT_MOST)) out(`  ${jobName(job)}  ${job.directory}`);
    if (stopped.length > LISTED_AT_MOST) out(`  ... and ${stopped.length - LISTED_AT_MOST} more`);
  }
  if (interrupted && notStarted > 0) {
    out(`${plural(notStarted, 'job')} ${notStarted === 1 ? 'was' : 'were'} not started; the next run of this experiment starts ${notStarted === 1 ? 'it' : 'them'}.`);
  }
  return lines;
}

/**
 * The failed jobs whose stderr the summary shows, in the order it shows them: each job of
 * a small group, the first of a large one, at most MAX_STDERR_TAILS in all.
 */
export function jobsShowingStderr(failed: readonly FailedJob[]): FailedJob[] {
  return failureGroups(failed)
    .flatMap((group) => (group.grouped ? group.jobs.slice(0, 1) : group.jobs))
    .slice(0, MAX_STDERR_TAILS);
}

/** Failed jobs by cause, largest group first; a cause shared by more than GROUP_ABOVE jobs is one entry. */
function failureGroups(failed: readonly FailedJob[]): { key: string; jobs: FailedJob[]; grouped: boolean }[] {
  const groups = new Map<string, FailedJob[]>();
  for (const job of failed) {
    const key = failureKey(job.failure, job.directory);
    groups.set(key, [...(groups.get(key) ?? []), job]);
  }
  return [...groups].sort((a, b) => b[1].length - a[1].length).map(([key, jobs]) => ({ key, jobs, grouped: jobs.length > GROUP_ABOVE }));
}

/** A line of the job's output as a terminal would leave it: what follows the last carriage return, without escape sequences or other control characters. */
function printable(line: string): string {
  // eslint-disable-next-line no-control-regex
  return (line.split('\r').findLast((part) => part !== '') ?? '').replace(/\u001b\[[0-9;?]*[ -/]*[@-~]/g, '').replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '');
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
