// Stopping, killing and faults, with real local jobs: every job settles, the
// run ends, and nothing keeps the process alive afterwards.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSourceProcess } from '../__fixtures__/sourceProcess.ts';
import { LocalConnector } from '../connector/localConnector.ts';
import { experiment } from '../experiment/experiment.ts';
import { setLogSink, type LogRecord } from '../logger.ts';
import { append, copy } from '../experiment/__fixtures__/tasks.ts';

const stopDriver = fileURLToPath(new URL('./__fixtures__/stopDriver.ts', import.meta.url));

let root: string;
let workdir: string;
let log: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'baton-life-'));
  workdir = join(root, 'ws');
  log = join(root, 'log');
});
afterEach(async () => {
  await killLeftovers();
  await rm(root, { recursive: true, force: true });
});

describe('stopping', () => {
  it('settles jobs waiting on dependencies or on a token as not started; running ones stay alive', async () => {
    const xp = await experiment({ name: 'stop-waiting', workdir });
    xp.token('gpu', 1);
    const holder = xp.submit(append, { log, label: 'holder', sleep: 60 }, { tokens: { gpu: 1 } });
    const dependent = xp.submit(copy, { input: holder.path('stdout') });
    const transitive = xp.submit(copy, { input: dependent.path('stdout') });
    await until(async () => (await readFile(log, 'utf8').catch(() => '')).includes('start holder'));
    const blocked = xp.submit(append, { log, label: 'blocked', sleep: 60 }, { tokens: { gpu: 1 } });
    await new Promise((resolve) => setTimeout(resolve, 200)); // long enough to find the token taken
    await xp.stop();
    // Each job's wait() resolves: a run function awaiting any of them goes on.
    await Promise.all([holder, blocked, dependent, transitive].map((job) => job.wait()));
    const summary = await xp.wait();
    await xp.close();
    const states = Object.fromEntries(summary.active.map((job) => [job.hash, job.state]));
    expect(states).toEqual({ [holder.hash]: 'running', [blocked.hash]: 'ready', [dependent.hash]: 'waiting', [transitive.hash]: 'waiting' });
    expect(summary.failed).toEqual([]);
    // Not started is not failed: nothing is written that the next run would have to undo.
    for (const job of [dependent, transitive]) expect(existsSync(join(job.directory, 'failed'))).toBe(false);
  });

  it('ends a run whose function waits on a job blocked by a running one, and the process exits', async () => {
    const run = startStopDriver({ kill: false });
    await until(async () => (await readFile(log, 'utf8').catch(() => '')).includes('start long'));
    run.child.kill('SIGINT');
    await run.exited;
    const lines = run.lines();
    expect(lines).toContain('dependent settled waiting');
    const stopping = run.timeOf('stopping');
    const summary = JSON.parse(lines.find((line) => line.startsWith('summary '))!.split(' ').slice(2).join(' '));
    expect(summary.active.map((job: { state: string }) => job.state).sort()).toEqual(['running', 'waiting']);
    expect(run.timeOf('summary') - stopping).toBeLessThan(5000);
    expect(run.timeOf('exit') - run.timeOf('summary')).toBeLessThan(3000);
  }, 30_000);

  it('with kill, returns as soon as the cancelled jobs ended, and the process exits', async () => {
    const run = startStopDriver({ kill: true });
    await until(async () => (await readFile(log, 'utf8').catch(() => '')).includes('start long'));
    run.child.kill('SIGINT');
    await run.exited;
    const summary = JSON.parse(run.lines().find((line) => line.startsWith('summary '))!.split(' ').slice(2).join(' '));
    expect(summary.failed.map((job: { failure: { reason: string } }) => job.failure.reason)).toEqual(['cancelled']);
    expect(run.timeOf('summary') - run.timeOf('stopping')).toBeLessThan(10_000);
    // Nothing (a fallback timer for launchers that never confirm) holds the process.
    expect(run.timeOf('exit') - run.timeOf('summary')).toBeLessThan(3000);
  }, 30_000);
});

function startStopDriver(options: { kill: boolean }) {
  const { child, exited, output } = startSourceProcess(stopDriver, [JSON.stringify({ workdir, log, ...options })]);
  const lines = () => output().split('\n').filter(Boolean);
  const timeOf = (word: string) => {
    const line = lines().find((candidate) => candidate.startsWith(`${word} `));
    if (!line) throw new Error(`no "${word}" line in:\n${output()}`);
    return Number(line.split(' ')[1]);
  };
  return { child, exited, lines, timeOf };
}

