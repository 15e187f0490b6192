// `baton jobs list` and `baton jobs kill` on jobs that run in threads of another
// experiment process (the `threads` launcher), in a workspace whose settings do not
// declare that launcher: two real processes, the experiment and `baton`.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runBaton } from '../testing/runBaton.ts';

// An experiment process running `slow` (a minute) and `later` (until a file exists) on a threads launcher.
const EXPERIMENT = new URL('../../../../plugins/launcher-local/src/__fixtures__/threadsExperiment.ts', import.meta.url).pathname;

let root: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'baton-kill-threads-'));
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Starts the experiment process; resolves once both jobs run, with their directories. */
async function startExperiment() {
  const log = join(root, 'log');
  const release = join(root, 'release');
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@baton/source', EXPERIMENT, root, log, release], { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  await expect.poll(async () => (await readFile(log, 'utf8').catch(() => '')).match(/^start /gm)?.length ?? 0, { timeout: 30_000 }).toBe(2);
  const directories = JSON.parse(output.split('\n')[0]!) as { slow: string; later: string };
  return { child, exited, directories, release, output: () => output };
}

async function listStates(): Promise<Record<string, { state: string; detail?: string; reason?: string }>> {
  const result = await runBaton(['jobs', 'list', '--json', '--workdir', join(root, 'ws')], { cwd: root });
  expect(result.stderr).toBe('');
  const jobs = JSON.parse(result.stdout) as { directory: string; state: string; detail?: string; failure?: { reason: string } }[];
  return Object.fromEntries(jobs.map((job) => [job.directory, { state: job.state, detail: job.detail, reason: job.failure?.reason }]));
}

describe('baton jobs kill / list, jobs in threads of another experiment process', () => {
  it('kills one: the experiment process terminates its thread, marks it cancelled and goes on', { timeout: 90_000 }, async () => {
    const { child, exited, directories, release, output } = await startExperiment();
    try {
      expect((await listStates())[directories.slow]).toEqual({ state: 'running', detail: `in a thread of process ${child.pid}` });
      const kill = await runBaton(['jobs', 'kill', directories.slow], { cwd: root });
      expect(kill.stderr).toBe('');
      expect(kill.code).toBe(0);
      expect(kill.stdout).toContain(`: killed (its thread in experiment process ${child.pid} was terminated; the experiment goes on)`);
      expect(JSON.parse(await readFile(join(directories.slow, 'failed'), 'utf8'))).toMatchObject({ reason: 'cancelled', code: null });
      expect(existsSync(join(directories.slow, 'cancel-request'))).toBe(false);
      const states = await listStates();
      expect(states[directories.slow]).toMatchObject({ state: 'failed', reason: 'cancelled' });
      expect(states[directories.later]).toMatchObject({ state: 'running' });
      await writeFile(release, '');
      expect(await exited).toBe(0);
      expect(JSON.parse(output().trim().split('\n').pop()!)).toEqual({ slow: ['failed', 'cancelled'], later: ['done'] });
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('lists them as interrupted once their process is gone (not queued), and kill says there is nothing to kill', { timeout: 90_000 }, async () => {
    const { child, exited, directories } = await startExperiment();
    child.kill('SIGKILL');
    await exited;
    const states = await listStates();
    const interrupted = { state: 'incomplete', detail: `interrupted: its experiment process ${child.pid} ended; it runs again on resume` };
    expect(states[directories.slow]).toEqual(interrupted);
    expect(states[directories.later]).toEqual(interrupted);
    const kill = await runBaton(['jobs', 'kill', directories.slow], { cwd: root });
    expect(kill.code).toBe(0);
    expect(kill.stdout).toContain(`: experiment process ${child.pid} has ended, the job with it; nothing to kill (it runs again when its experiment resumes)`);
    expect(existsSync(join(directories.slow, 'failed'))).toBe(false);
  });
});
