// Interrupting `baton run-experiment` never passes for success: SIGINT, SIGTERM and SIGHUP exit
// 130, 143 and 129 with what still runs (and how to stop it) and what was not started, also when
// a job still waits on a dependency; a run that can never settle does not exit 0 either.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BATON_BIN, runBaton } from '../testing/runBaton.ts';
import { readLaunchRecord } from '../testing/launchRecord.ts';
import { createUserProject } from '../testing/userProject.ts';

let dir: string;
const pids: number[] = [];

beforeEach(async () => {
  dir = await createUserProject('baton-cli-interrupt-');
  await writeFile(
    join(dir, 'chain.ts'),
    [
      "import { z } from 'zod';",
      "import { defineExperiment, defineTask } from '@baton/core';",
      "export const nap = defineTask({ id: 'nap', params: z.object({}), command: () => ['sleep', '60'] });",
      "export const after = defineTask({ id: 'after', params: z.object({ dir: z.string() }), command: (p) => ['echo', p.dir] });",
      // `after` waits on `nap`, which outlives the test: interrupted, one job runs and one never started.
      'export default defineExperiment({ run({ xp }) { const first = xp.submit(nap, {}); xp.submit(after, { dir: first.output }); } });',
      '',
    ].join('\n'),
  );
});

afterEach(async () => {
  for (const pid of pids.splice(0)) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await rm(dir, { recursive: true, force: true });
});

describe('interrupting run-experiment', () => {
  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ] as const)('%s while a job runs and another waits on it: exit %d, what runs and how to kill it, what was not started', async (signal, code) => {
    const workspace = join(dir, 'workspace');
    const child = spawn(process.execPath, [BATON_BIN, 'run-experiment', '--file', 'chain.ts', '-c', 'id=chain', '--workdir', workspace], {
      cwd: dir,
      env: { ...process.env, HOME: dir, XDG_CONFIG_HOME: dir, BATON_WORKSPACE: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('close', resolve));

    const napDir = await waitForLaunch(join(workspace, 'jobs', 'nap'));
    pids.push(JSON.parse(await readFile(join(napDir, 'process.json'), 'utf8')).pid as number);
    await sleep(300);
    child.kill(signal);
    const exitCode = await Promise.race([exited, sleep(20_000).then(() => 'still running after 20 s')]);
    if (typeof exitCode === 'string') child.kill('SIGKILL');

    expect(exitCode, `${stdout}\n${stderr}`).toBe(code);
    expect(stdout).toMatch(new RegExp(`^Stopped by ${signal}: 2 jobs`, 'm'));
    expect(stdout).toContain('1 job is still running or queued');
    expect(stdout).toContain(`baton jobs kill ${napDir}`);
    expect(stdout).toContain('1 job was not started');
    // Stopped as asked, not stranded: the waiting job settles on stop.
    expect(stderr).not.toMatch(/internal error|never finished/);
    expect(stderr).not.toMatch(/^\s+at /m);
  });

  it('SIGINT while the run function still submits: exit 130 with the summary, not the error of a refused submit', async () => {
    await writeFile(
      join(dir, 'loop.ts'),
      [
        "import { z } from 'zod';",
        "import { setTimeout as sleep } from 'node:timers/promises';",
        "import { defineExperiment, defineTask } from '@baton/core';",
        "export const nap = defineTask({ id: 'nap', params: z.object({ i: z.number() }), command: () => ['sleep', '60'] });",
        'export default defineExperiment({ async run({ xp }) { for (let i = 0; i < 1000; i++) { xp.submit(nap, { i }); await sleep(100); } } });',
        '',
      ].join('\n'),
    );
    const workspace = join(dir, 'workspace');
    const child = spawn(process.execPath, [BATON_BIN, 'run-experiment', '--file', 'loop.ts', '-c', 'id=loop', '--workdir', workspace], {
      cwd: dir,
      env: { ...process.env, HOME: dir, XDG_CONFIG_HOME: dir, BATON_WORKSPACE: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
    await waitForLaunch(join(workspace, 'jobs', 'nap'));
    child.kill('SIGINT');
    const exitCode = await Promise.race([exited, sleep(20_000).then(() => 'still running after 20 s')]);
    if (typeof exitCode === 'string') child.kill('SIGKILL');
    for (const hash of await readdir(join(workspace, 'jobs', 'nap'))) {
      const processFile = join(workspace, 'jobs', 'nap', hash, 'process.json');
      if (existsSync(processFile)) pids.push(JSON.parse(await readFile(processFile, 'utf8')).pid as number);
    }

    expect(exitCode, `${stdout}\n${stderr}`).toBe(130);
    expect(stdout).toMatch(/^Stopped by SIGINT: \d+ jobs? /m);
    expect(stdout).toContain('baton jobs kill ');
    expect(stderr).toMatch(/The run function ended early: /);
    expect(stderr).not.toMatch(/fix: /);
  });

  it('a run that can never settle exits non-zero and says why, never 0 in silence', async () => {
    await writeFile(
      join(dir, 'stuck.ts'),
      [
        "import { z } from 'zod';",
        "import { defineExperiment, defineTask } from '@baton/core';",
        "export const hello = defineTask({ id: 'hello', params: z.object({}), command: () => ['true'] });",
        // Awaits a promise nothing can ever settle: Node's event loop drains.
        'export default defineExperiment({ async run({ xp }) { await xp.submit(hello, {}).wait(); await new Promise(() => {}); } });',
        '',
      ].join('\n'),
    );
    const result = await runBaton(['run-experiment', '--file', 'stuck.ts', '-c', 'id=stuck', '--workdir', join(dir, 'workspace')], { cwd: dir });
    expect(result.code, result.stdout).toBe(1);
    expect(result.stderr).toMatch(/run function of \S*stuck\.ts never finished/);
    expect(result.stdout).toMatch(/1 job \(1 done\)/);
  });
});

/** The job directory once its process.json is written (the job was launched). */
async function waitForLaunch(taskDir: string): Promise<string> {
  for (let tries = 0; tries < 300; tries++) {
    const [hash] = await readdir(taskDir).catch(() => []);
    if (hash && (await readLaunchRecord(join(taskDir, hash)))) return join(taskDir, hash);
    await sleep(50);
  }
  throw new Error(`no job was launched under ${taskDir}`);
}
