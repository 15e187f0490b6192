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
  it('knows nothing before a fresh job of the task was seen, then what the folder held', async () => {
    const listings = new TaskListings({ readdir: async () => ['aaa', 'bbb'] });
    expect(listings.isFresh('/ws/jobs/t/ccc')).toBeUndefined();
    await listings.sawFresh('/ws/jobs/t/ccc');
    expect(listings.isFresh('/ws/jobs/t/ccc')).toBe(true);
    expect(listings.isFresh('/ws/jobs/t/aaa')).toBeUndefined();
    // Another task's folder is not listed by this one.
    expect(listings.isFresh('/ws/jobs/other/ccc')).toBeUndefined();
  });

  it('lists a folder once, and a missing folder as empty', async () => {
    const readdir = vi.fn(async () => {
      throw Object.assign(new Error('no such folder'), { code: 'ENOENT' });
    });
    const listings = new TaskListings({ readdir });
    await Promise.all([listings.sawFresh('/ws/jobs/t/a'), listings.sawFresh('/ws/jobs/t/b')]);
    expect(readdir).toHaveBeenCalledTimes(1);
    expect(listings.isFresh('/ws/jobs/t/zzz')).toBe(true);
  });

  it('leaves a folder it could not list to the looks of each job', async () => {
    const listings = new TaskListings({
      readdir: async () => {
        throw Object.assign(new Error('permission denied'), { code: 'EACCES' });
      },
    });
    await listings.sawFresh('/ws/jobs/t/a');
    expect(listings.isFresh('/ws/jobs/t/b')).toBeUndefined();
  });
});

describe('admission of fresh jobs', () => {
  it('looks at the marker and directory of the first fresh jobs only, and runs every job once', async () => {
    const connector = new LocalConnector();
    const exists = vi.spyOn(connector, 'exists');
    const launcher = new InProcessLauncher({ runMs: () => 0, connector });
    await using xp = await experiment({ name: 'fresh', openedWorkspace: workspaceWith(join(root, 'ws'), [launcher], connector) });
    // One job first: its directory is missing, so the task's folder is listed.
    const first = xp.submit(claimed, { i: 0 });
    await xp.wait();
    exists.mockClear();
    const jobs = Array.from({ length: 200 }, (_, i) => xp.submit(claimed, { i: i + 1 }));
    await xp.wait();
    expect(jobs.every((job) => job.state === 'done')).toBe(true);
    expect(launcher.submitted.map((request) => request.directory).sort()).toEqual([first, ...jobs].map((job) => job.directory).sort());
    const looked = exists.mock.calls.map(([path]) => path);
    const doneLooks = looked.filter((path) => jobs.some((job) => path === `${job.directory}/done`));
    const directoryLooks = looked.filter((path) => jobs.some((job) => path === job.directory));
    // Before admission: one look at the marker and one at the directory per job (400 here).
    // The done markers are still looked at once each as the jobs end (pollFlights).
    expect(directoryLooks).toEqual([]);
    expect(doneLooks.length).toBeLessThanOrEqual(jobs.length);
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
