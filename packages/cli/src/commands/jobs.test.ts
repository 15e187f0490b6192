import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { appendFile, mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BATON_BIN, runBaton } from '../testing/runBaton.ts';

let dir: string;
let workspace: string;
const groups: number[] = [];

const DONE = 'a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90';
const FAILED = 'b1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90';
const RUNNING = 'c1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90';

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'baton-cli-jobs-'));
  workspace = join(dir, 'workspace');
});

afterEach(async () => {
  for (const pid of groups.splice(0)) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await rm(dir, { recursive: true, force: true });
});

async function makeJob(options: { taskId: string; hash: string; stdout?: string; stderr?: string; marker?: 'done' | 'failed'; pid?: number }): Promise<string> {
  const directory = join(workspace, 'jobs', options.taskId, options.hash);
  await mkdir(directory, { recursive: true });
  await writeFile(join(directory, 'params.json'), JSON.stringify({ taskId: options.taskId, params: {}, dependencies: [] }));
  await writeFile(join(directory, 'stdout'), options.stdout ?? '');
  await writeFile(join(directory, 'stderr'), options.stderr ?? '');
  if (options.marker === 'done') await writeFile(join(directory, 'done'), '');
  if (options.marker === 'failed') await writeFile(join(directory, 'failed'), JSON.stringify({ code: 1, reason: 'failed', message: 'exit 1' }));
  if (options.pid !== undefined) {
    const handle = { launcher: 'local', kind: 'local', host: hostname(), directory, pid: options.pid, submittedAt: new Date().toISOString() };
    await writeFile(join(directory, 'process.json'), JSON.stringify(handle));
  }
  return directory;
}

/** A detached process group running `sleep`, its command line naming the job script like a real job. */
async function startSleeper(directory: string): Promise<number> {
  await mkdir(directory, { recursive: true });
  const child = spawn('sh', ['-c', 'sleep 100; true', join(directory, 'job.sh')], { detached: true, stdio: 'ignore' });
  await new Promise((resolve) => child.once('spawn', resolve));
  child.unref();
  groups.push(child.pid!);
  return child.pid!;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie (exited, not yet reaped by this test process) is gone all the same.
  const stat = existsSync(`/proc/${pid}/stat`) ? readFileSync(`/proc/${pid}/stat`, 'utf8') : '';
  return !/^\d+ \(.*\) Z/.test(stat);
}

async function makeWorkspace(): Promise<Record<'done' | 'failed' | 'running', string>> {
  const done = await makeJob({ taskId: 'train', hash: DONE, stdout: 'epoch 1\nepoch 2\n', stderr: 'a warning\n', marker: 'done' });
  const failed = await makeJob({ taskId: 'train', hash: FAILED, marker: 'failed' });
  const runningDir = join(workspace, 'jobs', 'evaluate', RUNNING);
  const running = await makeJob({ taskId: 'evaluate', hash: RUNNING, pid: await startSleeper(runningDir) });
  const links = join(workspace, 'experiments', 'mnist', 'run-1', 'jobs');
  await mkdir(links, { recursive: true });
  await symlink(done, join(links, `train--${DONE}`));
  return { done, failed, running };
}

