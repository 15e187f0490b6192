// No stack trace reaches the user without --debug: not from the library's log records, not from
// an error nobody awaited. With --debug, the stack is there.
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runBaton } from '../testing/runBaton.ts';
import { createUserProject } from '../testing/userProject.ts';

const STACK_FRAME = /^\s+at .*:\d+:\d+\)?$/m;
let dir: string;

beforeEach(async () => {
  dir = await createUserProject('baton-cli-stack-');
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function run(module: string[], debug = false) {
  await writeFile(join(dir, 'experiment.ts'), [...module, ''].join('\n'));
  return runBaton([...(debug ? ['--debug'] : []), 'run-experiment', '--file', 'experiment.ts', '-c', 'id=stack', '--workdir', join(dir, 'workspace')], { cwd: dir });
}

describe('no stack trace without --debug', () => {
  const logging = [
    "import { createLogger, defineExperiment } from '@baton/core';",
    "const logger = createLogger('baton:user');",
    "export default defineExperiment({ run() { logger.error('could not write: %O', new Error('no space left on device')); logger.warn('and: %s', new Error('again')); } });",
  ];

  it('errors and warnings logged with an Error print its message only', async () => {
    const result = await run(logging);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('error: could not write: no space left on device  [baton:user]');
    expect(result.stderr).toContain('warning: and: again  [baton:user]');
    expect(result.stderr).not.toMatch(STACK_FRAME);
  });

  it('--debug shows the stacks', async () => {
    const result = await run(logging, true);
    expect(result.stderr).toContain('error: could not write: no space left on device  [baton:user]');
    expect(result.stderr).toMatch(STACK_FRAME);
  });

  it('an error nobody awaited is reported as a message and an exit code', async () => {
    const result = await run([
      "import { defineExperiment } from '@baton/core';",
      "export default defineExperiment({ run() { void Promise.reject(new Error('forgotten promise')); return new Promise((resolve) => setTimeout(resolve, 500)); } });",
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('baton: unexpected error: forgotten promise');
    expect(result.stderr).toContain('--debug');
    expect(result.stderr).not.toMatch(STACK_FRAME);
  });
});
