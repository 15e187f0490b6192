// Turns any error that reaches the top into a message on stderr and an exit code.
// Stack traces are for --debug only.
import { CommanderError } from 'commander';
import { isBatonError } from '@baton/core';
import { errorMessage, withoutStackFrames } from './output/plainText.ts';

/** Exit code for bad usage (unknown option, invalid value...), like a UserInputError. */
export const USAGE_EXIT_CODE = 2;

export function reportError(options: { error: unknown; debug: boolean }): number {
  const { error, debug } = options;
  if (error instanceof CommanderError) {
    // Commander has already printed the problem and the usage line.
    return error.exitCode === 0 ? 0 : USAGE_EXIT_CODE;
  }
  if (isBatonError(error)) {
    process.stderr.write(`${withoutStackFrames(error.format())}\n`);
    if (debug) {
      if (error.stack) process.stderr.write(`${error.stack}\n`);
      if (error.cause instanceof Error && error.cause.stack) process.stderr.write(`caused by: ${error.cause.stack}\n`);
    }
    return error.exitCode;
  }
  const message = error instanceof Error ? errorMessage(error) : withoutStackFrames(String(error));
  process.stderr.write(`baton: unexpected error: ${message}\n`);
  if (debug && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
  else process.stderr.write('  (run again with --debug for the stack trace)\n');
  return 1;
}
