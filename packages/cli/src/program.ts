// The `baton` command line: one file per command under commands/.
import { createRequire } from 'node:module';
import { Command } from 'commander';
import { enableDebug } from '@baton/core';
import { registerJobsCommand } from './commands/jobs.ts';
import { registerRunExperimentCommand } from './commands/runExperiment.ts';

export function createProgram(): Command {
  const program = new Command('baton')
    .description('Run experiments: typed tasks become jobs that run exactly once, locally or on clusters.')
    .version(cliVersion(), '-V, --version', 'print the version of baton')
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

function cliVersion(): string {
  return (createRequire(import.meta.url)('../package.json') as { version: string }).version;
}
