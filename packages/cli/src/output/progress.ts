// Follows an experiment: counts per state of every job it submitted, a line per failed job, and
// a line per job in dry-run mode. On a terminal the counts are a live line; off a terminal (a
// pipe, nohup, a batch job's log) they are a plain line every few seconds and at once on news
// (a failure, a new pending reason). Each service's URL is printed when it starts.
import type { DryRunRecord, Experiment, JobState, JobStateEvent } from '@baton/core';
import { describeFailure, failureKey } from './failures.ts';
import { followServices } from './services.ts';
import type { StatusLine } from './statusLine.ts';
import { formatDuration, jobName } from './table.ts';
import { outputStyle, type OutputStyle } from './terminal.ts';

/** At most ~10 refreshes per second: a terminal cannot show more, and thousands of events may come. */
const REFRESH_MS = 100;
/** Off a terminal, news (a failure...) prints at once, but not more than one line per this interval. */
const NEWS_MS = 1000;
/** Failures with one same reason printed one by one; the rest are counted in the summary. */
const MAX_FAILURE_LINES_PER_CAUSE = 3;

const STATE_ORDER: JobState[] = ['done', 'running', 'queued', 'ready', 'waiting', 'failed'];

export interface Progress {
  /** Stops refreshing and removes the live line. */
  close(): void;
}

export interface FollowOptions {
  xp: Experiment;
  statusLine: StatusLine;
  startedAt: number;
  reportFailures: boolean;
  /** Off a terminal: plain lines every `intervalMs` (none when 0) and at once on news. */
  plain?: { intervalMs: number };
  /** Colors and symbols (default: what stdout supports). */
  style?: OutputStyle;
}

export function followExperiment(options: FollowOptions): Progress {
  const { xp, statusLine, startedAt, plain } = options;
  const style = options.style ?? outputStyle(process.stdout);
  /** The last pending reason seen per job directory, to tell a new one. */
  const reasons = new Map<string, string>();
  /** Failure lines printed per cause. */
  const failureLines = new Map<string, number>();
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  let lastPrinted = -Infinity;

  const render = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (closed) return;
    const text = progressText({ xp, startedAt, style });
    if (plain) {
      statusLine.print(`${clockTime()} ${text}`);
      lastPrinted = Date.now();
    } else {
      statusLine.update(text);
    }
  };
  const scheduleRender = () => {
    timer ??= setTimeout(render, plain ? Math.max(0, lastPrinted + NEWS_MS - Date.now()) : REFRESH_MS);
  };
  // Keeps the elapsed time moving while nothing changes (live), or says the run is alive (plain).
  const clockMs = plain ? plain.intervalMs : 1000;
  const clock = clockMs > 0 ? setInterval(plain ? render : scheduleRender, clockMs) : undefined;
  // Never what keeps the process alive: an experiment with nothing left to do must end.
  clock?.unref();

  const onJobState = (event: JobStateEvent) => {
    let news = false;
    if (event.state === 'queued' && event.detail) {
      news = reasons.get(event.directory) !== event.detail;
      reasons.set(event.directory, event.detail);
    } else {
      reasons.delete(event.directory);
    }
    if (event.state === 'failed' && event.previous !== 'failed') {
      news = true;
      if (options.reportFailures) reportFailure(event);
    }
    if (!plain || news) scheduleRender();
  };
  const reportFailure = (event: JobStateEvent) => {
    const key = failureKey(event.failure, event.directory);
    const printed = (failureLines.get(key) ?? 0) + 1;
    failureLines.set(key, printed);
    if (printed <= MAX_FAILURE_LINES_PER_CAUSE) statusLine.print(`${style.red(style.cross)} ${jobName(event)} ${describeFailure(event.failure)}`);
    else if (printed === MAX_FAILURE_LINES_PER_CAUSE + 1) statusLine.print(`${style.red(style.cross)} more jobs fail the same way (${key}); the summary counts them`);
  };
  const onDryRun = (record: DryRunRecord) => {
    const dependencies = record.dependencies.length > 0 ? `  after: ${record.dependencies.join(', ')}` : '';
    statusLine.print(`${record.state.padEnd(9)}  ${record.directory}  [${record.launcher}]${dependencies}`);
  };
  xp.events.on('job-state', onJobState);
  xp.events.on('dry-run', onDryRun);
  const services = followServices({ xp, statusLine, style: options.style });
  if (!plain) scheduleRender();

  return {
    close() {
      if (closed) return;
      closed = true;
      if (timer) clearTimeout(timer);
      if (clock) clearInterval(clock);
      xp.events.off('job-state', onJobState);
      xp.events.off('dry-run', onDryRun);
      // Kept services are printed last, above the summary: where they run on.
      services.close();
      statusLine.close();
    },
  };
}

/**
 * `squares: 120 jobs  done 30 · running 8 · queued 2 (Resources 2) · waiting 80  1m05s`.
 * Counted from the experiment's jobs, so a job counts from its submission (as `waiting`), not
 * from its first change of state.
 */
export function progressText(options: { xp: Pick<Experiment, 'name' | 'jobs'>; startedAt: number; now?: number; style?: OutputStyle }): string {
  const { xp } = options;
  const style = options.style ?? outputStyle(process.stdout);
  const jobs = xp.jobs;
  const counts = new Map<JobState, number>();
  const reasons = new Map<string, number>();
  for (const job of jobs) {
    counts.set(job.state, (counts.get(job.state) ?? 0) + 1);
    if (job.state === 'queued' && job.detail) reasons.set(job.detail, (reasons.get(job.detail) ?? 0) + 1);
  }
  const parts = STATE_ORDER.filter((state) => counts.has(state)).map((state) =>
    state === 'queued' && reasons.size > 0 ? `queued ${counts.get(state)} (${describeReasons(reasons)})` : `${state} ${counts.get(state)}`,
  );
  // Colored once counted, so that the text is the same with and without colors.
  const painted = parts.map((part) => (part.startsWith('failed') ? style.red(part) : part.startsWith('done') ? style.green(part) : part));
  const elapsed = formatDuration((options.now ?? Date.now()) - options.startedAt);
  return `${xp.name}: ${jobs.length} job${jobs.length === 1 ? '' : 's'}  ${painted.join(style.separator)}${parts.length > 0 ? '  ' : ''}${elapsed}`;
}

/** The two most common reasons with their counts: `Resources 150, Priority 30`. */
function describeReasons(counts: Map<string, number>): string {
  const sorted = [...counts].sort((a, b) => b[1] - a[1]);
  const shown = sorted.slice(0, 2).map(([reason, count]) => `${reason} ${count}`);
  return sorted.length > 2 ? `${shown.join(', ')}, ...` : shown.join(', ');
}

/** `14:05:09`: plain lines end up in log files, read later. */
function clockTime(): string {
  return new Date().toTimeString().slice(0, 8);
}
