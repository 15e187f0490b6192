import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BatonError, UserInputError } from '../errors.ts';
import type { DryRunRecord } from '../scheduler/scheduler.ts';
import { Experiment, experiment } from './experiment.ts';
import { HttpServerService } from '../service/__fixtures__/httpServerService.ts';
import { append, checkpointing, copy, describeProcess, env, fail, flaky, print, throwing } from './__fixtures__/tasks.ts';

let root: string;
let workdir: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'baton-xp-'));
  workdir = join(root, 'ws');
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function lines(path: string): Promise<string[]> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return text.split('\n').filter(Boolean);
}

describe('experiment', () => {
  it("runs its jobs when the run folder's job index cannot be written (the run folder was removed)", async () => {
    const log = join(root, 'log');
    await using xp = await experiment({ name: 'no-links', workdir });
    await rm(xp.path, { recursive: true });
    const jobs = [xp.submit(append, { log, label: 'a' }), xp.submit(append, { log, label: 'b' })];
    const summary = await xp.wait();
    expect(summary.counts.done).toBe(2);
    for (const job of jobs) expect(existsSync(join(job.directory, 'done'))).toBe(true);
  });

  it('runs a job once: its output and done marker land in its directory, a later run skips it', async () => {
    const log = join(root, 'log');
    let directory = '';
    {
      await using xp = await experiment({ name: 'once', workdir });
      const job = xp.submit(append, { log, label: 'a' });
      directory = job.directory;
      const summary = await xp.wait();
      expect(summary.counts.done).toBe(1);
      expect(job.state).toBe('done');
    }
    expect(directory).toMatch(new RegExp(`${workdir}/jobs/append/[0-9a-f]{64}$`));
    expect(existsSync(join(directory, 'done'))).toBe(true);
    const processFile = JSON.parse(await readFile(join(directory, 'process.json'), 'utf8'));
    expect(processFile).toMatchObject({ launcher: 'local', kind: 'local', directory });
    expect(JSON.parse(await readFile(join(directory, 'params.json'), 'utf8'))).toMatchObject({ taskId: 'append', params: { label: 'a', log } });
    {
      await using xp = await experiment({ name: 'once', workdir });
      const job = xp.submit(append, { log, label: 'a' });
      await xp.wait();
      expect(job.state).toBe('done');
      expect(xp.jobsbakpath).toBeDefined();
      expect(await lines(xp.jobsbakpath!)).toEqual([JSON.stringify({ taskId: 'append', hash: job.hash })]);
      expect(await lines(xp.jobspath)).toEqual([JSON.stringify({ taskId: 'append', hash: job.hash })]);
    }
    expect((await lines(log)).filter((line) => line.startsWith('start'))).toHaveLength(1);
  });

  it('passes parameters to the command verbatim, never as shell code', async () => {
    const marker = join(root, 'pwned');
    const text = `'; rm -rf ~; $(touch ${marker}) \`touch ${marker}\` "$HOME" \\ \n*`;
    await using xp = await experiment({ name: 'quote', workdir });
    const job = xp.submit(print, { text });
    await xp.wait();
    expect(job.state).toBe('done');
    expect(await readFile(join(job.directory, 'stdout'), 'utf8')).toBe(text);
    expect(existsSync(marker)).toBe(false);
  });

  it('records a failure with its exit code and fails dependents without running them', async () => {
    await using xp = await experiment({ name: 'failing', workdir });
    const bad = xp.submit(fail, { code: 3 });
    const dependent = xp.submit(copy, { input: bad.path('out.txt') });
    const transitive = xp.submit(copy, { input: dependent.path('x') });
    const summary = await xp.wait();
    expect(bad.failure).toEqual({ code: 3, reason: 'failed', message: 'exited with code 3' });
    expect(JSON.parse(await readFile(join(bad.directory, 'failed'), 'utf8'))).toMatchObject({ code: 3, reason: 'failed' });
    for (const job of [dependent, transitive]) {
      expect(job.state).toBe('failed');
      expect(job.failure?.reason).toBe('dependency');
      expect(existsSync(join(job.directory, 'process.json'))).toBe(false);
      expect(JSON.parse(await readFile(join(job.directory, 'failed'), 'utf8')).reason).toBe('dependency');
    }
    expect(summary.failed.map((entry) => entry.hash).sort()).toEqual([bad.hash, dependent.hash, transitive.hash].sort());
    expect(summary.failed.find((entry) => entry.hash === bad.hash)?.stderrPath).toBe(join(bad.directory, 'stderr'));
  });

  it("records what a function task threw (its first line) as its failure, the whole stack in its stderr", async () => {
    await using xp = await experiment({ name: 'throwing', workdir });
    const job = xp.submit(throwing, { n: 2 });
    await xp.wait();
    expect(job.failure).toEqual({ code: 1, reason: 'failed', message: 'bad n 2' });
    expect(JSON.parse(await readFile(join(job.directory, 'failed'), 'utf8'))).toMatchObject({ code: 1, reason: 'failed', message: 'bad n 2' });
    expect(await readFile(join(job.directory, 'stderr'), 'utf8')).toMatch(/Error: bad n 2\nsecond line, for stderr only\n\s+at /);
  });

  it('retries a failed job on the next run', async () => {
    const flag = join(root, 'flag');
    {
      await using xp = await experiment({ name: 'retry', workdir });
      const job = xp.submit(flaky, { flag });
      await xp.wait();
      expect(job.state).toBe('failed');
    }
    await using xp = await experiment({ name: 'retry', workdir });
    const job = xp.submit(flaky, { flag });
    await xp.wait();
    expect(job.state).toBe('done');
    expect(existsSync(join(job.directory, 'failed'))).toBe(false);
    expect(await readFile(join(job.directory, 'stdout'), 'utf8')).toBe('ok\n');
  });

  it('waits for a dependency and hands its output path to the dependent job', async () => {
    await using xp = await experiment({ name: 'chain', workdir });
    const first = xp.submit(print, { text: 'from the first job' });
    const second = xp.submit(copy, { input: first.path('stdout') });
    await xp.wait();
    expect(second.state).toBe('done');
    expect(await readFile(join(second.directory, 'stdout'), 'utf8')).toBe('from the first job');
    expect(second.dependencies.map((dependency) => dependency.hash)).toEqual([first.hash]);
  });

  it('layers the environment: host, settings, workspace, experiment, task, submit', async () => {
    await writeFile(
      join(root, 'baton.config.yaml'),
      `env: { FROM_SETTINGS: settings, SHARED: settings }\nworkspaces:\n  - id: main\n    path: ${workdir}\n    env: { FROM_WORKSPACE: workspace, SHARED: workspace }\n`,
    );
    await using xp = await experiment({ name: 'env', cwd: root, env: { FROM_CLI: 'cli' } });
    xp.setenv('FROM_XP', 'xp');
    xp.setenv('FROM_CLI', 'not kept', false);
    const names = ['FROM_SETTINGS', 'FROM_WORKSPACE', 'FROM_CLI', 'FROM_XP', 'FROM_TASK', 'FROM_SUBMIT', 'SHARED', 'HOME', 'PATH'];
    const job = xp.submit(env, { names }, { env: { FROM_SUBMIT: 'submit' } });
    await xp.wait();
    expect(job.state).toBe('done');
    const values = Object.fromEntries((await lines(join(job.directory, 'stdout'))).map((line) => line.split('=')));
    expect(values).toMatchObject({
      FROM_SETTINGS: 'settings',
      FROM_WORKSPACE: 'workspace',
      FROM_CLI: 'cli',
      FROM_XP: 'xp',
      FROM_TASK: 'task',
      FROM_SUBMIT: 'submit',
      SHARED: 'task',
      HOME: process.env.HOME,
      PATH: process.env.PATH,
    });
    expect(await readFile(join(job.directory, 'job.sh'), 'utf8')).toContain('export FROM_WORKSPACE=workspace');
  });

  it('runs a function task in the job\'s own process', async () => {
    await using xp = await experiment({ name: 'function', workdir });
    const job = xp.submit(describeProcess, { x: 7 });
    await xp.wait();
    expect(job.state).toBe('done');
    const result = JSON.parse(await readFile(join(job.directory, 'result.json'), 'utf8'));
    expect(result).toMatchObject({ x: 7, hash: job.hash });
    expect(result.pid).not.toBe(process.pid);
  });

  it('dry-run writes nothing and reports each job with its state, directory, launcher and dependencies', async () => {
    const records: DryRunRecord[] = [];
    {
      await using xp = await experiment({ name: 'dry', workdir, runMode: 'dry-run' });
      xp.events.on('dry-run', (record) => records.push(record));
      const first = xp.submit(print, { text: 'x' });
      xp.submit(copy, { input: first.path('stdout') });
      await xp.wait();
    }
    expect(existsSync(join(workdir, 'jobs'))).toBe(false);
    expect(existsSync(join(workdir, 'experiments', 'dry'))).toBe(false);
    // Records come as each job is looked at, in no set order.
    expect(records.map((record) => [record.taskId, record.state, record.launcher, record.dependencies.length]).sort()).toEqual([
      ['copy', 'would run', 'local', 1],
      ['print', 'would run', 'local', 0],
    ]);
    {
      await using xp = await experiment({ name: 'dry', workdir });
      xp.submit(print, { text: 'x' });
    }
    records.length = 0;
    await using xp = await experiment({ name: 'dry', workdir, runMode: 'dry-run' });
    xp.events.on('dry-run', (record) => records.push(record));
    const again = xp.submit(print, { text: 'x' });
    await xp.wait();
    expect(records).toEqual([expect.objectContaining({ state: 'done', directory: again.directory })]);
  });

  it('generate writes the job directory and a script that runs on its own, and runs nothing', async () => {
    let directory = '';
    {
      await using xp = await experiment({ name: 'gen', workdir, runMode: 'generate' });
      directory = xp.submit(print, { text: 'by hand' }).directory;
      await xp.wait();
    }
    expect(existsSync(join(directory, 'job.sh'))).toBe(true);
    expect(existsSync(join(directory, 'params.json'))).toBe(true);
    expect(existsSync(join(directory, 'stdout'))).toBe(false);
    expect(existsSync(join(directory, 'done'))).toBe(false);
    const { execFileSync } = await import('node:child_process');
    execFileSync('/bin/sh', [join(directory, 'job.sh')]);
    expect(existsSync(join(directory, 'done'))).toBe(true);
    expect(await readFile(join(directory, 'stdout'), 'utf8')).toBe('by hand');
    // prepare() leaves a done job alone.
    await using xp = await experiment({ name: 'gen', workdir, runMode: 'generate' });
    const again = xp.submit(print, { text: 'by hand' });
    expect(await xp.prepare(again)).toBe('done');
  });

  it('saves jobs and loads them back as dependencies for another experiment', async () => {
    {
      await using xp = await experiment({ name: 'producer', workdir });
      const job = xp.submit(print, { text: 'saved' });
      await xp.wait();
      await xp.save({ model: job.path('stdout'), note: 'n' });
    }
    await using xp = await experiment({ name: 'consumer', workdir });
    const loaded = (await xp.load('producer')) as { model: never; note: string };
    expect(loaded.note).toBe('n');
    const job = xp.submit(copy, { input: loaded.model });
    await xp.wait();
    expect(await readFile(join(job.directory, 'stdout'), 'utf8')).toBe('saved');
    await expect(xp.load('produce')).rejects.toThrow(/did you mean "producer"/);
  });

  it('holds tokens: jobs needing a scarce token never overlap, jobs without it are not held back', async () => {
    const log = join(root, 'log');
    await using xp = await experiment({ name: 'tokens', workdir });
    xp.token('gpu', 1);
    for (const label of ['t1', 't2', 't3']) xp.submit(append, { log, label, sleep: 0.3 }, { tokens: { gpu: 1 } });
    xp.submit(append, { log, label: 'free', sleep: 0 });
    await xp.wait();
    const events = (await lines(log)).map((line) => line.split(' ')).map(([kind, label, ns]) => ({ kind, label, ns: BigInt(ns!) }));
    const intervals = ['t1', 't2', 't3'].map((label) => ({
      start: events.find((event) => event.kind === 'start' && event.label === label)!.ns,
      end: events.find((event) => event.kind === 'end' && event.label === label)!.ns,
    }));
    intervals.sort((a, b) => (a.start < b.start ? -1 : 1));
    for (let i = 1; i < intervals.length; i++) expect(intervals[i]!.start >= intervals[i - 1]!.end).toBe(true);
    const freeEnd = events.find((event) => event.kind === 'end' && event.label === 'free')!.ns;
    expect(freeEnd < intervals[2]!.start).toBe(true);
  });

  it('stop() leaves running jobs alive for the next run; stop({ kill }) cancels them', async () => {
    const log = join(root, 'log');
    let pid = 0;
    {
      const xp = await experiment({ name: 'stop', workdir });
      const job = xp.submit(append, { log, label: 'long', sleep: 30 });
      // Running from the launcher's view comes before job.sh starts the command: wait for the command.
      while (!(await lines(log)).some((line) => line.startsWith('start'))) await new Promise((resolve) => setTimeout(resolve, 20));
      await xp.stop();
      const summary = await xp.wait();
      expect(summary.active).toEqual([expect.objectContaining({ hash: job.hash, state: 'running' })]);
      await xp.close();
      pid = JSON.parse(await readFile(join(job.directory, 'process.json'), 'utf8')).pid;
      expect(() => process.kill(pid, 0)).not.toThrow();
    }
    const xp = await experiment({ name: 'stop', workdir });
    const job = xp.submit(append, { log, label: 'long', sleep: 30 });
    await new Promise<void>((resolve) => (job.state === 'running' ? resolve() : xp.events.on('job-state', (event) => event.state === 'running' && resolve())));
    expect(JSON.parse(await readFile(join(job.directory, 'process.json'), 'utf8')).pid).toBe(pid);
    await xp.stop({ kill: true });
    await job.wait();
    await xp.close();
    expect(job.failure?.reason).toBe('cancelled');
    expect(() => process.kill(pid, 0)).toThrow();
    expect((await lines(log)).filter((line) => line.startsWith('start'))).toHaveLength(1);
  });

  it('resubmits a resumable job stopped ahead of its time limit; its output grows across attempts', async () => {
    await using xp = await experiment({ name: 'resumable', workdir });
    const job = xp.submit(checkpointing, { name: 'x' });
    await new Promise<void>((resolve) => xp.events.on('job-state', (event) => event.state === 'running' && resolve()));
    await new Promise((resolve) => setTimeout(resolve, 200));
    const { pid } = JSON.parse(await readFile(join(job.directory, 'process.json'), 'utf8'));
    process.kill(pid, 'SIGUSR2'); // what SLURM's --signal=B:USR2@N does to job.sh
    await xp.wait();
    expect(job.state).toBe('done');
    expect(await readFile(join(job.directory, 'stdout'), 'utf8')).toBe('started\ncheckpointed\nresumed\n');
  });

  it('attaches services and stops them when it closes', async () => {
    const xp = await experiment({ name: 'services', workdir });
    const service = xp.addService(new HttpServerService('served'));
    expect(xp.services).toEqual([service]);
    expect(() => xp.addService(new HttpServerService('again'))).toThrow(/already attached/);
    await service.start();
    const url = service.url!;
    expect(await (await fetch(url)).text()).toBe('served');
    await xp.close();
    expect(service.state).toBe('stopped');
    await expect(fetch(url)).rejects.toThrow();
  });

  it('reports bad input clearly', async () => {
    expect(() => Experiment.current()).toThrow(BatonError);
    await using xp = await experiment({ name: 'bad', workdir });
    expect(Experiment.current()).toBe(xp);
    expect(() => xp.submit(print, { text: 3 } as never)).toThrow(UserInputError);
    expect(() => xp.submit(print, { text: 'x' }, { launcher: 'locall' })).toThrow(/Unknown launcher "locall" \(did you mean "local"\?\)/);
    expect(() => xp.submit(print, { text: 'x' }, { tokens: { gpu: 1 } })).toThrow(/token "gpu", which is not declared/);
    xp.token('gpu', 2);
    expect(() => xp.submit(print, { text: 'x' }, { tokens: { gpu: 3 } })).toThrow(/asks for 3 of token "gpu", which has 2/);
    await expect(experiment({ name: '../escape', workdir })).rejects.toThrow(/Invalid experiment name/);
  });
});
