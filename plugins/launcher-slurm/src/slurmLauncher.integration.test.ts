// The SLURM launcher driven through real experiments against the real one-node
// cluster of `bash scripts/slurm-cluster.sh start`. Job directories live in
// temporary folders on this machine, which is also the cluster's only node.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { experiment, type Experiment, type Job } from '@baton/core';
import { countPolls } from '@baton/core/testing';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { chain, checkpointing, exitWith, sleeper } from './__fixtures__/slurmTasks.ts';
import type { SlurmLauncher } from './slurmLauncher.ts';

const repositoryRoot = fileURLToPath(new URL('../../../', import.meta.url));
const clusterScript = join(repositoryRoot, 'scripts', 'slurm-cluster.sh');
const driver = fileURLToPath(new URL('./__fixtures__/slurmDriver.ts', import.meta.url));
const batonBin = join(repositoryRoot, 'packages', 'cli', 'bin', 'baton.js');
const START_HINT = 'start it with: bash scripts/slurm-cluster.sh start';

const clusterUp = spawnSync('sinfo', ['-h'], { timeout: 15_000, stdio: 'ignore' }).status === 0;
const inCI = process.env.CI === 'true';
if (!clusterUp && !inCI) console.warn(`SLURM integration tests skipped: no SLURM cluster answers \`sinfo -h\`; ${START_HINT}`);

const roots: string[] = [];
const children: ChildProcess[] = [];

/** A temporary folder with a settings file declaring SLURM launchers; its workspace is `<root>/ws`. */
async function slurmProject(prefix = 'baton-slurm-it-'): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), prefix));
  roots.push(root);
  await writeFile(
    join(root, 'baton.config.yaml'),
    [
      'plugins: [slurm]',
      'workspaces:',
      '  - id: main',
      `    path: ${join(root, 'ws')}`,
      '    launcher: cluster',
      '    launchers:',
      '      cluster: { use: slurm, partition: debug, time: 10, pollInterval: 500, arrayLimit: 8 }',
      // --time=1: SLURM's time limit in one minute.
      '      tight: { use: slurm, partition: debug, time: 1, pollInterval: 1000 }',
      '      nope: { use: slurm, partition: nope }',
      '      short: { use: slurm, partition: short, time: 5m, pollInterval: 500 }',
      // Eligible in an hour: stays queued (pending reason BeginTime).
      "      later: { use: slurm, partition: debug, time: 10, pollInterval: 500, extraArgs: ['--begin=now+3600'] }",
      '',
    ].join('\n'),
  );
  return root;
}

async function open(name: string, prefix?: string): Promise<{ xp: Experiment; root: string }> {
  const root = await slurmProject(prefix);
  return { xp: await experiment({ name, cwd: root }), root };
}

function slurmLauncher(xp: Experiment, name = 'cluster'): SlurmLauncher {
  return xp.workspace.launchers.get(name) as SlurmLauncher;
}

async function processFile(job: Job): Promise<{ clusterId: string; kind: string; submittedAt: string }> {
  return processFileIn(job.directory);
}

/** The job's process.json: written by the scheduler once sbatch answered, so a fast job may have started before it. */
async function processFileIn(directory: string): Promise<{ clusterId: string; kind: string; submittedAt: string }> {
  const path = join(directory, 'process.json');
  await until(() => existsSync(path), 30_000, `${path} to be written`);
  return JSON.parse(await readFile(path, 'utf8'));
}

function cluster(...args: string[]): void {
  clusterWith({}, ...args);
}

function clusterWith(env: Record<string, string>, ...args: string[]): void {
  const run = spawnSync('bash', [clusterScript, ...args], { encoding: 'utf8', timeout: 300_000, env: { ...process.env, ...env } });
  if (run.status !== 0) throw new Error(`bash scripts/slurm-cluster.sh ${args.join(' ')} failed (${run.status}):\n${run.stdout}\n${run.stderr}`);
}

