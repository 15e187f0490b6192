// The catalog reaches a workspace only through the connector it is given (a remote
// workspace's, over SSH): here files live in memory, and any use of the local file
// system fails the test.
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryConnector } from '../scheduler/__fixtures__/memoryConnector.ts';
import type { LaunchHandle } from '../types.ts';
import { cleanJobs, findJobs, listJobs } from './jobCatalog.ts';

const touched = vi.hoisted(() => [] as string[]);

/** node:fs and node:fs/promises, recording each function called on them. */
vi.mock('node:fs', async (importOriginal) => recordCalls('node:fs', await importOriginal<Record<string, unknown>>()));
vi.mock('node:fs/promises', async (importOriginal) => recordCalls('node:fs/promises', await importOriginal<Record<string, unknown>>()));

afterEach(() => {
  touched.splice(0);
});

const WORKSPACE = '/remote/workspace';
const HASH_DONE = 'aaaa11112222333344445555666677778888999900001111222233334444aaaa';
const HASH_FAILED = 'bbbb11112222333344445555666677778888999900001111222233334444bbbb';
const HASH_RUNNING = 'cccc11112222333344445555666677778888999900001111222233334444cccc';
const HASH_GONE = 'cccc22222222333344445555666677778888999900001111222233334444dddd';
const HASH_CLUSTER = 'eeee11112222333344445555666677778888999900001111222233334444eeee';
const HASH_ELSEWHERE = 'ffff11112222333344445555666677778888999900001111222233334444ffff';
const LIVE_PID = 4242;

/** A workspace in memory, on a host named `memory`, where process LIVE_PID runs the job HASH_RUNNING. */
async function makeWorkspace(): Promise<{ connector: MemoryConnector; dirs: Record<string, string> }> {
  const connector = new MemoryConnector();
  const dirs: Record<string, string> = {};
  const job = async (name: string, taskId: string, hash: string, files: Record<string, string> = {}, handle?: Partial<LaunchHandle>) => {
    const directory = join(WORKSPACE, 'jobs', taskId, hash);
    await connector.mkdir(directory);
    await connector.writeFile(join(directory, 'params.json'), JSON.stringify({ taskId, params: {}, dependencies: [] }));
    for (const [file, text] of Object.entries(files)) await connector.writeFile(join(directory, file), text);
    if (handle) {
      const full: LaunchHandle = { launcher: 'local', kind: 'local', host: 'memory', directory, submittedAt: '2026-01-01T00:00:00.000Z', ...handle };
      await connector.writeFile(join(directory, 'process.json'), JSON.stringify(full));
    }
    dirs[name] = directory;
  };
  await job('done', 'train', HASH_DONE, { done: '{"code":0,"start":1796135000,"end":1796135062.5,"host":"memory"}\n' }, { pid: 7 });
  await job('failed', 'train', HASH_FAILED, { failed: JSON.stringify({ code: 3, reason: 'oom', message: 'out of memory' }) });
  await job('running', 'evaluate', HASH_RUNNING, {}, { pid: LIVE_PID });
  await job('gone', 'evaluate', HASH_GONE, {}, { pid: 99 });
  await job('cluster', 'evaluate', HASH_CLUSTER, {}, { launcher: 'gpu', kind: 'slurm', clusterId: '42', host: 'frontend' });
  // A local job of the machine running the test: not the workspace's host, so not checked from here.
  await job('elsewhere', 'prepare', HASH_ELSEWHERE, {}, { host: hostname(), pid: process.pid });
  // Runs' records: a job index, and a link of a run of an earlier version.
  await connector.mkdir(join(WORKSPACE, 'experiments', 'mnist', 'r1'));
  await connector.writeFile(
    join(WORKSPACE, 'experiments', 'mnist', 'r1', 'jobs.jsonl'),
    `${JSON.stringify({ taskId: 'train', hash: HASH_DONE })}\n${JSON.stringify({ taskId: 'evaluate', hash: HASH_RUNNING })}\n`,
  );
  await connector.mkdir(join(WORKSPACE, 'experiments', 'old', 'r0', 'jobs'));
  await connector.symlink(dirs.failed!, join(WORKSPACE, 'experiments', 'old', 'r0', 'jobs', `train--${HASH_FAILED}`));
  // The memory connector runs no processes; this host runs one, the job's.
  Object.assign(connector, { isProcessAlive: async (pid: number, commandLineIncludes?: string) => pid === LIVE_PID && commandLineIncludes === dirs.running });
  return { connector, dirs };
}

