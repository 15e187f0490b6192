// The heavy half of `baton run-experiment`: loads the module, runs the experiment with a
// progress display, handles Ctrl-C, prints the summary. Returns the exit code.
import { BatonError, isBatonError, runExperiment } from '@baton/core';
import type { Experiment, ExperimentSummary } from '@baton/core';
import { installLogSink } from '../output/logSink.ts';
import { followExperiment, type Progress } from '../output/progress.ts';
import { createStatusLine, type StatusLine } from '../output/statusLine.ts';
import { formatDuration, jobName } from '../output/table.ts';
import { loadExperimentDefinition } from './experimentModule.ts';
import type { RunExperimentOptions } from './runExperiment.ts';
import { CLI_PACKAGE_DIR } from '../workspaceOptions.ts';

/** Exit code after Ctrl-C, as shells report SIGINT. */
const INTERRUPTED_EXIT_CODE = 130;

export async function executeExperiment(options: {
  modulePath: string;
  configuration: Record<string, unknown>;
  /** The YAML files the configuration came from, named in errors. */
  source?: string;
  options: RunExperimentOptions;
}): Promise<number> {
  const cli = options.options;
  const definition = await loadExperimentDefinition({ path: options.modulePath });
  const dryRun = cli.runMode === 'dry-run';
  // A terminal without a size (some pseudo-terminals) cannot hold a live line.
  const interactive = process.stdout.isTTY === true && (process.stdout.columns ?? 0) > 0 && !dryRun;
  const statusLine = createStatusLine({ interactive });
  const removeLogSink = installLogSink({ statusLine });
  const interruption = handleInterruptions({ statusLine, kill: cli.kill === true });
  const startedAt = Date.now();
  let progress: Progress | undefined;
  try {
    const summary = await runExperiment({
      definition,
      configuration: options.configuration,
      experiment: {
        workspace: cli.workspace,
        workdir: cli.workdir,
        configDir: cli.configDir,
        runMode: cli.runMode,
        env: cli.env,
        host: cli.host,
        port: cli.port,
        resolvePluginsFrom: [CLI_PACKAGE_DIR],
      },
      source: options.source,
      onExperiment: (xp) => {
        interruption.attach(xp);
        progress = followExperiment({ xp, statusLine, startedAt, reportFailures: !dryRun });
      },
    }).catch((error: unknown) => {
      if (isBatonError(error)) throw error;
      // Most likely thrown by the user's run function: say so, and where.
      throw new BatonError(`The experiment failed: ${error instanceof Error ? error.message : String(error)}`, {
        where: options.modulePath,
        hint: 'run again with --debug for the stack trace',
        cause: error,
      });
    });
    progress?.close();
    printSummary({ summary, interrupted: interruption.interrupted(), killed: cli.kill === true, runMode: cli.runMode });
    if (interruption.interrupted()) return INTERRUPTED_EXIT_CODE;
    // A dry run only reports: jobs that failed before are not its failures.
    return summary.failed.length > 0 && !dryRun ? 1 : 0;
  } finally {
    progress?.close();
    interruption.dispose();
    removeLogSink();
  }
}

interface Interruptions {
  attach(xp: Experiment): void;
  interrupted(): boolean;
  dispose(): void;
}

/** First Ctrl-C: stop submitting (and cancel jobs with --kill); second: exit at once. */
function handleInterruptions(options: { statusLine: StatusLine; kill: boolean }): Interruptions {
  let xp: Experiment | undefined;
  let count = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    count++;
    if (count > 1 || !xp) {
      options.statusLine.close();
      process.stderr.write(`\nInterrupted (${signal}): exiting now. Jobs already started keep running; the next run re-attaches them.\n`);
      process.exit(INTERRUPTED_EXIT_CODE);
    }
    options.statusLine.print(
      options.kill
        ? `Interrupted (${signal}): stopping the experiment and cancelling its running jobs. Press Ctrl-C again to exit at once.`
        : `Interrupted (${signal}): stopping the experiment; running jobs keep running. Press Ctrl-C again to exit at once.`,
      'stderr',
    );
    xp.stop({ kill: options.kill }).catch((error: unknown) => {
      options.statusLine.print(`error: could not stop the experiment cleanly: ${(error as Error).message}`, 'stderr');
    });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    attach: (experiment) => {
      xp = experiment;
    },
    interrupted: () => count > 0,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

function printSummary(options: { summary: ExperimentSummary; interrupted: boolean; killed: boolean; runMode: string }): void {
  const { summary } = options;
  const out = (line = '') => process.stdout.write(`${line}\n`);
  const total = Object.values(summary.counts).reduce((sum, count) => sum + count, 0);
  const counts = Object.entries(summary.counts)
    .filter(([, count]) => count > 0)
    .map(([state, count]) => `${count} ${state}`)
    .join(', ');
  const mode = options.runMode === 'normal' ? '' : ` (${options.runMode})`;
  out(`${options.interrupted ? 'Stopped' : 'Finished'}${mode}: ${total} job${total === 1 ? '' : 's'}${counts ? ` (${counts})` : ''} in ${formatDuration(summary.elapsedMs)}`);

  if (summary.failed.length > 0 && options.runMode !== 'dry-run') {
    out(`\n${summary.failed.length} job${summary.failed.length === 1 ? '' : 's'} failed:`);
    for (const job of summary.failed) {
      const { failure } = job;
      out(`  ${jobName(job)}  ${failure.reason}${failure.code === null ? '' : ` (exit ${failure.code})`}${failure.message ? `: ${failure.message}` : ''}`);
      out(`    stderr: ${job.stderrPath}`);
    }
  }

  const launched = summary.active.filter((job) => job.state === 'running' || job.state === 'queued');
  const notStarted = summary.active.length - launched.length;
  if (options.interrupted && launched.length > 0 && !options.killed) {
    out(`\n${launched.length} job${launched.length === 1 ? ' is' : 's are'} still running or queued; they keep going and the next run of this experiment re-attaches them:`);
    for (const job of launched) out(`  ${jobName(job)}  ${job.state}  ${job.directory}`);
    out(`To stop them: baton jobs kill ${launched.map((job) => job.directory).join(' ')}`);
    out('(or run again with --kill, so that Ctrl-C also cancels running jobs)');
  }
  if (options.interrupted && notStarted > 0) {
    out(`${notStarted} job${notStarted === 1 ? ' was' : 's were'} not started; the next run of this experiment starts ${notStarted === 1 ? 'it' : 'them'}.`);
  }
}
