// `baton report`: the command line. What it does is in report.ts, imported when it runs.
import type { Command } from 'commander';
import { Option } from 'commander';
import { addHelpExamples } from '../help.ts';
import { addWorkspaceOptions, type WorkspaceOptions } from '../workspaceFlags.ts';

export type ReportCommandOptions = WorkspaceOptions & {
  experiment?: string;
  run?: string;
  output: string;
  trace: string;
  traceFormat: 'tsv' | 'jsonl';
};

export function registerReportCommand(program: Command): void {
  const report = addWorkspaceOptions(
    program
      .command('report')
      .description('write an HTML report (timeline, failures, jobs) and a trace file (one row per job) of an experiment run or a workspace')
      .option('--experiment <name>', 'report on a run of this experiment (default: the whole workspace)')
      .option('--run <run-id>', 'the run to report on, or "latest" (default: latest; needs --experiment)')
      .option('--output <file>', 'where to write the HTML page', 'report.html')
      .option('--trace <file>', 'where to write the trace', 'trace.tsv')
      .addOption(new Option('--trace-format <format>', 'format of the trace').choices(['tsv', 'jsonl']).default('tsv')),
  ).action(async (options: ReportCommandOptions) => (await import('./report.ts')).reportCommand(options));
  addHelpExamples(report, {
    examples: [
      { command: 'baton report --experiment sweep', does: 'report.html and trace.tsv of the latest run of sweep' },
      { command: 'baton report --experiment sweep --run 20261201T093000-123', does: 'of one run' },
      { command: 'baton report --output all.html --trace all.jsonl --trace-format jsonl', does: 'the whole workspace, a JSON lines trace' },
    ],
    docs: 'report.md',
  });
}