describe('baton jobs list', () => {
  it('prints a table of jobs with their state, experiment, duration, launcher and host; --wide adds the directory', async () => {
    const dirs = await makeWorkspace();
    const result = await runBaton(['jobs', 'list', '--workdir', workspace], { cwd: dir });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^JOB\s+STATE\s+EXPERIMENT\s+DURATION\s+LAUNCHER\s+HOST\s+DETAIL$/);
    // Markers of an earlier version (an empty done, a failed without provenance): no duration, no host.
    expect(lines.slice(1).map((line) => line.trim().split(/\s+/))).toEqual([
      [`evaluate/${RUNNING.slice(0, 12)}`, 'running', '-', '-', 'local', hostname()],
      [`train/${DONE.slice(0, 12)}`, 'done', 'mnist', '-', '-', '-'],
      [`train/${FAILED.slice(0, 12)}`, 'failed', '-', '-', '-', '-', 'failed', '(exit', '1):', 'exit', '1'],
    ]);
    expect(result.stdout).not.toContain(workspace);

    const wide = await runBaton(['jobs', 'list', '--workdir', workspace, '--wide'], { cwd: dir });
    const wideLines = wide.stdout.trim().split('\n');
    expect(wideLines[0]).toMatch(/^JOB\s+STATE\s+EXPERIMENT\s+DURATION\s+LAUNCHER\s+HOST\s+DIRECTORY\s+DETAIL$/);
    expect(wideLines.slice(1).map((line) => line.trim().split(/\s+/)[6])).toEqual([dirs.running, dirs.done, dirs.failed]);
  });

  it("shows each job's duration and host from its marker, and --json carries start, end, host and exit code", async () => {
    const dirs = await makeWorkspace();
    await writeFile(join(dirs.done, 'done'), '{"code":0,"start":1796135000,"end":1796135185.5,"host":"node7"}\n');
    await writeFile(join(dirs.failed, 'failed'), '{"code":3,"reason":"failed","message":"exited with code 3","start":1796135000,"end":1796135002.25,"host":"node8"}\n');
    const table = await runBaton(['jobs', 'list', '--workdir', workspace, '--task', 'train'], { cwd: dir });
    expect(table.stdout.trim().split('\n').slice(1).map((line) => line.trim().split(/\s+/).slice(0, 6))).toEqual([
      [`train/${DONE.slice(0, 12)}`, 'done', 'mnist', '3m05s', '-', 'node7'],
      [`train/${FAILED.slice(0, 12)}`, 'failed', '-', '2.3s', '-', 'node8'],
    ]);
    const json = await runBaton(['jobs', 'list', '--workdir', workspace, '--task', 'train', '--json'], { cwd: dir });
    expect(JSON.parse(json.stdout)).toMatchObject([
      {
        state: 'done',
        provenance: { startedAt: '2026-12-01T14:23:20.000Z', endedAt: '2026-12-01T14:26:25.500Z', durationSeconds: 185.5, host: 'node7', exitCode: 0 },
      },
      { state: 'failed', failure: { code: 3 }, provenance: { durationSeconds: 2.25, host: 'node8', exitCode: 3 } },
    ]);
  });

  it('filters and prints JSON', async () => {
    const dirs = await makeWorkspace();
    const byExperiment = await runBaton(['jobs', 'list', '--workdir', workspace, '--experiment', 'mnist', '--json'], { cwd: dir });
    expect(JSON.parse(byExperiment.stdout)).toMatchObject([{ directory: dirs.done, state: 'done', experiments: ['mnist'] }]);
    const byState = await runBaton(['jobs', 'list', '--workdir', workspace, '--state', 'failed', '--json'], { cwd: dir });
    expect(JSON.parse(byState.stdout).map((job: { directory: string }) => job.directory)).toEqual([dirs.failed]);
    const byTask = await runBaton(['jobs', 'list', '--workdir', workspace, '--task', 'evaluate', '--json'], { cwd: dir });
    expect(JSON.parse(byTask.stdout)).toMatchObject([{ taskId: 'evaluate', state: 'running' }]);
  });

  it('says when a filter names an experiment or a task the workspace does not have, and what it may have meant', async () => {
    await makeWorkspace();
    const typos = await runBaton(['jobs', 'list', '--workdir', workspace, '--experiment', 'mnsit', '--task', 'evalute'], { cwd: dir });
    expect(typos.code).toBe(0);
    expect(typos.stdout).toBe(
      [
        'No jobs.',
        'No experiment "mnsit" has run in this workspace; did you mean "mnist"? Experiments run here: mnist.',
        'No job of task "evalute" is in this workspace; did you mean "evaluate"? Tasks with jobs here: evaluate, train.',
        '',
      ].join('\n'),
    );
    const far = await runBaton(['jobs', 'list', '--workdir', workspace, '--experiment', 'cifar'], { cwd: dir });
    expect(far.stdout).toBe('No jobs.\nNo experiment "cifar" has run in this workspace. Experiments run here: mnist.\n');
    // Names that exist, with no job in the state asked for: nothing more to say.
    const none = await runBaton(['jobs', 'list', '--workdir', workspace, '--experiment', 'mnist', '--state', 'queued'], { cwd: dir });
    expect(none.stdout).toBe('No jobs.\n');
    // JSON stays the list itself.
    const json = await runBaton(['jobs', 'list', '--workdir', workspace, '--experiment', 'mnsit', '--json'], { cwd: dir });
    expect(JSON.parse(json.stdout)).toEqual([]);
  });

  it('exits 2 on an unknown state or a missing workdir', async () => {
    expect((await runBaton(['jobs', 'list', '--workdir', workspace, '--state', 'sleeping'], { cwd: dir })).code).toBe(2);
    const missing = await runBaton(['jobs', 'list', '--workdir', join(dir, 'nope')], { cwd: dir });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(join(dir, 'nope'));
  });
});

