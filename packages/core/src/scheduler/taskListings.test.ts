// Fresh jobs of a task, once one of them was found without a directory, are known
// fresh from one listing of the task's folder: no look at their marker or directory.
// A listing out of date (another process made and ran a job since) never runs that job twice.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LocalConnector } from '../connector/localConnector.ts';
import { experiment } from '../experiment/experiment.ts';
import { claimed } from './__fixtures__/claimTask.ts';
import { InProcessLauncher, workspaceWith } from './__fixtures__/inProcessLauncher.ts';
import { TaskListings } from './taskListings.ts';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'baton-listings-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('TaskListings', () => {
  it('makes the first job of a folder its probe; the others wait, then a fresh probe has the folder listed', async () => {
    const readdir = vi.fn(async () => ['aaa', 'bbb']);
    const listings = new TaskListings({ readdir });
    expect(listings.verdict('/ws/jobs/t/ccc')).toBe('probe');
    const waiting = listings.verdict('/ws/jobs/t/ddd');
    expect(waiting).toBeInstanceOf(Promise);
    // Another task's folder has its own probe.
    expect(listings.verdict('/ws/jobs/other/ccc')).toBe('probe');
    await listings.probed('/ws/jobs/t/ccc', false);
    await waiting;
    expect(readdir).toHaveBeenCalledWith('/ws/jobs/t');
    expect(listings.verdict('/ws/jobs/t/ddd')).toBe('fresh');
    expect(listings.verdict('/ws/jobs/t/aaa')).toBe('look');
  });

  it('leaves the folder unlisted when its probe had a directory (a resumed run) or could not tell', async () => {
    const readdir = vi.fn(async () => [] as string[]);
    const listings = new TaskListings({ readdir });
    listings.verdict('/ws/jobs/t/a');
    await listings.probed('/ws/jobs/t/a', true);
    expect(listings.verdict('/ws/jobs/t/b')).toBe('look');
    listings.verdict('/ws/jobs/u/a');
    await listings.probed('/ws/jobs/u/a', undefined);
    expect(listings.verdict('/ws/jobs/u/b')).toBe('look');
    expect(readdir).not.toHaveBeenCalled();
  });

  it('lists a missing folder as empty, and leaves one it cannot list to the looks of each job', async () => {
    const listings = new TaskListings({
      readdir: async (folder) => {
        throw Object.assign(new Error(`cannot list ${folder}`), { code: folder.endsWith('/gone') ? 'ENOENT' : 'EACCES' });
      },
    });
    listings.verdict('/ws/jobs/gone/a');
    await listings.probed('/ws/jobs/gone/a', false);
    expect(listings.verdict('/ws/jobs/gone/b')).toBe('fresh');
    listings.verdict('/ws/jobs/locked/a');
    await listings.probed('/ws/jobs/locked/a', false);
    expect(listings.verdict('/ws/jobs/locked/b')).toBe('look');
  });
});

describe('admission of fresh jobs', () => {
  it('looks at the marker and directory of the first job of a fresh task only, and runs every job once', async () => {
    const connector = new LocalConnector();
    const exists = vi.spyOn(connector, 'exists');
    const launcher = new InProcessLauncher({ runMs: () => 0, connector });
    await using xp = await experiment({ name: 'fresh', openedWorkspace: workspaceWith(join(root, 'ws'), [launcher], connector) });
    // Submitted in one loop, as an experiment does: the first job probes the task's folder.
    const jobs = Array.from({ length: 200 }, (_, i) => xp.submit(claimed, { i }));
    await xp.wait();
    expect(jobs.every((job) => job.state === 'done')).toBe(true);
    expect(launcher.submitted.map((request) => request.directory).sort()).toEqual(jobs.map((job) => job.directory).sort());
    const looked = exists.mock.calls.map(([path]) => path);
    const directoryLooks = looked.filter((path) => jobs.some((job) => path === job.directory));
    const doneLooks = looked.filter((path) => jobs.some((job) => path === `${job.directory}/done`));
    // Before: one look at the marker and one at the directory per job, 400 here. The done
    // markers are still looked at once each as the jobs end (pollFlights), plus the probe's.
    expect(directoryLooks).toHaveLength(1);
    expect(doneLooks.length).toBeLessThanOrEqual(jobs.length + 1);
  });

  it('lists nothing when the run resumes done jobs: each is found done by one look', async () => {
    const connector = new LocalConnector();
    const workspace = join(root, 'ws');
    {
      await using first = await experiment({ name: 'resume', openedWorkspace: workspaceWith(workspace, [new InProcessLauncher({ runMs: () => 0, connector })], connector) });
      for (let i = 0; i < 50; i++) first.submit(claimed, { i });
      await first.wait();
    }
    const readdir = vi.spyOn(connector, 'readdir');
    const exists = vi.spyOn(connector, 'exists');
    const launcher = new InProcessLauncher({ runMs: () => 0, connector });
    await using xp = await experiment({ name: 'resume', openedWorkspace: workspaceWith(workspace, [launcher], connector) });
    const jobs = Array.from({ length: 50 }, (_, i) => xp.submit(claimed, { i }));
    await xp.wait();
    expect(jobs.every((job) => job.state === 'done')).toBe(true);
    expect(launcher.submitted).toEqual([]);
    expect(readdir.mock.calls.filter(([path]) => path.includes('/jobs/'))).toEqual([]);
    expect(exists.mock.calls.filter(([path]) => path.endsWith('/done'))).toHaveLength(50);
  });

  it('a job another process made and ran after the listing is found done, not run again', async () => {
    const connector = new LocalConnector();
    const workspace = join(root, 'ws');
    const launcher = new InProcessLauncher({ runMs: () => 0, connector });
    await using xp = await experiment({ name: 'here', openedWorkspace: workspaceWith(workspace, [launcher], connector) });
    xp.submit(claimed, { i: 0 });
    await xp.wait();
    // The listing of the task's folder is taken; another experiment (another process) now runs job i=1.
    const otherLauncher = new InProcessLauncher({ runMs: () => 0, connector });
    const other = await experiment({ name: 'elsewhere', openedWorkspace: workspaceWith(workspace, [otherLauncher], connector) });
    const elsewhere = other.submit(claimed, { i: 1 });
    await other.wait();
    await other.close();
    expect(elsewhere.state).toBe('done');

    const job = xp.submit(claimed, { i: 1 });
    await xp.wait();
    expect(job.state).toBe('done');
    expect(launcher.submitted.map((request) => request.directory)).not.toContain(job.directory);
    expect(otherLauncher.submitted.map((request) => request.directory)).toEqual([job.directory]);
  });
});
