// The SLURM launcher driven through real experiments against the real one-node
// cluster of `bash scripts/slurm-cluster.sh start`. Job directories live in
// temporary folders on this machine, which is also the cluster's only node.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { experiment, type Experiment, type Job } from '@baton/core';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { chain, checkpointing, exitWith, sleeper } from './__fixtures__/slurmTasks.ts';
import type { SlurmLauncher } from './slurmLauncher.ts';

const repositoryRoot = fileURLToPath(new URL('../../../', import.meta.url));
const clusterScript = join(repositoryRoot, 'scripts', 'slurm-cluster.sh');
const driver = fileURLToPath(new URL('./__fixtures__/slurmDriver.ts', import.meta.url));
const START_HINT = 'start it with: bash scripts/slurm-cluster.sh start';

const clusterUp = spawnSync('sinfo', ['-h'], { timeout: 15_000, stdio: 'ignore' }).status === 0;
const inCI = process.env.CI === 'true';
if (!clusterUp && !inCI) console.warn(`SLURM integration tests skipped: no SLURM cluster answers \`sinfo -h\`; ${START_HINT}`);

const roots: string[] = [];
const children: ChildProcess[] = [];

/** A temporary folder with a settings file declaring SLURM launchers; its workspace is `<root>/ws`. */
async function slurmProject(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'baton-slurm-it-'));
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

async function open(name: string): Promise<{ xp: Experiment; root: string }> {
  const root = await slurmProject();
  return { xp: await experiment({ name, cwd: root }), root };
}

function slurmLauncher(xp: Experiment, name = 'cluster'): SlurmLauncher {
  return xp.workspace.launchers.get(name) as SlurmLauncher;
}

async function processFile(job: Job): Promise<{ clusterId: string; kind: string }> {
  return JSON.parse(await readFile(join(job.directory, 'process.json'), 'utf8'));
}

function cluster(...args: string[]): void {
  const run = spawnSync('bash', [clusterScript, ...args], { encoding: 'utf8', timeout: 300_000 });
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
      const { xp } = await open('exit-codes');
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
    });

    it('cancels queued and running jobs with scancel when the experiment is stopped with kill', async ({ expect }) => {
      const { xp } = await open('cancel');
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
    });

    it('classifies a real time limit (--time=1) as a timeout, not a cancel', async ({ expect }) => {
      const { xp } = await open('time-limit');
      const job = xp.submit(sleeper, { seconds: 600, label: 'too-long' }, { launcher: 'tight' });
      await xp.wait();
      await xp.close();
      expect(job.state).toBe('failed');
      expect(job.failure?.reason).toBe('timeout');
      expect(job.failure?.message).toContain('time limit');
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
      // One status query per poll, not one per job.
      expect(counts.sacct + counts.squeue).toBeLessThan(60);
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
      const before = JSON.parse(await readFile(join(directory, 'process.json'), 'utf8')).clusterId as string;
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

  it('follows jobs with squeue when accounting is off', async ({ expect }) => {
    cluster('start', '--no-accounting');
    try {
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
    } finally {
      cluster('start');
    }
  });
});

function slurmState(clusterId: string): string {
  const run = spawnSync('squeue', ['--states=all', '-h', '-o', '%T', '-j', clusterId], { encoding: 'utf8', timeout: 30_000 });
  const sacct = spawnSync('sacct', ['-X', '-P', '-n', '--format=State', '-j', clusterId], { encoding: 'utf8', timeout: 30_000 });
  return `${run.stdout} ${sacct.stdout}`;
}

function clusterIsAnswering(): boolean {
  return spawnSync('squeue', ['-h'], { timeout: 15_000, stdio: 'ignore' }).status === 0;
}

function startDriver(options: { cwd: string; name: string; seconds: number }) {
  const child = spawn(process.execPath, ['--import', 'tsx', driver, JSON.stringify(options)], { cwd: repositoryRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, output: () => output };
}
