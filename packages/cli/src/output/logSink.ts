// Where the core's warn and error records go: lines on stderr, printed above the progress line.
// Messages only: a stack trace is debug output (--debug prints the baton:* channels, stacks included).
import { setLogSink } from '@baton/core/logger';
import { formatLogMessage } from './plainText.ts';
import type { StatusLine } from './statusLine.ts';
import { outputStyle, type OutputStyle } from './terminal.ts';

/** The same message printed this many times is then hidden: one cause (a full disk) must not bury the rest. */
export const MAX_REPEATS = 3;

export function installLogSink(options: { statusLine: StatusLine; style?: OutputStyle }): () => void {
  const seen = new Map<string, number>();
  const style = options.style ?? outputStyle(process.stderr);
  setLogSink((record) => {
    if (record.level !== 'warn' && record.level !== 'error') return;
    const level = record.level === 'warn' ? 'warning' : 'error';
    const line = `${level}: ${formatLogMessage(record.message, record.args)}  [${record.namespace}]`;
    const count = (seen.get(line) ?? 0) + 1;
    seen.set(line, count);
    if (count <= MAX_REPEATS) options.statusLine.print(`${(level === 'warning' ? style.yellow : style.red)(`${level}:`)}${line.slice(level.length + 1)}`, 'stderr');
    else if (count === MAX_REPEATS + 1) options.statusLine.print(`  (it keeps coming: further copies of "${line.slice(0, 60)}..." are not shown; --debug shows them all)`, 'stderr');
  });
  return () => setLogSink(undefined);
}
