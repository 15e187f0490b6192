import { createLogger } from '@baton/core';
import { afterEach, describe, expect, it } from 'vitest';
import { installLogSink } from './logSink.ts';
import type { StatusLine } from './statusLine.ts';

let remove: (() => void) | undefined;

afterEach(() => remove?.());

function capture() {
  const printed: string[] = [];
  const statusLine: StatusLine = { update: () => undefined, print: (line) => printed.push(line), close: () => undefined };
  remove = installLogSink({ statusLine });
  return printed;
}

describe('installLogSink', () => {
  it('prints errors logged with an Error argument as their message, never their stack', () => {
    const printed = capture();
    const logger = createLogger('baton:test');
    const error = new Error('no space left on device', { cause: new Error('ENOSPC') });
    logger.error('could not write the job files: %O', error);
    logger.warn('token "%s": lock lost: %s', 'gpu', error);
    logger.error(`scheduler: ${error.stack}`);
    expect(printed).toEqual([
      'error: could not write the job files: no space left on device (cause: ENOSPC)  [baton:test]',
      'warning: token "gpu": lock lost: no space left on device (cause: ENOSPC)  [baton:test]',
      'error: scheduler: Error: no space left on device  [baton:test]',
    ]);
  });

  it('shows one message a few times, then says it repeats and hides the rest', () => {
    const printed = capture();
    const logger = createLogger('baton:test');
    for (let i = 0; i < 50; i++) logger.error('disk full in /ws');
    logger.warn('something else');
    expect(printed).toHaveLength(5);
    expect(printed[3]).toMatch(/^ {2}\(it keeps coming: further copies of .* are not shown; --debug shows them all\)$/);
    expect(printed[4]).toBe('warning: something else  [baton:test]');
  });
});
