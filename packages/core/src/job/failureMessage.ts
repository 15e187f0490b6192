// What a failed marker says of a task that threw: the first line of the error's
// message, bounded. The whole story (the stack) goes to the job's stderr.

/** Longest message a marker carries; a longer first line is cut, with `...`. */
const MAX_LENGTH = 500;

/** The first line of what `run` threw (or its module failed with), for the job's failed marker. */
export function failureMessage(error: unknown): string {
  const text = error instanceof Error ? error.message || error.name : String(error);
  const message = text.split('\n')[0]!.trim() || 'the task threw';
  return message.length > MAX_LENGTH ? `${message.slice(0, MAX_LENGTH - 3)}...` : message;
}