describe('baton jobs log', () => {
  it("prints a job's stdout or stderr, found by hash prefix, task/prefix or directory", async () => {
    const dirs = await makeWorkspace();
    expect((await runBaton(['jobs', 'log', DONE.slice(0, 8), '--workdir', workspace], { cwd: dir })).stdout).toBe('epoch 1\nepoch 2\n');
    expect((await runBaton(['jobs', 'log', `train/${DONE.slice(0, 3)}`, '--stderr', '--workdir', workspace], { cwd: dir })).stdout).toBe('a warning\n');
    // A directory needs no workspace option.
    expect((await runBaton(['jobs', 'log', dirs.done], { cwd: dir })).stdout).toBe('epoch 1\nepoch 2\n');
  });

  it('exits 2 on an unknown or ambiguous job, naming the candidates', async () => {
    await makeWorkspace();
    const unknown = await runBaton(['jobs', 'log', 'ffffff', '--workdir', workspace], { cwd: dir });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('baton jobs list');
    const ambiguous = await runBaton(['jobs', 'log', 'train/', '--workdir', workspace], { cwd: dir });
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.stderr).toContain(`train/${DONE.slice(0, 12)}`);
    expect(ambiguous.stderr).toContain(`train/${FAILED.slice(0, 12)}`);
  });

  it('--follow prints appended output until the job has a marker', async () => {
    const directory = await makeJob({ taskId: 'train', hash: RUNNING, stdout: 'start\n' });
    const child = spawn(process.execPath, [BATON_BIN, 'jobs', 'log', directory, '--follow'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('close', resolve));

    await waitFor(() => stdout.includes('start\n'));
    await appendFile(join(directory, 'stdout'), 'middle\n');
    await waitFor(() => stdout.includes('middle\n'));
    await appendFile(join(directory, 'stdout'), 'end\n');
    await writeFile(join(directory, 'done'), '');

    expect(await exited).toBe(0);
    expect(stdout).toBe('start\nmiddle\nend\n');
  });
});

describe('baton jobs clean', () => {
  it('lists what it would remove, and removes it with --perform (never a running job)', async () => {
    const dirs = await makeWorkspace();
    const dry = await runBaton(['jobs', 'clean', '--workdir', workspace], { cwd: dir });
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(dirs.done);
    expect(dry.stdout).toContain(dirs.failed);
    expect(dry.stdout).toContain('--perform');
    expect(existsSync(dirs.done)).toBe(true);

    const failedOnly = await runBaton(['jobs', 'clean', '--workdir', workspace, '--state', 'failed', '--perform'], { cwd: dir });
    expect(failedOnly.stdout).toContain(dirs.failed);
    expect(existsSync(dirs.failed)).toBe(false);
    expect(existsSync(dirs.done)).toBe(true);

    await runBaton(['jobs', 'clean', '--workdir', workspace, '--perform'], { cwd: dir });
    expect(existsSync(dirs.done)).toBe(false);
    expect(await readdir(join(workspace, 'experiments', 'mnist', 'run-1', 'jobs'))).toEqual([]);
    expect(existsSync(dirs.running)).toBe(true);
  });
});