/** Kills the process groups of jobs a test left running. */
async function killLeftovers(): Promise<void> {
  const jobs = join(workdir, 'jobs');
  for (const task of await readdir(jobs).catch(() => [] as string[])) {
    for (const hash of await readdir(join(jobs, task)).catch(() => [] as string[])) {
      const text = await readFile(join(jobs, task, hash, 'process.json'), 'utf8').catch(() => undefined);
      const pid = text ? (JSON.parse(text) as { pid?: number }).pid : undefined;
      if (pid) {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
  }
}

async function until(condition: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out waiting for a condition');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('faults', () => {
  it("fails a running job whose directory was removed, with reason lost and one line; the run ends", async () => {
    const records = captureLogs();
    try {
      const xp = await experiment({ name: 'removed', workdir });
      const gone = xp.submit(append, { log, label: 'gone', sleep: 1 });
      const other = xp.submit(append, { log, label: 'other', sleep: 1 });
      await until(async () => (await readFile(log, 'utf8').catch(() => '')).includes('start gone'));
      await rm(gone.directory, { recursive: true, force: true });
      await xp.wait();
      await xp.close();
      expect(gone.failure).toMatchObject({ reason: 'lost', message: expect.stringContaining('removed') });
      expect(other.state).toBe('done');
      expect(records.filter((record) => record.message.includes(gone.shortName))).toHaveLength(1);
      expect(records.filter((record) => /\n\s+at /.test(record.message))).toEqual([]);
    } finally {
      setLogSink(undefined);
    }
  }, 20_000);

  it('loses and stops jobs that would run on for long when the whole workspace is removed', async () => {
    const records = captureLogs();
    try {
      const xp = await experiment({ name: 'removed-long', workdir });
      const jobs = [1, 2].map((i) => xp.submit(append, { log, label: `long${i}`, sleep: 60 }));
      await until(async () => (await readFile(log, 'utf8').catch(() => '')).split('start').length === 3 && jobs.every((job) => job.handle?.pid !== undefined));
      const pids = jobs.map((job) => job.handle!.pid!);
      await rm(workdir, { recursive: true, force: true });
      await xp.wait();
      await xp.close();
      expect(jobs.map((job) => job.failure?.reason)).toEqual(['lost', 'lost']);
      // Nothing of theirs could be kept: they were stopped, not left running for an hour.
      // (Zombies left to a PID 1 that does not reap them do not count.)
      for (const pid of pids) expect(await new LocalConnector().isProcessGroupAlive(pid)).toBe(false);
      expect(records.filter((record) => record.message.includes('was removed during the run'))).toHaveLength(1);
    } finally {
      setLogSink(undefined);
    }
  }, 30_000);

  it('fails every running job with reason lost when the whole workspace is removed; the run ends', async () => {
    const records = captureLogs();
    try {
      const xp = await experiment({ name: 'removed-all', workdir });
      const jobs = [1, 2].map((i) => xp.submit(append, { log, label: `job${i}`, sleep: 1 }, { tokens: {} }));
      await until(async () => (await readFile(log, 'utf8').catch(() => '')).split('start').length === 3);
      await rm(workdir, { recursive: true, force: true });
      await xp.wait();
      await xp.close();
      expect(jobs.map((job) => job.failure?.reason)).toEqual(['lost', 'lost']);
      expect(records.filter((record) => /\n\s+at /.test(record.message))).toEqual([]);
      // One line for the workspace, not one per job (nor a stack trace per poll).
      expect(records.filter((record) => record.message.includes('was removed during the run'))).toHaveLength(1);
      expect(records.length).toBeLessThanOrEqual(2);
    } finally {
      setLogSink(undefined);
    }
  }, 20_000);
});

function captureLogs(): LogRecord[] {
  const records: LogRecord[] = [];
  setLogSink((record) => records.push(record));
  return records;
}

describe('resuming', () => {
  it('runs again a job whose process.json names a launcher no longer declared, run by a process of this host that is gone', async () => {
    let directory = '';
    {
      await using xp = await experiment({ name: 'gone-launcher', workdir });
      directory = xp.submit(append, { log, label: 'again' }).directory;
      await xp.wait();
    }
    // As a threads job looks after its experiment process died mid-job: no marker, a dead pid.
    await rm(join(directory, 'done'));
    const dead = spawn('true');
    await new Promise((resolve) => dead.on('exit', resolve));
    const handle = { launcher: 'pool', kind: 'threads', host: new LocalConnector().hostname, directory, pid: dead.pid, submittedAt: new Date().toISOString() };
    await new LocalConnector().writeFile(join(directory, 'process.json'), JSON.stringify(handle));
    await using xp = await experiment({ name: 'gone-launcher', workdir });
    const job = xp.submit(append, { log, label: 'again' });
    await xp.wait();
    expect(job.state).toBe('done');
    expect((await readFile(log, 'utf8')).match(/start again/g)).toHaveLength(2);
  }, 20_000);
});

describe('dependencies from another experiment', () => {
  it('waits for one that the other experiment still runs, following its process.json, then runs', async () => {
    await using producer = await experiment({ name: 'producer', workdir });
    const model = producer.submit(append, { log, label: 'model', sleep: 1 });
    await producer.save({ model: model.path('stdout') });
    await until(async () => (await readFile(log, 'utf8').catch(() => '')).includes('start model'));
    await using consumer = await experiment({ name: 'consumer', workdir });
    const { model: loaded } = (await consumer.load('producer')) as { model: never };
    const job = consumer.submit(copy, { input: loaded });
    await consumer.wait();
    expect(job.failure).toBeUndefined();
    expect(job.state).toBe('done');
    expect(model.state).toBe('done');
  });

  it('fails the consumer with reason dependency once that job ends without success', async () => {
    await using producer = await experiment({ name: 'producer', workdir });
    const model = producer.submit(append, { log: join(root, 'missing', 'log'), label: 'model', sleep: 1 });
    await producer.save({ model: model.path('stdout') });
    await until(async () => existsSync(join(model.directory, 'process.json')));
    await using consumer = await experiment({ name: 'consumer', workdir });
    const { model: loaded } = (await consumer.load('producer')) as { model: never };
    const job = consumer.submit(copy, { input: loaded });
    await consumer.wait();
    expect(model.state).toBe('failed');
    expect(job.failure?.reason).toBe('dependency');
  });
});

describe('tokens', () => {
  it("binds a launched job's token share to its process and process group", async () => {
    await using xp = await experiment({ name: 'token-group', workdir });
    xp.token('gpu', 1);
    const job = xp.submit(append, { log, label: 'holder', sleep: 0.5 }, { tokens: { gpu: 1 } });
    const holderFile = join(workdir, 'tokens', 'gpu', 'holders', `${job.hash}.json`);
    const holder = async () => JSON.parse(await readFile(holderFile, 'utf8').catch(() => '{}')) as { pid?: number; processGroup?: number };
    await until(async () => (await holder()).processGroup !== undefined);
    const { pid } = JSON.parse(await readFile(join(job.directory, 'process.json'), 'utf8')) as { pid: number };
    expect(await holder()).toMatchObject({ pid, processGroup: pid, count: 1 });
    await xp.wait();
  });

  it("keeps a share while the job's command runs on after its job.sh was killed", async () => {
    await using xp = await experiment({ name: 'token-killed-shell', workdir });
    xp.token('gpu', 1);
    const first = xp.submit(append, { log, label: 'first', sleep: 1.5 }, { tokens: { gpu: 1 } });
    const holderFile = join(workdir, 'tokens', 'gpu', 'holders', `${first.hash}.json`);
    await until(async () => (await readFile(log, 'utf8').catch(() => '')).includes('start first') && (await readFile(holderFile, 'utf8').catch(() => '')).includes('processGroup'));
    const second = xp.submit(append, { log, label: 'second', sleep: 0 }, { tokens: { gpu: 1 } });
    const { pid } = JSON.parse(await readFile(join(first.directory, 'process.json'), 'utf8')) as { pid: number };
    process.kill(pid, 'SIGKILL'); // job.sh only: its command (the sleep) runs on in the job's group
    await xp.wait();
    const events = (await readFile(log, 'utf8')).split('\n').filter(Boolean).map((line) => line.split(' ').slice(0, 2).join(' '));
    // The second job started only once the first one's command had ended.
    expect(events.indexOf('start second')).toBeGreaterThan(events.indexOf('end first'));
    expect(events.indexOf('end first')).toBeGreaterThan(-1);
    expect(second.state).toBe('done');
    expect(first.failure?.reason).toBe('lost');
  }, 20_000);
});
