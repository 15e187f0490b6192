// The heavy half of `baton run-experiment`: loads the module, runs the experiment with a
// progress display, handles interruptions, prints the summary. Returns the exit code.
import { constants } from 'node:os';
import { resolve } from 'node:path';
import { BatonError, isBatonError, runExperiment, shellJoin } from '@baton/core';
import type { Experiment, ExperimentDefinition, ExperimentSummary } from '@baton/core';
import { installLogSink } from '../output/logSink.ts';
import { errorMessage } from '../output/plainText.ts';
import { followExperiment, type Progress } from '../output/progress.ts';
import { createStatusLine, type StatusLine } from '../output/statusLine.ts';
import { formatSummary } from '../output/summary.ts';
import { loadExperimentDefinition } from './experimentModule.ts';
import { followFailedJobTails, type FailedJobTails } from './failedJobTails.ts';
import type { RunExperimentOptions } from './runExperimentCommand.ts';
import { startRunMonitor, wantsRunMonitor } from './runMonitor.ts';
import { CLI_PACKAGE_DIR } from '../workspaceOptions.ts';

/** Signals that stop the experiment; the exit code is 128 + the signal's number, as shells report it (130, 143, 129). */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
type StopSignal = (typeof STOP_SIGNALS)[number];

/** Seconds between two progress lines off a terminal; BATON_PROGRESS_INTERVAL changes it (0: only on news). */
const PLAIN_PROGRESS_INTERVAL_S = 10;

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
  const plainIntervalMs = interactive || dryRun ? undefined : plainProgressInterval();
  const statusLine = await createStatusLine({ interactive });
  const removeLogSink = installLogSink({ statusLine });
  const interruption = handleInterruptions({ statusLine, kill: cli.kill === true });
  const startedAt = Date.now();
  let progress: Progress | undefined;
  let xp: Experiment | undefined;
  let runFunction: 'not started' | 'running' | 'returned' = 'not started';
  /** The run's web monitor (--host/--port), once it listens. */
  let monitor: ReturnType<typeof startRunMonitor> | undefined;
  /** The last lines of failed jobs' stderr, for the summary. */
  let failedTails: FailedJobTails | undefined;
  const summaryOf = (summary: ExperimentSummary, stderrTails?: Map<string, string[]>) =>
    formatSummary({
      summary,
      experiment: xp?.name ?? '',
      interruptedBy: interruption.signal(),
      killed: cli.kill === true,
      runMode: cli.runMode,
      stderrTails,
      workspaceFlags: workspaceFlags(cli),
    });

  // Node exits when nothing is left that could settle the run (a promise that never settles,
  // a job nobody will ever start): that must not pass for success.
  const onDrained = () => {
    progress?.close();
    if (xp) process.stdout.write(`${summaryOf(xp.summary()).join('\n')}\n`);
    const unsettled = xp ? xp.jobs.filter((job) => !job.isFinished).length : 0;
    process.stderr.write(
      runFunction === 'running'
        ? `baton: the run function of ${options.modulePath} never finished: it awaits something that can never happen (a promise that never settles, or a job Baton lost track of)\n` +
            '  fix: make sure every promise it awaits settles; jobs already done are kept, run again to resume\n'
        : `baton: internal error: the experiment cannot make progress any more (${unsettled} job${unsettled === 1 ? '' : 's'} not finished, nothing left to wake them up)\n` +
            '  fix: run again to resume (done jobs are kept), and please report this with the output of --debug\n',
    );
    process.exitCode = interruption.exitCode() ?? 1;
  };
  process.once('beforeExit', onDrained);
  try {
    const summary = await runExperiment({
      definition: following(definition, (phase) => (runFunction = phase)),
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
      onExperiment: (experiment) => {
        xp = experiment;
        interruption.attach(experiment);
        failedTails = followFailedJobTails({ xp: experiment, lines: cli.stderrLines });
        if (wantsRunMonitor(cli)) monitor = startRunMonitor({ xp: experiment, host: cli.host, port: cli.port, statusLine });
        progress = followExperiment({ xp: experiment, statusLine, startedAt, reportFailures: !dryRun, plain: plainIntervalMs === undefined ? undefined : { intervalMs: plainIntervalMs } });
      },
    }).catch((error: unknown) => {
      // Stopped by a signal while submitting: the run function meets the stop (a submit refused);
      // the interruption is the news, with the summary, not an error.
      if (interruption.signal() !== undefined && xp) {
        statusLine.print(`The run function ended early: ${error instanceof Error ? errorMessage(error) : String(error)}`, 'stderr');
        return xp.summary();
      }
      if (isBatonError(error)) throw error;
      // Most likely thrown by the user's run function: say so, and where.
      throw new BatonError(`The experiment failed: ${error instanceof Error ? error.message : String(error)}`, {
        where: options.modulePath,
        hint: 'run again with --debug for the stack trace',
        cause: error,
      });
    });
    progress?.close();
    const stderrTails = dryRun ? undefined : await failedTails?.read(summary);
    process.stdout.write(`${summaryOf(summary, stderrTails).join('\n')}\n`);
    const interrupted = interruption.exitCode();
    if (interrupted !== undefined) return interrupted;
    // A dry run only reports: jobs that failed before are not its failures.
    return summary.failed.length > 0 && !dryRun ? 1 : 0;
  } finally {
    process.off('beforeExit', onDrained);
    await (await monitor)?.close();
    progress?.close();
    failedTails?.dispose();
    interruption.dispose();
    removeLogSink();
  }
}

