// Entry point of the `baton` command: parse the command line, run the command, map errors to exit codes.
import { joinEnvPairs } from './commands/runExperiment.ts';
import { createProgram } from './program.ts';
import { reportError } from './reportError.ts';

const argv = process.argv;
try {
  await createProgram().parseAsync(joinEnvPairs(argv));
} catch (error) {
  process.exitCode = reportError({ error, debug: argv.includes('--debug') });
}
