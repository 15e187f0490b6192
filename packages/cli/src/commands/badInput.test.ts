// Each kind of bad input gets one clear error (what, where, how to fix), exit
// code 2, and leaves nothing half-written in the workspace.
import { existsSync } from 'node:fs';
import { chmod, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runBaton } from '../testing/runBaton.ts';
import { createUserProject } from '../testing/userProject.ts';

let dir: string;

beforeEach(async () => {
  dir = await createUserProject('baton-cli-bad-');
  await writeFile(
    join(dir, 'experiment.ts'),
    [
      "import { z } from 'zod';",
      "import { defineExperiment, defineTask } from '@baton/core';",
      "export const square = defineTask({ id: 'square', params: z.object({ x: z.number().int() }), command: (p) => ['echo', String(p.x * p.x)] });",
      'export default defineExperiment({',
      '  configuration: z.object({ values: z.array(z.unknown()) }),',
      '  run({ xp }, cfg) { for (const x of cfg.values) xp.submit(square, { x } as never); },',
      '});',
      '',
    ].join('\n'),
  );
  await writeFile(join(dir, 'ok.yaml'), 'id: squares\nvalues: [1, 2]\n');
});

afterEach(async () => {
  await chmod(join(dir, 'locked'), 0o755).catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

const workspace = () => join(dir, 'ws');

async function settings(text: string): Promise<void> {
  await writeFile(join(dir, 'baton.config.yaml'), text);
}

async function expectRejected(args: string[], patterns: RegExp[]): Promise<void> {
  const result = await runBaton(['run-experiment', ...args], { cwd: dir });
  expect(result.code, result.stderr).toBe(2);
  for (const pattern of patterns) expect(result.stderr).toMatch(pattern);
  expect(result.stderr).not.toMatch(/^\s+at .*\(.*:\d+:\d+\)$/m); // no stack trace
  // Nothing ran, nothing half-written.
  expect(existsSync(join(workspace(), 'jobs'))).toBe(false);
}

describe('bad input', () => {
  it('malformed YAML', async () => {
    await writeFile(join(dir, 'bad.yaml'), 'id: x\nvalues: [1, 2\n');
    await expectRejected(['--workdir', workspace(), 'bad.yaml'], [/bad\.yaml:\d+:\d+/]);
  });

  it('an unknown settings key, with its path and a did-you-mean', async () => {
    await settings(`workspaces:\n  - id: main\n    path: ${workspace()}\n    launchers:\n      local: { use: local, maxConcurent: 2 }\n`);
    await expectRejected(['ok.yaml'], [/baton\.config\.yaml/, /workspaces\[0\]\.launchers\.local\.maxConcurent/, /did you mean "maxConcurrent"/]);
  });

  it('an unknown plugin', async () => {
    await settings(`plugins: [slurmm]\nworkspaces:\n  - id: main\n    path: ${workspace()}\n`);
    await expectRejected(['ok.yaml'], [/slurmm/, /baton\.config\.yaml/]);
  });

  it('a plugin whose default export is not a plugin', async () => {
    await writeFile(join(dir, 'not-a-plugin.mjs'), 'export default { name: "x" };\n');
    await settings(`plugins: [./not-a-plugin.mjs]\nworkspaces:\n  - id: main\n    path: ${workspace()}\n`);
    await expectRejected(['ok.yaml'], [/does not export a Baton plugin/, /definePlugin/]);
  });

  it('an unwritable workspace', async () => {
    await writeFile(join(dir, 'file'), '');
    const result = await runBaton(['run-experiment', '--workdir', join(dir, 'file', 'ws'), 'ok.yaml'], { cwd: dir });
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain(join(dir, 'file', 'ws'));
  });

  it('a parameter that fails its schema: the experiment stops before running anything', async () => {
    await writeFile(join(dir, 'bad-param.yaml'), 'id: squares\nvalues: [1, "two"]\n');
    // Where: the line of the TypeScript module that submitted (source-mapped), and the call.
    await expectRejected(['--workdir', workspace(), 'bad-param.yaml'], [/Invalid parameters for task "square"/, /x: /, /at: \S*experiment\.ts:6:\d+, in submit\(square, \{"x":"two"\}\)/]);
  });

  it('a function task the experiment module defines without exporting it: refused at submit, not failed in every job', async () => {
    const module = (exported: boolean) =>
      [
        "import { z } from 'zod';",
        "import { defineExperiment, defineTask } from '@baton/core';",
        `${exported ? 'export ' : ''}const cube = defineTask({ id: 'cube', params: z.object({ x: z.number() }), run: (p) => p.x ** 3 });`,
        'export default defineExperiment({ run({ xp }) { xp.submit(cube, { x: 2 }); } });',
        '',
      ].join('\n');
    await writeFile(join(dir, 'cubes.ts'), module(false));
    await expectRejected(['--workdir', workspace(), '--file', 'cubes.ts', '-c', 'id=cubes'], [
      /Function task "cube" is not exported from its module, \S*cubes\.ts/,
      // Where it is defined, source-mapped.
      /at: \S*cubes\.ts:3:\d+/,
      /add `export` to the declaration/,
    ]);
    // Exported, it runs.
    await writeFile(join(dir, 'cubes.ts'), module(true));
    const result = await runBaton(['run-experiment', '--workdir', workspace(), '--file', 'cubes.ts', '-c', 'id=cubes'], { cwd: dir });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('1 done');
  });

  it('a TypeScript experiment in a CommonJS package: what to change, not Node\'s "No exports main"', async () => {
    await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'user-project', type: 'commonjs' }));
    await expectRejected(['--workdir', workspace(), 'ok.yaml'], [/experiment\.ts \(or a module it imports\) is loaded as CommonJS/, /fix: set "type": "module" in \S*package\.json, or name the file \.mts/]);
  });

  it('a configuration field of the wrong type or an unknown one', async () => {
    await writeFile(join(dir, 'bad-config.yaml'), 'id: squares\nvalues: 3\ntitel: typo\n');
    await expectRejected(['--workdir', workspace(), 'bad-config.yaml'], [/values: /, /titel: unknown key \(did you mean "title"\?\)/]);
  });

  it('an empty configuration file, or one with only comments', async () => {
    await writeFile(join(dir, 'empty.yaml'), '# to be written\n\n');
    await expectRejected(['--workdir', workspace(), 'empty.yaml'], [/Empty configuration: \S*empty\.yaml holds no keys/, /fix: .*id: my-experiment/]);
    const result = await runBaton(['run-experiment', '--workdir', workspace(), 'empty.yaml'], { cwd: dir });
    expect(result.stderr).not.toMatch(/Cannot find the experiment module/);
  });

  it('a YAML parent cycle', async () => {
    await writeFile(join(dir, 'a.yaml'), 'parent: b.yaml\nid: a\n');
    await writeFile(join(dir, 'b.yaml'), 'parent: a.yaml\n');
    await expectRejected(['--workdir', workspace(), 'a.yaml'], [/a\.yaml → b\.yaml → a\.yaml|a\.yaml.*b\.yaml.*a\.yaml/]);
  });

  it('an unknown workspace id, with a did-you-mean', async () => {
    await settings(`workspaces:\n  - id: main\n    path: ${workspace()}\n`);
    await expectRejected(['--workspace', 'mian', 'ok.yaml'], [/mian/, /did you mean "main"/]);
  });

  it('leaves no experiment run behind when the settings are invalid', async () => {
    await settings(`workspaces:\n  - id: main\n    path: ${workspace()}\n    tokenz: { gpu: 1 }\n`);
    await expectRejected(['ok.yaml'], [/tokenz/, /did you mean "tokens"/]);
    expect(existsSync(join(workspace(), 'experiments')) ? await readdir(join(workspace(), 'experiments')) : []).toEqual([]);
  });
});