describe('the job catalog over a connector', () => {
  it('lists jobs, their states, provenance and experiments from the connector alone', async () => {
    const { connector, dirs } = await makeWorkspace();
    const asked: string[] = [];
    const jobs = await listJobs({
      workspacePath: WORKSPACE,
      connector,
      status: async (handles) => {
        asked.push(...handles.map((handle) => handle.directory));
        return new Map([[dirs.cluster!, { state: 'queued' as const, detail: 'Priority' }]]);
      },
    });
    expect(jobs.map((job) => [job.directory, job.state, job.experiments])).toEqual([
      [dirs.running, 'running', ['mnist']],
      [dirs.gone, 'incomplete', []],
      [dirs.cluster, 'queued', []],
      [dirs.elsewhere, 'running', []],
      [dirs.done, 'done', ['mnist']],
      [dirs.failed, 'failed', ['old']],
    ]);
    // Only what the files cannot settle: the cluster job and the local job of another host.
    expect(asked).toEqual([dirs.cluster, dirs.elsewhere]);
    expect(jobs.find((job) => job.directory === dirs.cluster)?.detail).toBe('Priority');
    expect(jobs.find((job) => job.directory === dirs.done)?.provenance).toMatchObject({ durationSeconds: 62.5, host: 'memory' });
    expect(jobs.find((job) => job.directory === dirs.failed)?.failure).toEqual({ code: 3, reason: 'oom', message: 'out of memory' });

    expect((await listJobs({ workspacePath: WORKSPACE, connector, experiment: 'mnist' })).map((job) => job.hash)).toEqual([HASH_RUNNING, HASH_DONE]);
    expect(touched).toEqual([]);
  });

  it('finds jobs by directory, task-id/hash-prefix and hash prefix', async () => {
    const { connector, dirs } = await makeWorkspace();
    const found = await findJobs({ workspacePath: WORKSPACE, connector, refs: [dirs.running!, 'train/bbbb', 'aaaa1111'] });
    expect(found.map((job) => [job.directory, job.state])).toEqual([
      [dirs.running, 'running'],
      [dirs.failed, 'failed'],
      [dirs.done, 'done'],
    ]);
    expect(touched).toEqual([]);
  });

  it('cleans finished jobs and their records through the connector, never a live one', async () => {
    const { connector, dirs } = await makeWorkspace();
    // A retry under way: the old marker stays until the job restarts.
    await connector.writeFile(join(dirs.running!, 'failed'), JSON.stringify({ code: 1, reason: 'failed', message: 'first try' }));

    expect((await cleanJobs({ workspacePath: WORKSPACE, connector, perform: false })).sort()).toEqual([dirs.done, dirs.failed].sort());
    expect(await connector.exists(dirs.done!)).toBe(true);

    expect((await cleanJobs({ workspacePath: WORKSPACE, connector, perform: true })).sort()).toEqual([dirs.done, dirs.failed].sort());
    expect(await connector.exists(dirs.done!)).toBe(false);
    expect(await connector.exists(dirs.failed!)).toBe(false);
    expect(await connector.exists(join(WORKSPACE, 'jobs', 'train'))).toBe(false);
    expect(await connector.exists(dirs.running!)).toBe(true);
    expect(await connector.readFile(join(WORKSPACE, 'experiments', 'mnist', 'r1', 'jobs.jsonl'))).toBe(`${JSON.stringify({ taskId: 'evaluate', hash: HASH_RUNNING })}\n`);
    expect(await connector.readdir(join(WORKSPACE, 'experiments', 'old', 'r0', 'jobs'))).toEqual([]);
    expect(touched).toEqual([]);
  });

  it('reads the local files when given no connector (what the checks above would have seen)', async () => {
    expect(await listJobs({ workspacePath: WORKSPACE })).toEqual([]);
    expect(touched).toContain('node:fs/promises.readdir');
  });
});

function recordCalls(name: string, module: Record<string, unknown>): Record<string, unknown> {
  const wrap = (value: unknown, key: string) =>
    typeof value === 'function'
      ? (...args: unknown[]) => {
          touched.push(`${name}.${key}`);
          return (value as (...args: unknown[]) => unknown)(...args);
        }
      : value;
  const wrapped = Object.fromEntries(Object.entries(module).map(([key, value]) => [key, key === 'default' ? value : wrap(value, key)]));
  return wrapped;
}