/** The flags that name the run's workspace, for the commands the summary suggests (paths made absolute, to work from anywhere). */
function workspaceFlags(cli: RunExperimentOptions): string {
  const flags: string[] = [];
  if (cli.workdir !== undefined) flags.push('--workdir', resolve(cli.workdir));
  else if (cli.workspace !== undefined) flags.push('--workspace', cli.workspace);
  if (cli.configDir !== undefined) flags.push('--config-dir', resolve(cli.configDir));
  return shellJoin(flags);
}

/** The definition, telling when its run function starts and returns. */
function following(definition: ExperimentDefinition, onPhase: (phase: 'running' | 'returned') => void): ExperimentDefinition {
  return {
    ...definition,
    run: async (...args) => {
      onPhase('running');
      try {
        return await definition.run(...args);
      } finally {
        onPhase('returned');
      }
    },
  };
}

/** BATON_PROGRESS_INTERVAL (seconds, fractions allowed) or the default. */
function plainProgressInterval(): number {
  const text = process.env.BATON_PROGRESS_INTERVAL?.trim();
  if (!text) return PLAIN_PROGRESS_INTERVAL_S * 1000;
  const seconds = Number(text);
  if (!Number.isFinite(seconds) || seconds < 0) {
    process.stderr.write(`warning: BATON_PROGRESS_INTERVAL=${text} is not a number of seconds; using ${PLAIN_PROGRESS_INTERVAL_S}\n`);
    return PLAIN_PROGRESS_INTERVAL_S * 1000;
  }
  return Math.round(seconds * 1000);
}

interface Interruptions {
  attach(xp: Experiment): void;
  /** The first signal received, if any. */
  signal(): StopSignal | undefined;
  /** 128 + the number of the first signal received, if any. */
  exitCode(): number | undefined;
  dispose(): void;
}

/** First signal: stop submitting (and cancel jobs with --kill); second: exit at once. */
function handleInterruptions(options: { statusLine: StatusLine; kill: boolean }): Interruptions {
  let xp: Experiment | undefined;
  let first: StopSignal | undefined;
  const onSignal = (signal: StopSignal) => {
    const again = first !== undefined;
    first ??= signal;
    if (again || !xp) {
      options.statusLine.close();
      process.stderr.write(`\nInterrupted (${signal}): exiting now. Jobs already started keep running (but for jobs in this process's threads, which run again on resume); the next run re-attaches them.\n`);
      process.exit(exitCodeOf(signal));
    }
    const howToForce = signal === 'SIGINT' ? 'Press Ctrl-C again to exit at once.' : `Send ${signal} again to exit at once.`;
    options.statusLine.print(
      options.kill
        ? `Interrupted (${signal}): stopping the experiment and cancelling its running jobs. ${howToForce}`
        : `Interrupted (${signal}): stopping the experiment; running jobs keep running (but for jobs in this process's threads). ${howToForce}`,
      'stderr',
    );
    xp.stop({ kill: options.kill }).catch((error: unknown) => {
      options.statusLine.print(`error: could not stop the experiment cleanly: ${(error as Error).message}`, 'stderr');
    });
  };
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
  return {
    attach: (experiment) => {
      xp = experiment;
    },
    signal: () => first,
    exitCode: () => (first === undefined ? undefined : exitCodeOf(first)),
    dispose: () => {
      for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
    },
  };
}

function exitCodeOf(signal: StopSignal): number {
  return 128 + constants.signals[signal];
}
