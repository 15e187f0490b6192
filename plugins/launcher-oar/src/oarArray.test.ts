// The commands OAR runs, run by a real sh: OAR appends line N of the parameter file
// to an array's command, and runs the result as a shell command line.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { arrayParamFile, jobCommand } from './oarArray.ts';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "baton oar array 'quoted' "));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Job scripts that print which one ran, in which process, with how many arguments, and exit with their index. */
async function scripts(names: string[]): Promise<string[]> {
  return Promise.all(
    names.map(async (name, index) => {
      const path = join(root, name);
      await writeFile(path, `echo "ran ${index} pid $$ args $#"\nexit ${index}\n`);
      return path;
    }),
  );
}

/** Runs a command line as OAR would, through sh -c, printing the shell's pid first. */
function runAsOar(command: string) {
  const run = spawnSync('/bin/sh', ['-c', `echo $$; ${command}`], { cwd: root, encoding: 'utf8' });
  const [shellPid, output] = run.stdout.split('\n');
  return { status: run.status, shellPid, output, stderr: run.stderr };
}

const AWKWARD_NAMES = ['job.sh', 'job with spaces.sh', "it's job.sh", 'job $(touch pwned) `x` "y".sh', 'job; exit 99 #.sh'];

describe('jobCommand', () => {
  it("runs a lone job's job.sh, whatever its path, as the job's own process", async () => {
    const paths = await scripts(AWKWARD_NAMES);
    for (const [index, path] of paths.entries()) {
      const run = runAsOar(jobCommand(path));
      expect(run.status, path).toBe(index);
      // exec: job.sh replaces the shell, so OAR's signals reach it.
      expect(run.output).toBe(`ran ${index} pid ${run.shellPid} args 0`);
    }
    // No word of a path ran as a command.
    expect(existsSync(join(root, 'pwned'))).toBe(false);
  });
});

describe('arrayParamFile', () => {
  it('holds, on line N, the job.sh of array task N, which the array command then runs', async () => {
    const paths = await scripts(AWKWARD_NAMES);
    const lines = arrayParamFile(paths).split('\n');
    expect(lines).toHaveLength(paths.length + 1);
    expect(lines.at(-1)).toBe('');
    for (const [index] of paths.entries()) {
      // OAR: the array's command, a space, the task's line.
      const run = runAsOar(`${jobCommand()} ${lines[index]}`);
      expect(run.status, lines[index]).toBe(index);
      expect(run.output).toBe(`ran ${index} pid ${run.shellPid} args 0`);
    }
    expect(existsSync(join(root, 'pwned'))).toBe(false);
  });

  it('never starts a line as OAR reads a comment or skips a blank', () => {
    for (const line of arrayParamFile(['/ws/a.sh', '#odd.sh', ' lead.sh', '']).split('\n').slice(0, 4)) {
      expect(line.trim()).not.toBe('');
      expect(line).not.toMatch(/^\s*#/);
    }
  });

  it('refuses a path with a line break, which a parameter file cannot hold', () => {
    expect(() => arrayParamFile(['/ws/a/job.sh', '/ws/b\n/job.sh'])).toThrow(/line break.*"\/ws\/b\\n\/job.sh"/);
    expect(() => arrayParamFile(['/ws/c\r/job.sh'])).toThrow(/line break/);
  });
});
