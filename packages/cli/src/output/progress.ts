// Follows an experiment's job-state events: a live line of counts per state (on a terminal),
// a line per failed job, and a line per job in dry-run mode.
import type { DryRunRecord, Experiment, JobState, JobStateEvent } from '@baton/core';
import type { StatusLine } from './statusLine.ts';
import { formatDuration, jobName } from './table.ts';

/** At most ~10 refreshes per second: a terminal cannot show more, and thousands of events may come. */
const REFRESH_MS = 100;

const STATE_ORDER: JobState[] = ['done', 'running', 'queued', 'ready', 'waiting', 'failed'];

export interface Progress {
  /** Stops refreshing and removes the live line. */
  close(): void;
}

export function followExperiment(options: { xp: Experiment; statusLine: StatusLine; startedAt: number; reportFailures: boolean }): Progress {
  const { xp, statusLine, startedAt } = options;
  const states = new Map<string, JobState>();
  /** Why queued jobs wait (e.g. SLURM's pending reason), by job directory. */
  const reasons = new Map<string, string>();
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const render = () => {
    timer = undefined;
    if (closed) return;
    const counts = new Map<JobState, number>();
    for (const state of states.values()) counts.set(state, (counts.get(state) ?? 0) + 1);
    const parts = STATE_ORDER.filter((state) => counts.has(state)).map((state) =>
      state === 'queued' && reasons.size > 0 ? `queued ${counts.get(state)} (${describeReasons(reasons)})` : `${state} ${counts.get(state)}`,
    );
    statusLine.update(`${xp.name}: ${states.size} jobs  ${parts.join(' · ')}  ${formatDuration(Date.now() - startedAt)}`);
  };
  const scheduleRender = () => {
    timer ??= setTimeout(render, REFRESH_MS);
  };
  // Keeps the elapsed time moving while nothing changes.
  const clock = setInterval(scheduleRender, 1000);
  clock.unref();

  const onJobState = (event: JobStateEvent) => {
    states.set(event.directory, event.state);
    if (event.state === 'queued' && event.detail) reasons.set(event.directory, event.detail);
    else reasons.delete(event.directory);
    if (event.state === 'failed' && options.reportFailures) {
      const failure = event.failure;
      const why = failure ? `${failure.reason}${failure.code === null ? '' : ` (exit ${failure.code})`}${failure.message ? `: ${failure.message}` : ''}` : 'failed';
      statusLine.print(`✗ ${jobName(event)} ${why}`);
    }
    scheduleRender();
  };
  const onDryRun = (record: DryRunRecord) => {
    const dependencies = record.dependencies.length > 0 ? `  after: ${record.dependencies.join(', ')}` : '';
    statusLine.print(`${record.state.padEnd(9)}  ${record.directory}  [${record.launcher}]${dependencies}`);
  };
  xp.events.on('job-state', onJobState);
  xp.events.on('dry-run', onDryRun);
  scheduleRender();

  return {
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      clearInterval(clock);
      xp.events.off('job-state', onJobState);
      xp.events.off('dry-run', onDryRun);
      statusLine.close();
    },
  };
}

/** The two most common reasons with their counts: `Resources 150, Priority 30`. */
function describeReasons(reasons: Map<string, string>): string {
  const counts = new Map<string, number>();
  for (const reason of reasons.values()) counts.set(reason, (counts.get(reason) ?? 0) + 1);
  const sorted = [...counts].sort((a, b) => b[1] - a[1]);
  const shown = sorted.slice(0, 2).map(([reason, count]) => `${reason} ${count}`);
  return sorted.length > 2 ? `${shown.join(', ')}, ...` : shown.join(', ');
}
