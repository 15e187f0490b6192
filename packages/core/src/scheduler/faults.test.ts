// Faults that many jobs meet at once are told once; each job still fails with its reason.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { LocalConnector } from '../connector/localConnector.ts';
import { experiment } from '../experiment/experiment.ts';
import { setLogSink, type LogRecord } from '../logger.ts';
import { defineTask } from '../task/defineTask.ts';
import { InProcessLauncher, workspaceWith } from './__fixtures__/inProcessLauncher.ts';
import { MemoryConnector } from './__fixtures__/memoryConnector.ts';

const work = defineTask({ id: 'work', params: z.object({ i: z.number() }), command: (p) => ['echo', String(p.i)] });

/** A local connector on a device that filled up: every write of a job's files fails with ENOSPC. */
class FullDiskConnector extends LocalConnector {
  full = false;

  override async writeFile(path: string, data: string, options?: { mode?: number }): Promise<void> {
    if (this.full) throw Object.assign(new Error(`ENOSPC: no space left on device, open '${path}'`), { code: 'ENOSPC' });
    return super.writeFile(path, data, options);
  }

  // Appends fail in job directories (a fresh job's files are each one create); the run's
  // index of jobs (experiments/…/jobs.jsonl) keeps its own warning, out of this test.
  override async appendFile(path: string, data: string): Promise<void> {
    if (this.full && path.includes('/jobs/work/')) throw Object.assign(new Error(`ENOSPC: no space left on device, open '${path}'`), { code: 'ENOSPC' });
    return super.appendFile(path, data);
  }
}

let root: string;
let records: LogRecord[];
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'baton-faults-'));
  records = [];
  setLogSink((record) => records.push(record));
});
afterEach(async () => {
  setLogSink(undefined);
  await rm(root, { recursive: true, force: true });
});

describe('faults', () => {
  it('disk full: one line naming the cause and the workspace; every job that could not be written fails with a reason', async () => {
    const connector = new FullDiskConnector();
    const launcher = new InProcessLauncher();
    await using xp = await experiment({ name: 'full', openedWorkspace: workspaceWith(root, [launcher], connector) });
    const first = xp.submit(work, { i: 0 });
    await first.wait();
    connector.full = true;
    const jobs = Array.from({ length: 40 }, (_, i) => xp.submit(work, { i: i + 1 }));
    const summary = await xp.wait();
    expect(first.state).toBe('done');
    expect(summary.failed).toHaveLength(40);
    for (const job of jobs) expect(job.failure?.message).toContain(`no space left on device (ENOSPC) in workspace ${root}`);
    expect(launcher.submitted).toHaveLength(1);
    const told = records.filter((record) => record.level !== 'debug');
    expect(told).toEqual([expect.objectContaining({ level: 'error', message: expect.stringContaining(`no space left on device (ENOSPC) in workspace ${root}`) })]);
  });
});

describe('claims that cannot be released', () => {
  it('are reported, and every job still runs: a failed release never skips what follows it', async () => {
    /** Files in memory; every lock release fails after releasing (a lock directory someone else removed). */
    class FailingRelease extends MemoryConnector {
      override async lock(path: string) {
        const release = await super.lock(path);
        return async () => {
          await release();
          throw new Error(`ENOENT: no such file or directory, rmdir '${path}.lock'`);
        };
      }
    }
    const connector = new FailingRelease();
    // The first job runs until the test ends it: the other token jobs find the token taken.
    let launched = 0;
    const launcher = new InProcessLauncher({ runMs: () => (launched++ === 0 ? undefined : 1), maxConcurrent: 3, connector });
    await using xp = await experiment({ name: 'release', openedWorkspace: workspaceWith(root, [launcher], connector) });
    xp.token('gpu', 1);
    const first = xp.submit(work, { i: 1 }, { tokens: { gpu: 1 } });
    await new Promise<void>((resolve) => xp.events.on('job-state', (event) => event.hash === first.hash && event.state === 'running' && resolve()));
    const jobs = [first, ...[2, 3].map((i) => xp.submit(work, { i }, { tokens: { gpu: 1 } })), ...[4, 5, 6].map((i) => xp.submit(work, { i }))];
    await new Promise((resolve) => setTimeout(resolve, 300));
    await launcher.finish(first.directory);
    let timer: NodeJS.Timeout | undefined;
    const summary = await Promise.race([
      xp.wait(),
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`stalled: ${jobs.map((job) => job.state).join(' ')}`)), 10_000))),
    ]).finally(() => clearTimeout(timer));
    expect(summary.counts.done).toBe(6);
    expect(records.some((record) => record.level === 'error' && record.message.includes('rmdir'))).toBe(true);
    expect(records.filter((record) => /\n\s+at /.test(record.message))).toEqual([]);
  }, 20_000);
});

