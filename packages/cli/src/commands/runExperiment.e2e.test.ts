// Runs a real experiment through `baton run-experiment`, with the real local launcher.
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

beforeEach(async () => {
  dir = await createUserProject('baton-cli-e2e-');
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
    expect(first.stdout).not.toContain('already done');

    const [jobHash, ...others] = await readdir(join(workspace, 'jobs', 'greet'));
    expect(others).toEqual([]);
    const jobDir = join(workspace, 'jobs', 'greet', jobHash!);
    expect(await readFile(join(jobDir, 'stdout'), 'utf8')).toBe('hello world\n');
    expect(existsSync(join(jobDir, 'done'))).toBe(true);

    const second = await runBaton(['run-experiment', 'hello.yaml', '--workdir', workspace], { cwd: dir });
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('1 done');
    expect(second.stdout).toContain('It was already done: nothing ran again.');
    // Run twice, the job would have appended its output again.
    expect(await readFile(join(jobDir, 'stdout'), 'utf8')).toBe('hello world\n');

    const listed = await runBaton(['jobs', 'list', '--workdir', workspace, '--experiment', 'hello', '--json'], { cwd: dir });
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout)).toMatchObject([{ taskId: 'greet', hash: jobHash, state: 'done', experiments: ['hello'] }]);
  });

  it('works with no settings file at all: the default workspace and the local launcher', async () => {
    // runBaton sets HOME to the project folder and clears BATON_WORKSPACE: the default is ~/baton-workspace.
    const result = await runBaton(['run-experiment', 'hello.yaml'], { cwd: dir });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const [jobHash] = await readdir(join(dir, 'baton-workspace', 'jobs', 'greet'));
    const handle = JSON.parse(await readFile(join(dir, 'baton-workspace', 'jobs', 'greet', jobHash!, 'process.json'), 'utf8'));
    expect(handle).toMatchObject({ launcher: 'local', kind: 'local' });
  });

  it('passes --env NAME VALUE to the jobs', async () => {
    await writeFile(join(dir, 'env.ts'), [
      "import { z } from 'zod';",
      "import { defineExperiment, defineTask } from '@baton/core';",
      "export const show = defineTask({ id: 'show', params: z.object({}), command: () => ['sh', '-c', 'echo \"$GREETING\"'] });",
      'export default defineExperiment({ run({ xp }) { xp.submit(show, {}); } });',
      '',
    ].join('\n'));
    const workspace = join(dir, 'workspace');
    const result = await runBaton(['run-experiment', '--file', 'env', '-c', 'id=env', '--env', 'GREETING', 'hi there', '--workdir', workspace], { cwd: dir });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const [hash] = await readdir(join(workspace, 'jobs', 'show'));
    expect(await readFile(join(workspace, 'jobs', 'show', hash!, 'stdout'), 'utf8')).toBe('hi there\n');
  });

  it('on Ctrl-C stops, leaves running jobs alive and says how to kill them', async () => {
    await writeFile(join(dir, 'slow.ts'), [
      "import { z } from 'zod';",
      "import { defineExperiment, defineTask } from '@baton/core';",
      "export const nap = defineTask({ id: 'nap', params: z.object({}), command: () => ['sleep', '60'] });",
      'export default defineExperiment({ run({ xp }) { xp.submit(nap, {}); } });',
      '',
    ].join('\n'));
    const workspace = join(dir, 'workspace');
    const child = spawn(process.execPath, [BATON_BIN, 'run-experiment', '--file', 'slow.ts', '-c', 'id=slow', '--workdir', workspace], {
      cwd: dir,
      env: { ...process.env, HOME: dir, XDG_CONFIG_HOME: dir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
    const processFile = async () => {
      const [hash] = await readdir(join(workspace, 'jobs', 'nap')).catch(() => []);
      return hash && (await readLaunchRecord(join(workspace, 'jobs', 'nap', hash))) ? join(workspace, 'jobs', 'nap', hash) : undefined;
    };
    let jobDir: string | undefined;
    for (let tries = 0; tries < 200 && !jobDir; tries++) {
      await sleep(50);
      jobDir = await processFile();
    }
    expect(jobDir).toBeDefined();
    await sleep(300);
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(stdout).toContain(`baton jobs kill ${jobDir}`);
    const pid = JSON.parse(await readFile(join(jobDir!, 'process.json'), 'utf8')).pid as number;
    try {
      // Still running after the experiment stopped; then stop it for real.
      expect(() => process.kill(pid, 0)).not.toThrow();
      const killed = await runBaton(['jobs', 'kill', jobDir!], { cwd: dir });
      expect(killed.code).toBe(0);
      expect(JSON.parse(await readFile(join(jobDir!, 'failed'), 'utf8'))).toMatchObject({ reason: 'cancelled' });
    } finally {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
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
