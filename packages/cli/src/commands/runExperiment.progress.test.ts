// Progress of `baton run-experiment` off a terminal (here a pipe): plain lines at an interval and
// at once on news, counting every submitted job from the start, waiting ones included.
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runBaton } from '../testing/runBaton.ts';
import { createUserProject } from '../testing/userProject.ts';

let dir: string;

beforeEach(async () => {
  dir = await createUserProject('baton-cli-progress-');
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** `14:05:09 name: ...` lines. */
function progressLines(stdout: string, name: string): string[] {
  return stdout.split('\n').filter((line) => new RegExp(`^\\d\\d:\\d\\d:\\d\\d ${name}: `).test(line));
}

describe('progress off a terminal', () => {
  it('prints a plain line at each interval, counting the job that waits on another from the start', async () => {
    await writeFile(
      join(dir, 'chain.ts'),
      [
        "import { z } from 'zod';",
        "import { defineExperiment, defineTask } from '@baton/core';",
        "export const nap = defineTask({ id: 'nap', params: z.object({}), command: () => ['sleep', '2'] });",
        "export const after = defineTask({ id: 'after', params: z.object({ dir: z.string() }), command: (p) => ['echo', p.dir] });",
        'export default defineExperiment({ run({ xp }) { const first = xp.submit(nap, {}); xp.submit(after, { dir: first.output }); } });',
        '',
      ].join('\n'),
    );
    const result = await runBaton(['run-experiment', '--file', 'chain.ts', '-c', 'id=chain', '--workdir', join(dir, 'workspace')], {
      cwd: dir,
      env: { BATON_PROGRESS_INTERVAL: '0.25' },
    });
    expect(result.code, result.stderr).toBe(0);
    const lines = progressLines(result.stdout, 'chain');
    expect(lines.length, result.stdout).toBeGreaterThanOrEqual(3);
    expect(lines.some((line) => /2 jobs {2}running 1 \| waiting 1 {2}\d/.test(line)), result.stdout).toBe(true);
    // The total never grows: the waiting job counts from its submission.
    for (const line of lines) expect(line).toContain('chain: 2 jobs ');
    expect(result.stdout).toMatch(/^Finished: 2 jobs \(2 done\)/m);
  });

  it('prints a line at once when a job fails, long before the next interval', async () => {
    await writeFile(
      join(dir, 'failing.ts'),
      [
        "import { z } from 'zod';",
        "import { defineExperiment, defineTask } from '@baton/core';",
        "export const boom = defineTask({ id: 'boom', params: z.object({}), command: () => ['sh', '-c', 'exit 3'] });",
        "export const nap = defineTask({ id: 'nap', params: z.object({}), command: () => ['sleep', '2'] });",
        'export default defineExperiment({ run({ xp }) { xp.submit(boom, {}); xp.submit(nap, {}); } });',
        '',
      ].join('\n'),
    );
    // The default interval (10 s) is longer than the whole run.
    const result = await runBaton(['run-experiment', '--file', 'failing.ts', '-c', 'id=failing', '--workdir', join(dir, 'workspace')], { cwd: dir });
    expect(result.code, result.stderr).toBe(1);
    // A pipe: ASCII (a terminal gets ✗).
    expect(result.stdout).toMatch(/^x boom\/[0-9a-f]{12} failed \(exit 3\)/m);
    const lines = progressLines(result.stdout, 'failing');
    expect(lines, result.stdout).toHaveLength(1);
    expect(lines[0]).toMatch(/failing: 2 jobs {2}.*failed 1 {2}/);
  });
});