describe('a launcher that cannot answer', () => {
  it('says once that its status queries fail, keeps polling, and says when it answers again', async () => {
    const launcher = new InProcessLauncher({ runMs: () => undefined, pollIntervalMs: 10 });
    const status = launcher.status.bind(launcher);
    let down = true;
    launcher.status = async (handles) => {
      if (down) throw new Error('squeue: error: slurm_load_jobs error: Unable to contact slurm controller');
      return status(handles);
    };
    await using xp = await experiment({ name: 'down', openedWorkspace: workspaceWith(root, [launcher]) });
    const job = xp.submit(work, { i: 1 });
    await until(() => launcher.statusCalls.length === 0 && job.state === 'running');
    await new Promise((resolve) => setTimeout(resolve, 300));
    down = false;
    await launcher.finish(job.directory);
    await xp.wait();
    expect(job.state).toBe('done');
    expect(records.filter((record) => record.level !== 'debug').map((record) => [record.level, record.message])).toEqual([
      ['warn', expect.stringContaining('Unable to contact slurm controller')],
      ['info', '"in-process" answers status queries again'],
    ]);
  });
});

describe('a host out of reach for a moment', () => {
  /** A connector whose host cannot be reached while `down`: every look fails with a transient error, as a dropped SSH connection's. */
  class FlakyConnector extends LocalConnector {
    down = false;
    looksWhileDown = 0;

    override async exists(path: string): Promise<boolean> {
      if (this.down) {
        this.looksWhileDown++;
        throw Object.assign(new Error('Lost the SSH connection to me@gpu1 (connection closed)'), { transient: true });
      }
      return super.exists(path);
    }
  }

  it('keeps following a job whose markers it cannot look at, instead of failing it', async () => {
    const connector = new FlakyConnector();
    const launcher = new InProcessLauncher({ runMs: () => undefined, pollIntervalMs: 10, connector });
    const status = launcher.status.bind(launcher);
    // The launcher says the job ended: the scheduler must look at its markers, on a host it cannot reach.
    launcher.status = async (handles) => (connector.down ? handles.map(() => ({ state: 'finished' as const })) : status(handles));
    await using xp = await experiment({ name: 'unreachable', openedWorkspace: workspaceWith(root, [launcher], connector) });
    const job = xp.submit(work, { i: 1 });
    await until(() => job.state === 'running');
    connector.down = true;
    await until(() => connector.looksWhileDown >= 5);
    expect(job.state).toBe('running');
    connector.down = false;
    await launcher.finish(job.directory);
    await xp.wait();
    expect(job.state).toBe('done');
  });
});

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for a condition');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('listeners', () => {
  it('a job-state listener that throws is reported; the jobs still settle and the run ends', async () => {
    const launcher = new InProcessLauncher({ runMs: () => 0 });
    await using xp = await experiment({ name: 'listener', openedWorkspace: workspaceWith(root, [launcher]) });
    xp.events.on('job-state', (event) => {
      if (event.state === 'done') throw new Error('the progress display broke');
    });
    for (let i = 0; i < 3; i++) xp.submit(work, { i });
    const summary = await xp.wait();
    expect(summary.counts.done).toBe(3);
    expect(records.some((record) => record.message.includes('the progress display broke'))).toBe(true);
  });
});
