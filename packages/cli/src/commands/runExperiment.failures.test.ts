// The summary of a run with a failed job: the end of its stderr and the command that prints
// all of it, in plain ASCII when the output is a pipe.
import { readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runBaton } from '../testing/runBaton.ts';
import { createUserProject } from '../testing/userProject.ts';

let dir: string;
let workspace: string;

beforeEach(async () => {
  dir = await createUserProject('baton-cli-failures-');
  workspace = join(dir, 'my workspace');
  await writeFile(
    join(dir, 'experiment.ts'),
    [
      "import { z } from 'zod';",
      "import { defineExperiment, defineTask } from '@baton/core';",
      '',
      '// 30 lines on stderr, then exit 3.',
      "export const noisy = defineTask({ id: 'noisy', params: z.object({}), command: () => ['sh', '-c', 'i=1; while [ $i -le 30 ]; do echo \"line $i\" >&2; i=$((i+1)); done; exit 3'] });",
      '',
      'export default defineExperiment({ run({ xp }) { xp.submit(noisy, {}); } });',
      '',
    ].join('\n'),
  );
  await writeFile(join(dir, 'noisy.yaml'), 'id: noisy\n');
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('baton run-experiment: the summary of failed jobs', () => {
  it("shows the last 10 lines of a failed job's stderr and the command that prints the rest", async () => {
    const result = await runBaton(['run-experiment', 'noisy.yaml', '--workdir', workspace], { cwd: dir });
    expect(result.code).toBe(1);
    const [hash] = await readdir(join(workspace, 'jobs', 'noisy'));
    const name = `noisy/${hash!.slice(0, 12)}`;
    const lines = result.stdout.split('\n');
    const first = lines.indexOf('    | line 21');
    expect(first).toBeGreaterThan(0);
    expect(lines.slice(first, first + 11)).toEqual([
      ...Array.from({ length: 10 }, (_, i) => `    | line ${21 + i}`),
      `    all of it: baton jobs log ${name} --stderr --workdir '${workspace}'`,
    ]);
    expect(result.stdout).not.toContain('line 20\n');
    expect(lines[first - 2]).toBe(`  ${name}  failed (exit 3): exited with code 3`);
    // A pipe: ASCII only, no escape codes (a terminal would get Unicode and colors).
    expect(result.stdout).toMatch(/^[\x20-\x7e\n]*$/);

    // The command it gives prints the whole stderr.
    const all = await runBaton(['jobs', 'log', name, '--stderr', '--workdir', workspace], { cwd: dir });
    expect(all.code).toBe(0);
    expect(all.stdout.trim().split('\n')).toEqual(Array.from({ length: 30 }, (_, i) => `line ${i + 1}`));
  });

  it('--stderr-lines sets how many lines (0: none)', async () => {
    const three = await runBaton(['run-experiment', 'noisy.yaml', '--workdir', workspace, '--stderr-lines', '3'], { cwd: dir });
    expect(three.code).toBe(1);
    expect(three.stdout.split('\n').filter((line) => line.startsWith('    | '))).toEqual(['    | line 28', '    | line 29', '    | line 30']);
    const none = await runBaton(['run-experiment', 'noisy.yaml', '--workdir', workspace, '--stderr-lines', '0'], { cwd: dir });
    expect(none.code).toBe(1);
    expect(none.stdout).not.toContain('| line');
    expect(none.stdout).toContain('stderr: ');
    const bad = await runBaton(['run-experiment', 'noisy.yaml', '--workdir', workspace, '--stderr-lines', 'ten'], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('expected a number of lines');
  });
});
