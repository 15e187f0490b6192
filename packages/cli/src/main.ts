// Entry point of the `baton` command: parse the command line, run the command, map errors to exit codes.
// Only the command line is loaded here; a command imports what it needs when it runs.
import { CommanderError } from 'commander';
import { joinEnvPairs } from './commands/runExperimentCommand.ts';
import { createProgram } from './program.ts';

const argv = process.argv;
const debug = argv.includes('--debug');
// An error nobody awaited (in a plugin, or in the user's module) is reported like any other:
// its message, the stack only with --debug.
const onStray = async (error: unknown) => {
  process.exitCode = await report(error);
  process.exit();
};
process.on('uncaughtException', onStray);
process.on('unhandledRejection', onStray);
// Output with nowhere to go (the terminal closed after SIGHUP, `| head` done reading) is dropped;
// the work goes on (an experiment still stops cleanly and reports its exit code).
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (!['EPIPE', 'EIO', 'ERR_STREAM_DESTROYED'].includes(error.code ?? '')) void onStray(error);
  });
}
try {
  await createProgram().parseAsync(joinEnvPairs(argv));
} catch (error) {
  // --help and --version end here too: commander printed them, nothing more to load.
  process.exitCode = error instanceof CommanderError && error.exitCode === 0 ? 0 : await report(error);
}

/** The error as one message for the user, and the exit code it maps to. */
async function report(error: unknown): Promise<number> {
  const { reportError } = await import('./reportError.ts');
  return reportError({ error, debug });
}
