// The `baton` command line: each command declares its options in commands/*Command.ts and
// imports what it does only when it runs, so `baton --version` and `--help` load next to nothing.
import { createRequire } from 'node:module';
import { Command } from 'commander';
import { registerCompletionCommand } from './commands/completionCommand.ts';
import { registerConfigCommand } from './commands/configCommand.ts';
import { registerJobsCommand } from './commands/jobsCommand.ts';
import { registerMonitorCommand } from './commands/monitorCommand.ts';
import { registerReportCommand } from './commands/reportCommand.ts';
import { registerRunExperimentCommand } from './commands/runExperimentCommand.ts';
import { addHelpExamples, registerHelpCommand } from './help.ts';

export function createProgram(): Command {
  const program = new Command('baton')
    .description('Run experiments: typed tasks become jobs that run exactly once, locally or on clusters.')
    .version(cliVersion(), '-V, --version', 'print the version of baton')
    .option('--debug', 'print debug output (baton:* channels) and stack traces')
    .showHelpAfterError('(add --help for usage)')
    // Throw instead of exiting, so that main maps usage errors to exit code 2.
    .exitOverride();
  program.hook('preAction', async (_program, action) => {
    const { enableDebug } = await import('@baton/core/logger');
    if (action.optsWithGlobals().debug) enableDebug('baton:*');
    // Warnings from the core (e.g. a launcher's) reach the user in every command.
    const [{ installLogSink }, { plainStatusLine }] = await Promise.all([import('./output/logSink.ts'), import('./output/statusLine.ts')]);
    installLogSink({ statusLine: plainStatusLine() });
  });
  registerRunExperimentCommand(program);
  registerJobsCommand(program);
  registerMonitorCommand(program);
  registerReportCommand(program);
  registerConfigCommand(program);
  registerCompletionCommand(program);
  // Last: `baton help <command...>` reaches every command registered before it.
  registerHelpCommand(program);
  addHelpExamples(program, {
    examples: [
      { command: 'baton run-experiment sweep.yaml', does: 'run an experiment from its YAML configuration' },
      { command: 'baton jobs list --state failed', does: 'the failed jobs of the default workspace' },
      { command: 'baton jobs log train/3fa2c1 --stderr', does: "a job's standard error" },
      { command: 'baton monitor', does: 'a web page of the workspace, live' },
      { command: 'baton help jobs list', does: 'the help of a command' },
      { command: 'source <(baton completion bash)', does: 'completion in bash (zsh, fish too)' },
    ],
    docs: 'guide.md#the-baton-command',
  });
  return program;
}

function cliVersion(): string {
  return (createRequire(import.meta.url)('../package.json') as { version: string }).version;
}
