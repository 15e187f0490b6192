// A workspace on a full disk: the cause is said once, and the summary does not bury it under one
// entry per failed job. Needs a small tmpfs, so root (skipped otherwise).
import { execFileSync } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runBaton } from '../testing/runBaton.ts';
import { createUserProject } from '../testing/userProject.ts';

const canMount = process.platform === 'linux' && process.getuid?.() === 0;
let dir: string;
let mounted = false;

beforeEach(async () => {
  dir = await createUserProject('baton-cli-full-');
  await mkdir(join(dir, 'disk'));
});

afterEach(async () => {
  if (mounted) execFileSync('umount', [join(dir, 'disk')]);
  mounted = false;
  await rm(dir, { recursive: true, force: true });
});

describe('disk full', () => {
  it.skipIf(!canMount)('says the cause once and groups the jobs it failed', async () => {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=600k', 'tmpfs', join(dir, 'disk')]);
    mounted = true;
    await writeFile(
      join(dir, 'fill.ts'),
      [
        "import { z } from 'zod';",
        "import { defineExperiment, defineTask } from '@baton/core';",
        "export const fill = defineTask({ id: 'fill', params: z.object({ i: z.number(), pad: z.string() }), command: () => ['true'] });",
        "export default defineExperiment({ run({ xp }) { for (let i = 0; i < 150; i++) xp.submit(fill, { i, pad: 'x'.repeat(2000) }); } });",
        '',
      ].join('\n'),
    );
    const workspace = join(dir, 'disk', 'ws');
    const result = await runBaton(['run-experiment', '--file', 'fill.ts', '-c', 'id=fill', '--workdir', workspace], { cwd: dir });
    expect(result.code, result.stderr).toBe(1);
    const failed = Number(/^(\d+) jobs failed:$/m.exec(result.stdout)?.[1]);
    expect(failed, result.stdout).toBeGreaterThan(10);
    // An entry per cause (the same disk may fail a write or a mkdir), with its count, a few jobs and how to list the rest.
    const groups = [...result.stdout.matchAll(/^ {2}(\d+) jobs: .*no space left on device.*$/gm)];
    expect(groups.length, result.stdout).toBeGreaterThanOrEqual(1);
    expect(groups.reduce((sum, group) => sum + Number(group[1]), 0)).toBe(failed);
    expect(result.stdout.split('\n').filter((line) => line.includes('stderr: ')).length).toBeLessThanOrEqual(3 * groups.length);
    expect(result.stdout.split('\n').filter((line) => line.startsWith('x ')).length).toBeLessThanOrEqual(4 * groups.length);
    // The cause on stderr at most once, never one line per job, never a stack.
    expect(result.stderr.split('\n').filter((line) => /no space left on device/i.test(line)).length, result.stderr).toBeLessThanOrEqual(1);
    expect(result.stderr).not.toMatch(/^\s+at /m);
  });
});
