// The last lines of failed jobs' stderr for the summary at the end of `baton run-experiment`.
// On this machine they are read when the summary is printed. A workspace on another host is
// closed (its connection with it) before the summary, so there they are read through its
// connector as jobs fail, for the first few failures.
import type { Experiment, ExperimentSummary, JobStateEvent } from '@baton/core';
import { lastLines, readFileTail } from '../fileTail.ts';
import { MAX_STDERR_TAILS, jobsShowingStderr } from '../output/summary.ts';

/** Remote tails read during a run: enough for the summary's few, whichever jobs it picks. */
const MAX_REMOTE_TAILS = 4 * MAX_STDERR_TAILS;

export interface FailedJobTails {
  /** The tails the summary shows, by job directory (none when `lines` is 0). */
  read(summary: ExperimentSummary): Promise<Map<string, string[]>>;
  dispose(): void;
}

export function followFailedJobTails(options: { xp: Experiment; lines: number }): FailedJobTails {
  const { xp, lines } = options;
  const connector = xp.workspace.connector;
  const remote = connector.kind !== 'local';
  const early = new Map<string, Promise<string | undefined>>();
  const onJobState = (event: JobStateEvent) => {
    if (event.state !== 'failed' || early.has(event.directory) || early.size >= MAX_REMOTE_TAILS) return;
    const reading = readFileTail({ path: `${event.directory}/stderr`, connector }).catch(() => undefined);
    early.set(event.directory, reading);
  };
  if (remote && lines > 0) xp.events.on('job-state', onJobState);
  return {
    async read(summary) {
      const tails = new Map<string, string[]>();
      if (lines <= 0) return tails;
      for (const job of jobsShowingStderr(summary.failed)) {
        const text = remote ? await early.get(job.directory) : await readFileTail({ path: job.stderrPath }).catch(() => undefined);
        if (text !== undefined) tails.set(job.directory, lastLines(text, lines));
      }
      return tails;
    },
    dispose() {
      xp.events.off('job-state', onJobState);
    },
  };
}
