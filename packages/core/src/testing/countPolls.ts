// Counting a launcher's status calls: the scheduler asks one status call per poll
// for all the jobs a launcher runs, so a test can check that a big batch was
// followed with few calls, each about many jobs, however long the jobs took.
import type { Launcher } from '../types.ts';

/** What `countPolls` has seen so far; it changes as the launcher is asked. */
export interface PollCount {
  /** Status calls made (one per scheduler poll, plus re-attach questions). */
  calls: number;
  /** The most handles one call was given. */
  largest: number;
}

/**
 * Counts the launcher's status calls and the most handles one call was given, from now on.
 * It wraps `launcher.status` on this very object (the one the experiment's scheduler calls,
 * e.g. `xp.workspace.launchers.get('cluster')`); the answers are the launcher's own.
 */
export function countPolls(launcher: Pick<Launcher, 'status'>): PollCount {
  const polls: PollCount = { calls: 0, largest: 0 };
  const status = launcher.status.bind(launcher);
  launcher.status = (handles) => {
    polls.calls += 1;
    polls.largest = Math.max(polls.largest, handles.length);
    return status(handles);
  };
  return polls;
}
