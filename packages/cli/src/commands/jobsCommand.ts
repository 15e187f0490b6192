// `baton jobs list|log|kill|clean`: the command line. What each does is in jobs.ts,
// imported when one of them runs.
import type { Command } from 'commander';
import { Option } from 'commander';
import type { CatalogJobState } from '@baton/core';
import { addHelpExamples } from '../help.ts';
import { addWorkspaceOptions, type WorkspaceOptions } from '../workspaceFlags.ts';

const STATES: CatalogJobState[] = ['done', 'failed', 'running', 'queued', 'incomplete'];

export type ListJobsCommandOptions = WorkspaceOptions & { state?: CatalogJobState; task?: string; experiment?: string; json?: boolean; wide?: boolean };
export type LogJobCommandOptions = WorkspaceOptions & { stderr?: boolean; follow?: boolean };
export type KillJobsCommandOptions = WorkspaceOptions & { task?: string; experiment?: string };
export type CleanJobsCommandOptions = WorkspaceOptions & { state?: 'done' | 'failed'; perform?: boolean };

export function registerJobsCommand(program: Command): void {
  const jobs = program.command('jobs').description('list, inspect, kill and clean the jobs of a workspace');
  addHelpExamples(jobs, {
    examples: [
      { command: 'baton jobs list --state failed', does: 'the failed jobs of the default workspace' },
      { command: 'baton jobs log train/3fa2c1 --stderr', does: "a job's standard error (task-id/hash-prefix)" },
      { command: 'baton jobs kill train/3fa2c1', does: 'cancel a running or queued job' },
      { command: 'baton jobs clean --state failed --perform', does: 'remove the directories of failed jobs' },
    ],
    docs: DOCS,
  });

  const list = addWorkspaceOptions(
    jobs
      .command('list')
      .description('list jobs with their state (read from the job directories)')
      .addOption(new Option('--state <state>', 'only jobs in this state').choices(STATES))
      .option('--task <id>', 'only jobs of this task')
      .option('--experiment <name>', 'only jobs submitted by runs of this experiment')
      .option('--wide', "show each job's directory, and every column whole (not fitted to the terminal)")
      .option('--json', 'print JSON instead of a table (every field, for scripts)'),
  ).action(async (options: ListJobsCommandOptions) => (await import('./jobs.ts')).listJobsCommand(options));
  addHelpExamples(list, {
    examples: [
      { command: 'baton jobs list', does: 'every job of the default workspace, fitted to the terminal' },
      { command: 'baton jobs list --state failed --experiment sweep', does: 'the failed jobs of the runs of sweep' },
      { command: 'baton jobs list --wide --workspace cluster', does: 'with directories, nothing cut' },
      { command: 'baton jobs list --json > jobs.json', does: 'every field, for scripts' },
    ],
    docs: DOCS,
  });

  const log = addWorkspaceOptions(
    jobs
      .command('log')
      .description("print a job's standard output (or error)")
      .argument('<job>', 'job directory, task-id/hash-prefix, or hash prefix (6+ characters)')
      .option('--stderr', 'print the standard error instead')
      .option('-f, --follow', 'keep printing new output until the job is done or failed'),
  ).action(async (ref: string, options: LogJobCommandOptions) => (await import('./jobs.ts')).logJobCommand(ref, options));
  addHelpExamples(log, {
    examples: [
      { command: 'baton jobs log train/3fa2c1', does: 'the standard output of a job of task train' },
      { command: 'baton jobs log 3fa2c1d0 --stderr', does: 'its standard error, by hash prefix' },
      { command: 'baton jobs log train/3fa2c1 -f', does: 'follow it until the job ends' },
    ],
    docs: DOCS,
  });

  const kill = addWorkspaceOptions(
    jobs
      .command('kill')
      .description('stop running or queued jobs (they are marked failed: cancelled)')
      .argument('[jobs...]', 'job directories, task-id/hash-prefixes, or hash prefixes (6+ characters)')
      .option('--experiment <name>', 'instead of naming jobs: every running or queued job submitted by runs of this experiment')
      .option('--task <id>', 'instead of naming jobs: every running or queued job of this task (with --experiment: of both)'),
  ).action(async (refs: string[], options: KillJobsCommandOptions) => (await import('./jobs.ts')).killJobsCommand(refs, options));
  addHelpExamples(kill, {
    examples: [
      { command: 'baton jobs kill train/3fa2c1', does: 'cancel one job' },
      { command: 'baton jobs kill 3fa2c1d0 9b8e7f6a --workspace cluster', does: 'cancel two jobs of the workspace "cluster"' },
      { command: 'baton jobs kill --experiment sweep', does: 'cancel every job of the runs of sweep still running or queued' },
    ],
    docs: DOCS,
  });

  const clean = addWorkspaceOptions(
    jobs
      .command('clean')
      .description('remove finished job directories (dry run unless --perform)')
      .addOption(new Option('--state <state>', 'only remove jobs in this state (default: done and failed)').choices(['done', 'failed']))
      .option('--perform', 'remove them for real'),
  ).action(async (options: CleanJobsCommandOptions) => (await import('./jobs.ts')).cleanJobsCommand(options));
  addHelpExamples(clean, {
    examples: [
      { command: 'baton jobs clean', does: 'list the finished job directories it would remove' },
      { command: 'baton jobs clean --state failed --perform', does: 'remove those of failed jobs' },
    ],
    docs: DOCS,
  });
}

const DOCS = 'guide.md#baton-jobs';
