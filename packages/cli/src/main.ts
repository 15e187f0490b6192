// Entry point of the `baton` command: parse the command line, run the command, map errors to exit codes.
import { joinEnvPairs } from './commands/runExperiment.ts';
import { installLogSink } from './output/logSink.ts';
import { createStatusLine } from './output/statusLine.ts';
import { createProgram } from './program.ts';
import { reportError } from './reportError.ts';

const argv = process.argv;
const debug = argv.includes('--debug');
// An error nobody awaited (in a plugin, or in the user's module) is reported like any other:
// its message, the stack only with --debug.
const onStray = (error: unknown) => {
  process.exitCode = reportError({ error, debug });
  process.exit();
};
process.on('uncaughtException', onStray);
process.on('unhandledRejection', onStray);
// Output with nowhere to go (the terminal closed after SIGHUP, `| head` done reading) is dropped;
// the work goes on (an experiment still stops cleanly and reports its exit code).
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (!['EPIPE', 'EIO', 'ERR_STREAM_DESTROYED'].includes(error.code ?? '')) onStray(error);
  });
}
// Warnings from the core (e.g. a launcher's) reach the user in every command.
installLogSink({ statusLine: createStatusLine({ interactive: false }) });
try {
  await createProgram().parseAsync(joinEnvPairs(argv));
} catch (error) {
  process.exitCode = reportError({ error, debug });
}
