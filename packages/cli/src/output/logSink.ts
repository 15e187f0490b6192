// Where the core's warn and error records go: lines on stderr, printed above the progress line.
import { format } from 'node:util';
import { setLogSink } from '@baton/core';
import type { StatusLine } from './statusLine.ts';

export function installLogSink(options: { statusLine: StatusLine }): () => void {
  setLogSink((record) => {
    if (record.level !== 'warn' && record.level !== 'error') return;
    const message = format(record.message, ...record.args);
    options.statusLine.print(`${record.level === 'warn' ? 'warning' : 'error'}: ${message}  [${record.namespace}]`, 'stderr');
  });
  return () => setLogSink(undefined);
}
