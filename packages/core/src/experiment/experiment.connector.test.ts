// An experiment whose workspace is reached through a connector (a remote host's,
// over SSH): its run folder, job index, saved values and counter tokens live in
// the connector's files (here in memory), and nothing of the workspace touches
// this disk: every node:fs call that names a path is recorded.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { InProcessLauncher, workspaceWith } from '../scheduler/__fixtures__/inProcessLauncher.ts';
import { MemoryConnector } from '../scheduler/__fixtures__/memoryConnector.ts';
import { defineTask } from '../task/defineTask.ts';
import { JobOutput } from '../task/jobOutput.ts';
import { experiment } from './experiment.ts';

const touched = vi.hoisted(() => [] as string[]);

vi.mock('node:fs', async (importOriginal) => recordPaths('node:fs', await importOriginal<Record<string, unknown>>()));
vi.mock('node:fs/promises', async (importOriginal) => recordPaths('node:fs/promises', await importOriginal<Record<string, unknown>>()));

const step = defineTask({ id: 'remote-step', params: z.object({ i: z.number() }), command: (p) => ['echo', String(p.i)] });

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'baton-xp-connector-'));
  touched.splice(0);
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

it("keeps the run folder, the job index, saved values and token holders in the connector's files", async () => {
  const connector = new MemoryConnector();
  const launcher = new InProcessLauncher({ connector });
  // Where the workspace is on its host; the same path on this machine stays empty.
  const workspacePath = join(root, 'ws');
  const workspace = workspaceWith(workspacePath, [launcher], connector);
  const base = `${workspacePath}/experiments/remote`;

  let first: { runId: string; path: string; hashes: string[] };
  {
    await using xp = await experiment({ name: 'remote', openedWorkspace: workspace });
    xp.token('gpu', 1);
    const jobs = [0, 1, 2].map((i) => xp.submit(step, { i }, { tokens: { gpu: 1 } }));
    await xp.save({ first: jobs[0] }, 'jobs');
    expect((await xp.wait()).counts.done).toBe(3);
    first = { runId: xp.runId, path: xp.path, hashes: jobs.map((job) => job.hash) };
  }
  expect(first.path).toBe(`${base}/${first.runId}`);
  expect(connector.directories).toContain(`${first.path}/results`);
  expect(await connector.readlink(`${base}/current`)).toBe(first.runId);
  expect(connector.files.get(`${first.path}/jobs.jsonl`)).toBe(first.hashes.map((hash) => `${JSON.stringify({ taskId: 'remote-step', hash })}\n`).join(''));
  expect(JSON.parse(connector.files.get(`${first.path}/data/jobs.json`)!)).toMatchObject({ first: { $job: { hash: first.hashes[0] } } });
  // Each job held the token's unit in turn, and gave it back.
  expect(connector.directories).toContain(`${workspacePath}/tokens/gpu/holders`);
  expect([...connector.files.keys()].filter((path) => path.startsWith(`${workspacePath}/tokens/`))).toEqual([]);

  {
    await using xp = await experiment({ name: 'remote', openedWorkspace: workspace });
    expect(xp.runId).not.toBe(first.runId);
    expect(xp.jobsbakpath).toBe(`${first.path}/jobs.jsonl`);
    expect(xp.altJobspaths).toEqual([]);
    const loaded = (await xp.load('remote', 'jobs')) as { first: JobOutput };
    expect(loaded.first).toBeInstanceOf(JobOutput);
    expect(loaded.first.job.hash).toBe(first.hashes[0]);
    await expect(xp.load('remote', 'missing')).rejects.toThrow(/Nothing saved as "missing"/);
  }
  expect(await connector.readlink(`${base}/current`)).not.toBe(first.runId);

  // Only this machine's process table, for the token's holders on this machine (the experiment process).
  expect(touched.filter((call) => !call.includes(' /proc/'))).toEqual([]);
  expect(await readdir(root)).toEqual([]);
});

/** A module whose functions record the calls that name a path (their first argument, when a string). */
function recordPaths(name: string, module: Record<string, unknown>): Record<string, unknown> {
  const wrap = (value: unknown, key: string) =>
    typeof value === 'function'
      ? (...args: unknown[]) => {
          if (typeof args[0] === 'string') touched.push(`${name}.${key} ${args[0]}`);
          return (value as (...args: unknown[]) => unknown)(...args);
        }
      : value;
  return Object.fromEntries(Object.entries(module).map(([key, value]) => [key, key === 'default' ? value : wrap(value, key)]));
}