describe('baton jobs kill', () => {
  it('kills the process group of a running local job and marks it cancelled', async () => {
    const dirs = await makeWorkspace();
    const pid = JSON.parse(await readFile(join(dirs.running, 'process.json'), 'utf8')).pid as number;
    expect(isAlive(pid)).toBe(true);

    const result = await runBaton(['jobs', 'kill', `evaluate/${RUNNING.slice(0, 6)}`, DONE.slice(0, 6), '--workdir', workspace], { cwd: dir });

    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/evaluate\/c1b2c3d4e5f6 .*: killed/);
    expect(result.stdout).toMatch(/train\/a1b2c3d4e5f6 .*: already done, nothing to kill/);
    await waitFor(() => !isAlive(pid));
    expect(JSON.parse(await readFile(join(dirs.running, 'failed'), 'utf8'))).toMatchObject({ reason: 'cancelled' });
    expect(existsSync(join(dirs.done, 'failed'))).toBe(false);
  });

  it('with --experiment, kills every running or queued job of the runs of that experiment, and no other', async () => {
    const dirs = await makeWorkspace();
    await symlink(dirs.running, join(workspace, 'experiments', 'mnist', 'run-1', 'jobs', `evaluate--${RUNNING}`));
    const otherHash = 'd1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90';
    const otherDir = join(workspace, 'jobs', 'evaluate', otherHash);
    const other = await makeJob({ taskId: 'evaluate', hash: otherHash, pid: await startSleeper(otherDir) });
    const pidOf = async (directory: string) => JSON.parse(await readFile(join(directory, 'process.json'), 'utf8')).pid as number;

    const killedPid = await pidOf(dirs.running);
    const result = await runBaton(['jobs', 'kill', '--experiment', 'mnist', '--workdir', workspace], { cwd: dir });

    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout.trim().split('\n')).toEqual([`evaluate/${RUNNING.slice(0, 12)} (${dirs.running}): killed`]);
    await waitFor(() => !isAlive(killedPid));
    expect(JSON.parse(await readFile(join(dirs.running, 'failed'), 'utf8'))).toMatchObject({ reason: 'cancelled' });
    // Not of the experiment: untouched.
    expect(isAlive(await pidOf(other))).toBe(true);
    expect(existsSync(join(other, 'failed'))).toBe(false);
    // Nothing left to kill: said so, exit 0.
    const again = await runBaton(['jobs', 'kill', '--experiment', 'mnist', '--workdir', workspace], { cwd: dir });
    expect(again.code).toBe(0);
    expect(again.stdout).toBe('No running or queued jobs of experiment mnist: nothing to kill.\n');
    // A name the workspace does not know: the one it may have meant.
    const typo = await runBaton(['jobs', 'kill', '--experiment', 'mnsit', '--workdir', workspace], { cwd: dir });
    expect(typo.stdout).toContain('No running or queued jobs of experiment mnsit: nothing to kill.');
    expect(typo.stdout).toContain('mnist');
  });

  it('refuses to run without jobs or a selection, and with both', async () => {
    await makeWorkspace();
    const none = await runBaton(['jobs', 'kill', '--workdir', workspace], { cwd: dir });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('No jobs to kill');
    expect(none.stderr).toContain('--experiment <name>');
    const both = await runBaton(['jobs', 'kill', DONE.slice(0, 6), '--experiment', 'mnist', '--workdir', workspace], { cwd: dir });
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('not both');
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for a condition');
    await sleep(50);
  }
}
