// Re-attaching after a restart: every job a launcher still runs is followed
// again, never launched twice, at the cost of a few status queries for all of
// them rather than one per job.
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { experiment } from '../experiment/experiment.ts';
import { defineTask } from '../task/defineTask.ts';
import { InProcessLauncher, workspaceWith } from './__fixtures__/inProcessLauncher.ts';

const work = defineTask({ id: 'work', params: z.object({ i: z.number() }), command: (p) => ['echo', String(p.i)] });

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'baton-reattach-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('re-attach', () => {
  it('asks the launcher about 200 queued jobs in a few batched queries, not one per job', async () => {
    const count = 200;
    {
      // The first run hands 200 jobs over and stops; its launcher keeps them queued.
      const launcher = new InProcessLauncher({ runMs: () => undefined });
      const xp = await experiment({ name: 'queued', openedWorkspace: workspaceWith(root, [launcher]) });
      for (let i = 0; i < count; i++) xp.submit(work, { i });
      await until(() => launcher.submitted.length === count && xp.jobs.every((job) => job.state === 'running'));
      await xp.stop();
      await xp.close();
    }
    const launcher = new InProcessLauncher({ runMs: () => undefined, unknownHandles: 'queued', pollIntervalMs: 60_000 });
    await using xp = await experiment({ name: 'queued', openedWorkspace: workspaceWith(root, [launcher]) });
    const jobs = Array.from({ length: count }, (_, i) => xp.submit(work, { i }));
    try {
      await until(() => jobs.every((job) => job.state === 'queued'));
      expect(launcher.submitted).toEqual([]);
      expect(launcher.statusCalls.reduce((sum, size) => sum + size, 0)).toBeGreaterThanOrEqual(count);
      expect(launcher.statusCalls.length).toBeLessThanOrEqual(5);
    } finally {
      // The cluster runs them to the end: the run ends either way.
      for (const job of jobs) await launcher.finish(job.directory);
    }
    const summary = await xp.wait();
    expect(summary.counts.done).toBe(count);
  });

  it('follows a job its launcher queued again after job.sh saw a signal (a requeue): not launched twice, its marker left to the launcher', async () => {
    {
      const launcher = new InProcessLauncher({ runMs: () => undefined });
      const xp = await experiment({ name: 'requeued', openedWorkspace: workspaceWith(root, [launcher]) });
      const job = xp.submit(work, { i: 1 });
      await until(() => job.state === 'running');
      await xp.stop();
      await xp.close();
      // What job.sh writes when SLURM's requeue (or a preemption) signals it.
      await writeFile(join(job.directory, 'failed'), JSON.stringify({ code: 143, reason: 'cancelled', message: 'terminated by SIGTERM' }));
    }
    const launcher = new InProcessLauncher({ runMs: () => undefined, unknownHandles: 'queued' });
    await using xp = await experiment({ name: 'requeued', openedWorkspace: workspaceWith(root, [launcher]) });
    const job = xp.submit(work, { i: 1 });
    try {
      await until(() => job.state !== 'waiting' && job.state !== 'ready');
      expect(job.state).toBe('queued');
      expect(launcher.submitted).toEqual([]);
      // Its marker is the launcher's to drop (it knows the requeue): Baton has nothing better yet.
      expect(existsSync(join(job.directory, 'failed'))).toBe(true);
    } finally {
      await launcher.finish(job.directory);
    }
    await xp.wait();
    expect(job.state).toBe('done');
  });
});

describe('retrying a failed job', () => {
  it('never follows the attempt it saw fail, even while its launcher still calls that attempt queued (accounting lag)', async () => {
    let directory = '';
    {
      const launcher = new InProcessLauncher({ runMs: () => undefined });
      const xp = await experiment({ name: 'retry', openedWorkspace: workspaceWith(root, [launcher]) });
      const job = xp.submit(work, { i: 7 });
      directory = job.directory;
      await until(() => job.state === 'running');
      await launcher.finish(job.directory, 'failed');
      await xp.wait();
      expect(job.state).toBe('failed');
    }
    // A launcher that knows nothing of the failed attempt yet answers queued for it.
    const launcher = new InProcessLauncher({ runMs: () => 0, unknownHandles: 'queued' });
    await using xp = await experiment({ name: 'retry', openedWorkspace: workspaceWith(root, [launcher]) });
    const job = xp.submit(work, { i: 7 });
    expect(job.directory).toBe(directory);
    await until(() => job.isFinished);
    expect(launcher.submitted).toHaveLength(1);
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
