// Parameters and task definitions that cannot be run as given: each is refused
// through the real `baton` command with exit code 2, one clear message (no stack
// trace), and nothing written under the workspace's jobs folder.
import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBaton } from '../testing/runBaton.ts';
import { createUserProject } from '../testing/userProject.ts';

let dir: string;

beforeAll(async () => {
  dir = await createUserProject('baton-cli-params-');
  await writeFile(
    join(dir, 'tasks.ts'),
    [
      "import { z } from 'zod';",
      "import { defineTask } from '@baton/core';",
      "export const loose = defineTask({ id: 'loose', params: z.object({ model: z.object({ layers: z.array(z.any()) }) }), command: () => ['true'] });",
      "export const echo = defineTask({ id: 'echo', params: z.object({ text: z.string() }), command: (p) => ['printf', '%s', p.text] });",
      '',
    ].join('\n'),
  );
  await writeFile(
    join(dir, 'other.ts'),
    [
      "import { z } from 'zod';",
      "import { defineTask } from '@baton/core';",
      "export const echo = defineTask({ id: 'echo', params: z.object({ text: z.string(), n: z.number().default(1) }), command: (p) => ['echo', p.text] });",
      '',
    ].join('\n'),
  );
  await writeFile(
    join(dir, 'experiment.ts'),
    [
      "import { z } from 'zod';",
      "import { defineExperiment, defineTask } from '@baton/core';",
      "import { echo, loose } from './tasks.ts';",
      "import { echo as otherEcho } from './other.ts';",
      'export default defineExperiment({',
      "  configuration: z.object({ case: z.string() }),",
      '  run({ xp }, cfg) {',
      "    if (cfg.case === 'url') xp.submit(loose, { model: { layers: [1, 2, new URL('https://example.org')] } });",
      "    if (cfg.case === 'nul-argv') xp.submit(echo, { text: 'a\\0b' });",
      "    if (cfg.case === 'nul-env') xp.submit(echo, { text: 'x' }, { env: { DATA: 'a\\0b' } });",
      "    if (cfg.case === 'env-name') xp.setenv('NOT-A-NAME', 'x');",
      "    if (cfg.case === 'two-definitions') { xp.submit(echo, { text: 'x' }); xp.submit(otherEcho, { text: 'y' }); }",
      "    if (cfg.case === 'long-id') defineTask({ id: 'x'.repeat(300), params: z.object({}), command: () => ['true'] });",
      "    if (cfg.case === 'unitless-memory') defineTask({ id: 'big', params: z.object({}), requirements: 'cpu(mem=400)', command: () => ['true'] });",
      "    if (cfg.case === 'function-param') defineTask({ id: 'cb', params: z.object({ cb: z.function() }), command: () => ['true'] });",
      '  },',
      '});',
      '',
    ].join('\n'),
  );
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function expectRejected(kase: string, patterns: RegExp[]): Promise<void> {
  const workspace = join(dir, `ws-${kase}`);
  await writeFile(join(dir, `${kase}.yaml`), `id: params\ncase: ${kase}\n`);
  const result = await runBaton(['run-experiment', '--workdir', workspace, `${kase}.yaml`], { cwd: dir });
  expect(result.code, result.stderr).toBe(2);
  for (const pattern of patterns) expect(result.stderr).toMatch(pattern);
  expect(result.stderr).not.toMatch(/^\s+at .*\(.*:\d+:\d+\)$/m); // no stack trace
  expect(existsSync(join(workspace, 'jobs'))).toBe(false);
}

describe('bad parameters and task definitions, through the CLI', () => {
  it('a value without a faithful identity (a URL), with its path', () =>
    expectRejected('url', [/params\.model\.layers\[2\]: a URL cannot enter a job identity/]));
  it('a NUL byte in an argument of the command', () => expectRejected('nul-argv', [/NUL byte/, /echo/]));
  it('a NUL byte in an environment value', () => expectRejected('nul-env', [/Environment variable DATA contains a NUL byte/]));
  it('an invalid environment variable name given to setenv', () => expectRejected('env-name', [/Invalid environment variable name "NOT-A-NAME"/]));
  it('two different tasks with one id, naming both modules', () =>
    expectRejected('two-definitions', [/Two different tasks have the id "echo"/, /tasks\.ts:\d+/, /other\.ts:\d+/]));
  it('a task id over the limit, with the limit', () => expectRejected('long-id', [/too long \(at most 200\)/]));
  it('a memory size without a unit', () => expectRejected('unitless-memory', [/"400" is not a size \(no unit\)/]));
  it('a parameter schema that cannot reach the job', () => expectRejected('function-param', [/params\.cb: a function cannot be written to params\.json/]));
});