async function until(condition: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface ListedJob {
  directory: string;
  state: string;
  failure?: { code: number | null; reason: string };
  provenance?: { startedAt?: string; endedAt?: string; durationSeconds?: number; host?: string; exitCode?: number | null };
  detail?: string;
}

/** `baton jobs list --json` run in the project, as a user would: the real CLI asks the SLURM launcher about cluster jobs. */
async function jobsList(root: string): Promise<Map<string, ListedJob>> {
  const child = spawn(process.execPath, [batonBin, 'jobs', 'list', '--json'], {
    cwd: root,
    env: { ...process.env, NO_COLOR: '1', HOME: root, XDG_CONFIG_HOME: root, BATON_WORKSPACE: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`baton jobs list exited with ${code}: ${stderr}`);
  return new Map((JSON.parse(stdout) as ListedJob[]).map((job) => [job.directory, job]));
}

async function marker(job: Job, name: 'done' | 'failed'): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(join(job.directory, name), 'utf8')) as Record<string, unknown>;
}

describe.skipIf(!clusterUp && !inCI)('SLURM launcher on a real cluster', () => {
  beforeAll(() => {
    if (!clusterUp) throw new Error(`CI=true but no SLURM cluster answers \`sinfo -h\`: the SLURM integration suite cannot run; ${START_HINT}`);
  });

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await Promise.all(roots.map((root) => rm(root, { recursive: true, force: true })));
  });

  // Independent tests run side by side: the time limits alone take more than a minute each.
  describe.concurrent('jobs', () => {
    it('runs jobs to success and failure with their real exit codes', async ({ expect }) => {
      const { xp, root } = await open('exit-codes');
      const ok = xp.submit(exitWith, { code: 0 });
      const bad = xp.submit(exitWith, { code: 3 });
      const summary = await xp.wait();
      await xp.close();
      expect(ok.state).toBe('done');
      expect(await readFile(join(ok.directory, 'stdout'), 'utf8')).toMatch(/^exiting with 0 \(\) in SLURM job \d+\n$/);
      expect(bad.state).toBe('failed');
      expect(bad.failure).toMatchObject({ code: 3, reason: 'failed' });
      expect(summary.counts).toMatchObject({ done: 1, failed: 1 });
      expect((await processFile(ok)).kind).toBe('slurm');
      // Provenance: the markers say when, where and how each job ended; `baton jobs list` agrees.
      const host = readFileSync('/proc/sys/kernel/hostname', 'utf8').trim();
      expect(await marker(ok, 'done')).toMatchObject({ code: 0, host, start: expect.any(Number), end: expect.any(Number) });
      expect(await marker(bad, 'failed')).toMatchObject({ code: 3, reason: 'failed', host, start: expect.any(Number), end: expect.any(Number) });
      const listed = await jobsList(root);
      expect(listed.get(ok.directory)).toMatchObject({ state: 'done', provenance: { host, exitCode: 0, durationSeconds: expect.any(Number) } });
      expect(listed.get(bad.directory)).toMatchObject({ state: 'failed', failure: { code: 3, reason: 'failed' }, provenance: { host, exitCode: 3 } });
    });

    it('cancels queued and running jobs with scancel when the experiment is stopped with kill', async ({ expect }) => {
      const { xp, root } = await open('cancel');
      const running = xp.submit(sleeper, { seconds: 300, label: 'cancel-me' });
      await until(async () => (await readFile(join(running.directory, 'stdout'), 'utf8').catch(() => '')).includes('started'), 60_000, 'the job to start');
      const queued = xp.submit(sleeper, { seconds: 300, label: 'never-runs' }, { launcher: 'later' });
      await until(() => queued.state === 'queued' && existsSync(join(queued.directory, 'process.json')), 30_000, 'the second job to be queued');
      await xp.stop({ kill: true });
      // The experiment keeps following the cancelled jobs until they land.
      await until(() => running.state === 'failed' && queued.state === 'failed', 60_000, 'both jobs to be reported cancelled');
      await xp.close();
      expect(running.failure?.reason).toBe('cancelled');
      expect(queued.failure?.reason).toBe('cancelled');
      expect(slurmLauncher(xp).commandCounts.scancel).toBe(1);
      expect(slurmLauncher(xp, 'later').commandCounts.scancel).toBe(1);
      for (const job of [running, queued]) {
        expect(JSON.parse(await readFile(join(job.directory, 'failed'), 'utf8')).reason).toBe('cancelled');
        expect(slurmState((await processFile(job)).clusterId)).toContain('CANCELLED');
      }
      expect(await readFile(join(running.directory, 'stdout'), 'utf8')).toBe('started\n');
      const listed = await jobsList(root);
      for (const job of [running, queued]) expect(listed.get(job.directory)).toMatchObject({ state: 'failed', failure: { reason: 'cancelled' } });
    });

    it('classifies a real time limit (--time=1) as a timeout, not a cancel', async ({ expect }) => {
      const { xp, root } = await open('time-limit');
      const job = xp.submit(sleeper, { seconds: 600, label: 'too-long' }, { launcher: 'tight' });
      await xp.wait();
      await xp.close();
      expect(job.state).toBe('failed');
      expect(job.failure?.reason).toBe('timeout');
      expect(job.failure?.message).toContain('time limit');
      // The marker and `baton jobs list` say the same as the live output (job.sh only saw a SIGTERM).
      const written = await marker(job, 'failed');
      expect(written).toMatchObject({ reason: 'timeout', code: 143, start: expect.any(Number), end: expect.any(Number) });
      expect((written.end as number) - (written.start as number)).toBeGreaterThan(50);
      expect((await jobsList(root)).get(job.directory)).toMatchObject({ state: 'failed', failure: { reason: 'timeout' } });
    });

    it('follows a requeued job (scontrol requeue) as queued, never failed, and it ends with done alone', async ({ expect }) => {
      const { xp, root } = await open('requeue');
      const job = xp.submit(sleeper, { seconds: 8, label: 'requeue-me' });
      await until(async () => (await readFile(join(job.directory, 'stdout'), 'utf8').catch(() => '')).includes('started'), 60_000, 'the job to start');
      const { clusterId } = await processFile(job);
      const states: string[] = [];
      xp.events.on('job-state', (event) => {
        if (event.hash === job.hash) states.push(event.state);
      });
      expect(spawnSync('scontrol', ['requeue', clusterId], { encoding: 'utf8' }).status).toBe(0);
      // SLURM holds a requeued job (BeginTime) for a while: pending again, never failed.
      await until(() => /PENDING/.test(slurmState(clusterId)), 30_000, `SLURM to have job ${clusterId} pending again`);
      await until(() => job.state === 'queued', 30_000, 'the live state to say queued');
      const listed = (await jobsList(root)).get(job.directory);
      expect(listed?.state).toBe('queued');
      expect(listed?.failure).toBeUndefined();
      expect(job.state).toBe('queued');
      // Let it start again now rather than after SLURM's hold.
      spawnSync('scontrol', ['update', `JobId=${clusterId}`, 'StartTime=now'], { encoding: 'utf8' });
      await xp.wait();
      await xp.close();
      expect(states).not.toContain('failed');
      expect(job.state).toBe('done');
      expect(existsSync(join(job.directory, 'done'))).toBe(true);
      expect(existsSync(join(job.directory, 'failed'))).toBe(false);
      expect(await readFile(join(job.directory, 'stdout'), 'utf8')).toBe('started\nstarted\nslept\n');
      expect((await processFile(job)).clusterId).toBe(clusterId);
      expect((await jobsList(root)).get(job.directory)?.state).toBe('done');
    });

    it('re-attaches to a job requeued while the experiment was down, without submitting it again', async ({ expect }) => {
      const root = await slurmProject();
      const first = startDriver({ cwd: root, name: 'requeue-down', seconds: 8 });
      await until(() => first.output().includes('state running'), 60_000, 'the job to run');
      const directory = /^job (.+)$/m.exec(first.output())![1]!;
      await until(async () => (await readFile(join(directory, 'stdout'), 'utf8').catch(() => '')).includes('started'), 60_000, 'the job to start');
      const { clusterId } = await processFileIn(directory);
      first.child.kill('SIGKILL');
      await first.exited;
      expect(spawnSync('scontrol', ['requeue', clusterId], { encoding: 'utf8' }).status).toBe(0);
      await until(() => /PENDING/.test(slurmState(clusterId)), 30_000, `SLURM to have job ${clusterId} pending again`);
      await until(() => existsSync(join(directory, 'failed')), 30_000, 'job.sh to record the SIGTERM of the requeue');
      // Nobody followed the job meanwhile: `baton jobs list` asks SLURM, which has it pending again.
      expect((await jobsList(root)).get(directory)).toMatchObject({ state: 'queued' });
      spawnSync('scontrol', ['update', `JobId=${clusterId}`, 'StartTime=now'], { encoding: 'utf8' });
      const second = startDriver({ cwd: root, name: 'requeue-down', seconds: 8 });
      expect(await second.exited, second.output()).toBe(0);
      expect(second.output()).toMatch(/commands \{"sbatch":0,/);
      expect(second.output()).not.toContain('state failed');
      expect(existsSync(join(directory, 'failed'))).toBe(false);
      expect(await readFile(join(directory, 'stdout'), 'utf8')).toBe('started\nstarted\nslept\n');
    });

    it('runs jobs in a workspace whose path has a % in it (SLURM filename patterns)', async ({ expect }) => {
      const { xp } = await open('percent', 'baton-slurm-it-100%x-');
      // Two jobs with equal options: one job array, whose files live under the workspace too;
      // one on another launcher (other options): a lone sbatch.
      const ok = xp.submit(exitWith, { code: 0, label: 'percent' });
      const bad = xp.submit(exitWith, { code: 3, label: 'percent' });
      const lone = xp.submit(exitWith, { code: 0, label: 'percent-lone' }, { launcher: 'tight' });
      await xp.wait();
      await xp.close();
      expect(ok.directory).toContain('%x');
      expect(ok.state).toBe('done');
      expect(bad.failure).toMatchObject({ code: 3, reason: 'failed' });
      expect(lone.state).toBe('done');
      expect((await processFile(ok)).clusterId).toMatch(/^\d+_\d+$/);
      expect((await processFile(lone)).clusterId).toMatch(/^\d+$/);
      expect(await readFile(join(ok.directory, 'stdout'), 'utf8')).toMatch(/^exiting with 0 \(percent\) in SLURM job \d+\n$/);
    });

    it('requeues a resumable task after its time limit: signalled ahead, it checkpoints, and the next attempt resumes', async ({ expect }) => {
      const { xp } = await open('resumable');
      const job = xp.submit(checkpointing, { label: 'ckpt' }, { launcher: 'tight' });
      const firstId = await until(async () => (await readFile(join(job.directory, 'process.json'), 'utf8').catch(() => '')) !== '', 60_000, 'process.json').then(
        async () => (await processFile(job)).clusterId,
      );
      await xp.wait();
      await xp.close();
      expect(job.state).toBe('done');
      const stdout = await readFile(join(job.directory, 'stdout'), 'utf8');
      // Logs append across attempts: started, checkpointed on SIGUSR2, resumed in another SLURM job.
      expect(stdout).toMatch(new RegExp(`^started ckpt in ${firstId}\\ncheckpointed in ${firstId}\\n(.*\\n)*resumed in (?!${firstId}\\n)\\d+\\n$`));
      expect((await processFile(job)).clusterId).not.toBe(firstId);
    });

    it('submits a batch of 50 jobs as a job array and runs them all', async ({ expect }) => {
      const { xp } = await open('array');
      const polls = countPolls(slurmLauncher(xp));
      const jobs = Array.from({ length: 50 }, (_, index) => xp.submit(exitWith, { code: 0, label: `task${index}` }));
      const summary = await xp.wait();
      await xp.close();
      expect(summary.counts.done).toBe(50);
      const ids = await Promise.all(jobs.map(async (job) => (await processFile(job)).clusterId));
      expect(ids.every((id) => /^\d+_\d+$/.test(id))).toBe(true);
      const arrays = new Set(ids.map((id) => id.split('_')[0]));
      const counts = slurmLauncher(xp).commandCounts;
      expect(counts.sbatch).toBe(arrays.size);
      expect(arrays.size).toBeLessThanOrEqual(5);
      for (const job of jobs) expect(await readFile(join(job.directory, 'stdout'), 'utf8')).toMatch(/^exiting with 0 \(task\d+\) in SLURM job \d+\n$/);
      // One status query per poll, not one per job: the polls asked about many jobs at once, and
      // no poll ran more than sacct and squeue once each (however long the cluster took).
      expect(polls.largest).toBeGreaterThanOrEqual(25);
      expect(counts.sacct + counts.squeue).toBeLessThanOrEqual(2 * polls.calls);
    });

    it('runs a dependency chain across SLURM jobs in order', async ({ expect }) => {
      const { xp } = await open('chain');
      const first = xp.submit(chain, { label: 'one' });
      const second = xp.submit(chain, { input: first.path('stdout'), label: 'two' });
      const third = xp.submit(chain, { input: second.path('stdout'), label: 'three' });
      await xp.wait();
      await xp.close();
      expect(await readFile(join(third.directory, 'stdout'), 'utf8')).toBe('one\ntwo\nthree\n');
      const ids = await Promise.all([first, second, third].map(async (job) => Number((await processFile(job)).clusterId)));
      expect(ids[0]).toBeLessThan(ids[1]!);
      expect(ids[1]).toBeLessThan(ids[2]!);
    });

    it("reports a rejected submission with sbatch's own message", async ({ expect }) => {
      const { xp } = await open('rejected');
      const job = xp.submit(exitWith, { code: 0 }, { launcher: 'nope' });
      await xp.wait();
      await xp.close();
      expect(job.state).toBe('failed');
      expect(job.failure).toMatchObject({ code: null, reason: 'rejected' });
      expect(job.failure?.message).toMatch(/invalid partition/i);
      expect(job.failure?.message).toContain('nope');
    });

    it('fails a job that asks for more time than its partition allows, instead of leaving it pending forever', async ({ expect }) => {
      const { xp } = await open('partition-time-limit');
      const job = xp.submit(exitWith, { code: 0 }, { launcher: 'short' });
      await xp.wait();
      await xp.close();
      expect(job.state).toBe('failed');
      expect(job.failure?.reason).toBe('rejected');
      expect(job.failure?.message).toMatch(/PartitionTimeLimit/);
      expect(job.failure?.message).toMatch(/MaxTime=00:01:00/);
      expect(job.failure?.message).toMatch(/Lower `time`/);
      const { clusterId } = await processFile(job);
      await until(() => /CANCELLED/.test(slurmState(clusterId)), 30_000, `SLURM to cancel job ${clusterId}`);
    });

    it('re-attaches to its SLURM job after the experiment process is killed, without submitting it again', async ({ expect }) => {
      const root = await slurmProject();
      const first = startDriver({ cwd: root, name: 'reattach', seconds: 20 });
      await until(() => first.output().includes('state running'), 60_000, 'the job to run');
      const directory = /^job (.+)$/m.exec(first.output())![1]!;
      const before = (await processFileIn(directory)).clusterId;
      first.child.kill('SIGKILL');
      await first.exited;
      const second = startDriver({ cwd: root, name: 'reattach', seconds: 20 });
      expect(await second.exited, second.output()).toBe(0);
      expect(second.output()).toContain('summary {"waiting":0,"ready":0,"queued":0,"running":0,"done":1,"failed":0}');
      expect(second.output()).toMatch(/commands \{"sbatch":0,/);
      expect(JSON.parse(await readFile(join(directory, 'process.json'), 'utf8')).clusterId).toBe(before);
      expect(await readFile(join(directory, 'stdout'), 'utf8')).toBe('started\nslept\n');
    });
  });

  it('loses no job when slurmctld is down for 30 s in the middle of a run', async ({ expect }) => {
    const { xp } = await open('controller-outage');
    const wave1 = Array.from({ length: 6 }, (_, index) => xp.submit(sleeper, { seconds: 15, label: `wave1-${index}` }));
    await until(() => wave1.every((job) => job.state === 'running'), 60_000, 'the first wave to run');
    cluster('stop-ctld');
    try {
      // Submitted while the controller is away: sbatch is retried with backoff.
      const wave2 = Array.from({ length: 3 }, (_, index) => xp.submit(sleeper, { seconds: 2, label: `wave2-${index}` }));
      await sleep(30_000);
      cluster('start-ctld');
      const summary = await xp.wait();
      await xp.close();
      expect(summary.failed).toEqual([]);
      expect(summary.counts.done).toBe(9);
      // One array for the first wave; the second wave's sbatch failed while the controller was away, then went through.
      expect(slurmLauncher(xp).commandCounts.sbatch).toBeGreaterThanOrEqual(3);
      for (const job of [...wave1, ...wave2]) expect(await readFile(join(job.directory, 'stdout'), 'utf8')).toBe('started\nslept\n');
    } finally {
      if (!clusterIsAnswering()) cluster('start-ctld');
    }
  });

  describe('with accounting off', () => {
    // Finished jobs leave squeue 5 s after their end: enough for a poll, short enough to test a job squeue forgot.
    beforeAll(() => clusterWith({ BATON_SLURM_MIN_JOB_AGE: '5' }, 'start', '--no-accounting'), 300_000);
    afterAll(() => cluster('start'), 300_000);

    it('follows jobs with squeue when accounting is off', async ({ expect }) => {
      const { xp } = await open('no-accounting');
      const ok = xp.submit(exitWith, { code: 0, label: 'no-accounting' });
      const bad = xp.submit(exitWith, { code: 4, label: 'no-accounting' });
      await xp.wait();
      await xp.close();
      expect(ok.state).toBe('done');
      expect(bad.failure).toMatchObject({ code: 4, reason: 'failed' });
      const counts = slurmLauncher(xp).commandCounts;
      // sacct said accounting is disabled once; squeue answered every poll after that.
      expect(counts.sacct).toBe(1);
      expect(counts.squeue).toBeGreaterThan(0);
    });

    it('keeps the failure and exit code of a job that ended while the experiment was down and that squeue forgot, and retries it', async ({ expect }) => {
      const root = await slurmProject();
      const first = startDriver({ cwd: root, name: 'forgotten', seconds: 3, code: 3 });
      await until(() => first.output().includes('state running'), 60_000, 'the job to run');
      const directory = /^job (.+)$/m.exec(first.output())![1]!;
      const handle = await processFileIn(directory);
      first.child.kill('SIGKILL');
      await first.exited;
      await until(() => existsSync(join(directory, 'failed')), 30_000, 'the job to end');
      expect(JSON.parse(await readFile(join(directory, 'failed'), 'utf8'))).toMatchObject({ code: 3, reason: 'failed' });
      await until(() => !squeueKnows(handle.clusterId), 60_000, `squeue to forget job ${handle.clusterId}`);
      // Back before the launcher's grace for accounting lag (60 s after submission) is over.
      expect(Date.now() - Date.parse(handle.submittedAt)).toBeLessThan(50_000);
      const second = startDriver({ cwd: root, name: 'forgotten', seconds: 3, code: 3 });
      expect(await second.exited, second.output()).toBe(1);
      // Retried as failures are (a new SLURM job), and failed again with its code; never `lost`.
      expect(second.output()).toMatch(/commands \{"sbatch":1,/);
      expect(second.output()).toMatch(/failure \{"code":3,"reason":"failed"/);
      expect(JSON.parse(await readFile(join(directory, 'failed'), 'utf8'))).toMatchObject({ code: 3, reason: 'failed' });
      expect(JSON.parse(await readFile(join(directory, 'process.json'), 'utf8')).clusterId, second.output()).not.toBe(handle.clusterId);
    });
  });
});

function squeueKnows(clusterId: string): boolean {
  const run = spawnSync('squeue', ['--states=all', '-h', '-o', '%i', '-j', clusterId], { encoding: 'utf8', timeout: 30_000 });
  return run.status === 0 && run.stdout.trim() !== '';
}

function slurmState(clusterId: string): string {
  const run = spawnSync('squeue', ['--states=all', '-h', '-o', '%T', '-j', clusterId], { encoding: 'utf8', timeout: 30_000 });
  const sacct = spawnSync('sacct', ['-X', '-P', '-n', '--format=State', '-j', clusterId], { encoding: 'utf8', timeout: 30_000 });
  return `${run.stdout} ${sacct.stdout}`;
}

function clusterIsAnswering(): boolean {
  return spawnSync('squeue', ['-h'], { timeout: 15_000, stdio: 'ignore' }).status === 0;
}

function startDriver(options: { cwd: string; name: string; seconds: number; code?: number }) {
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@baton/source', driver, JSON.stringify(options)], { cwd: repositoryRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, output: () => output };
}
