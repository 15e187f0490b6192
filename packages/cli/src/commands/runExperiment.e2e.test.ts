// Runs a real experiment through `baton run-experiment`, with the real local launcher.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runBaton } from '../testing/runBaton.ts';

const CORE_DIR = fileURLToPath(new URL('../../../core', import.meta.url));
const ZOD_DIR = dirname(createRequire(join(CORE_DIR, 'package.json')).resolve('zod/package.json'));

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'baton-cli-e2e-'));
  // The experiment imports @baton/core and zod as a user's project would.
  await mkdir(join(dir, 'node_modules', '@baton'), { recursive: true });
  await symlink(CORE_DIR, join(dir, 'node_modules', '@baton', 'core'));
  await symlink(ZOD_DIR, join(dir, 'node_modules', 'zod'));
  await writeFile(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
  await writeFile(
    join(dir, 'experiment.ts'),
    [
      "import { z } from 'zod';",
      "import { defineExperiment, defineTask } from '@baton/core';",
      '',
      "export const greet = defineTask({ id: 'greet', params: z.object({ name: z.string() }), command: (p) => ['echo', `hello ${p.name}`] });",
      '',
      'export default defineExperiment({',
      '  configuration: z.object({ name: z.string() }),',
      '  run({ xp }, configuration) {',
      '    xp.submit(greet, { name: configuration.name });',
      '  },',
      '});',
      '',
    ].join('\n'),
  );
  await writeFile(join(dir, 'hello.yaml'), 'id: hello\nname: world\n');
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('baton run-experiment (end to end)', () => {
  it('runs the job once, writes its output and done marker, and does not run it again', async () => {
    const workspace = join(dir, 'workspace');
    const first = await runBaton(['run-experiment', 'hello.yaml', '--workdir', workspace], { cwd: dir });
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('1 done');

    const [jobHash, ...others] = await readdir(join(workspace, 'jobs', 'greet'));
    expect(others).toEqual([]);
    const jobDir = join(workspace, 'jobs', 'greet', jobHash!);
    expect(await readFile(join(jobDir, 'stdout'), 'utf8')).toBe('hello world\n');
    expect(existsSync(join(jobDir, 'done'))).toBe(true);

    const second = await runBaton(['run-experiment', 'hello.yaml', '--workdir', workspace], { cwd: dir });
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('1 done');
    // Run twice, the job would have appended its output again.
    expect(await readFile(join(jobDir, 'stdout'), 'utf8')).toBe('hello world\n');

    const listed = await runBaton(['jobs', 'list', '--workdir', workspace, '--experiment', 'hello', '--json'], { cwd: dir });
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout)).toMatchObject([{ taskId: 'greet', hash: jobHash, state: 'done', experiments: ['hello'] }]);
  });

  it('prints one line per job in dry-run mode and runs nothing', async () => {
    const workspace = join(dir, 'workspace');
    const result = await runBaton(['run-experiment', 'hello.yaml', '--workdir', workspace, '--run-mode', 'dry-run'], { cwd: dir });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/would run\s+\S+\/jobs\/greet\/[0-9a-f]+\s+\[local\]/);
    expect(existsSync(join(workspace, 'jobs', 'greet'))).toBe(false);
  });

  it('exits 1 and names the failed job, its reason and its stderr file', async () => {
    await writeFile(join(dir, 'failing.ts'), [
      "import { z } from 'zod';",
      "import { defineExperiment, defineTask } from '@baton/core';",
      "export const boom = defineTask({ id: 'boom', params: z.object({}), command: () => ['sh', '-c', 'echo broken >&2; exit 3'] });",
      'export default defineExperiment({ run({ xp }) { xp.submit(boom, {}); } });',
      '',
    ].join('\n'));
    const result = await runBaton(['run-experiment', '--file', 'failing.ts', '-c', 'id=failing', '--workdir', join(dir, 'workspace')], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('1 job failed');
    expect(result.stdout).toMatch(/boom\/[0-9a-f]{12}\s+failed \(exit 3\)/);
    expect(result.stdout).toMatch(/stderr: \S+\/jobs\/boom\/[0-9a-f]+\/stderr/);
  });
});
