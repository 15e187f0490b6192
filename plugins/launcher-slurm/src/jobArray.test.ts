// The array script run by a real sh, as SLURM would run it for each task.
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { arrayListFile, arrayScript } from './jobArray.ts';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "baton slurm array 'quoted' "));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('job array script', () => {
  it('runs the job.sh on line SLURM_ARRAY_TASK_ID of the list, as the batch shell itself', async () => {
    const scripts = await Promise.all(
      [0, 1, 2].map(async (index) => {
        const path = join(root, `job ${index}.sh`);
        await writeFile(path, `echo "task ${index} pid $$ args $#"\nread line && echo "stdin: $line"\nexit ${index}\n`);
        return path;
      }),
    );
    const listPath = join(root, 'jobs.list');
    await writeFile(listPath, arrayListFile(scripts));
    const scriptPath = join(root, 'array.sh');
    await writeFile(scriptPath, arrayScript({ listPath }));
    for (const index of [0, 2]) {
      const run = spawnSync('/bin/sh', ['-c', `echo $$; exec /bin/sh "$0"`, scriptPath], {
        env: { ...process.env, SLURM_ARRAY_TASK_ID: String(index) },
        encoding: 'utf8',
      });
      const [shellPid, output] = run.stdout.split('\n');
      expect(run.status).toBe(index);
      // exec: the job runs in the batch shell's own process, with no stdin from the list.
      expect(output).toBe(`task ${index} pid ${shellPid} args 0`);
      expect(run.stdout).not.toContain('stdin:');
    }
    const missing = spawnSync('/bin/sh', [scriptPath], { env: { ...process.env, SLURM_ARRAY_TASK_ID: '3' }, encoding: 'utf8' });
    expect(missing.status).toBe(120);
    expect(missing.stderr).toContain('no line 3');
  });

  it('refuses a path that a list file cannot hold', () => {
    expect(() => arrayListFile(['/a/job.sh', '/b\n/job.sh'])).toThrow(/line break/);
  });
});
