// Text from the library or the user's code, made fit for the user's eyes: no stack frames
// (those belong to --debug output) and errors as their message.
import { formatWithOptions } from 'node:util';

/** `    at fn (file.ts:12:3)`, `    at file:///x.js:1:2`, `    at async Promise.all (index 0)`, `    ... 4 lines matching cause stack trace ...` */
const STACK_FRAME = /^\s+(at\s.*|\.\.\. \d+ lines matching cause stack trace \.\.\.)$/;

/** Drops the stack frames from a text, whatever put them there. */
export function withoutStackFrames(text: string): string {
  if (!text.includes('\n')) return text;
  return text
    .split('\n')
    .filter((line) => !STACK_FRAME.test(line))
    .join('\n');
}

/** A logger record's message with its printf-style arguments, errors shown as their message. */
export function formatLogMessage(message: string, args: readonly unknown[]): string {
  // %O and %o would print an error's stack; an error's message is what the user needs.
  const human = args.map((arg) => (arg instanceof Error ? errorMessage(arg) : arg));
  const text = formatWithOptions({ colors: false, depth: 4, breakLength: Infinity }, message.replace(/%[oO]/g, '%s'), ...human);
  return withoutStackFrames(text);
}

/** `message (cause: message)`, following causes a few levels down. */
export function errorMessage(error: Error): string {
  let text = error.message || error.name;
  let cause = error.cause;
  for (let depth = 0; cause instanceof Error && depth < 3; depth++, cause = cause.cause) {
    if (cause.message && !text.includes(cause.message)) text += ` (cause: ${cause.message})`;
  }
  return withoutStackFrames(text);
}
