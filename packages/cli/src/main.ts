// Entry point of the `baton` command: parse the command line, run the command, map errors to exit codes.
import { joinEnvPairs } from './commands/runExperiment.ts';
import { installLogSink } from './output/logSink.ts';
import { createStatusLine } from './output/statusLine.ts';
import { createProgram } from './program.ts';
import { reportError } from './reportError.ts';

const argv = process.argv;
// Warnings from the core (e.g. a launcher's) reach the user in every command.
installLogSink({ statusLine: createStatusLine({ interactive: false }) });
try {
  await createProgram().parseAsync(joinEnvPairs(argv));
} catch (error) {
  process.exitCode = reportError({ error, debug: argv.includes('--debug') });
}
