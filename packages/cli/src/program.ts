// The `baton` command line: one file per command under commands/.
import { Command } from 'commander';
import { enableDebug } from '@baton/core';
import { registerJobsCommand } from './commands/jobs.ts';
import { registerRunExperimentCommand } from './commands/runExperiment.ts';

export function createProgram(): Command {
  const program = new Command('baton')
    .description('Run experiments: typed tasks become jobs that run exactly once, locally or on clusters.')
    .option('--debug', 'print debug output (baton:* channels) and stack traces')
    .showHelpAfterError('(add --help for usage)')
    // Throw instead of exiting, so that main maps usage errors to exit code 2.
    .exitOverride();
  program.hook('preAction', (_program, action) => {
    if (action.optsWithGlobals().debug) enableDebug('baton:*');
  });
  registerRunExperimentCommand(program);
  registerJobsCommand(program);
  return program;
}
