import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { appendFile, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UserInputError } from '../errors.ts';
import type { FailureInfo, LaunchHandle } from '../types.ts';
import { cleanJobs, findJobs, listJobs } from './jobCatalog.ts';

let workspace: string;
const children: number[] = [];

beforeEach(async () => {
  workspace = await mkdtemp(join(tmpdir(), 'baton-catalog-'));
});

afterEach(async () => {
  for (const pid of children.splice(0)) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await rm(workspace, { recursive: true, force: true });
});

const HASH_DONE = 'aaaa11112222333344445555666677778888999900001111222233334444aaaa';
const HASH_FAILED = 'bbbb11112222333344445555666677778888999900001111222233334444bbbb';
const HASH_RUNNING = 'cccc11112222333344445555666677778888999900001111222233334444cccc';
const HASH_DEAD = 'cccc22222222333344445555666677778888999900001111222233334444dddd';
const HASH_CLUSTER = 'eeee11112222333344445555666677778888999900001111222233334444eeee';
const HASH_NOTHING = 'ffff11112222333344445555666677778888999900001111222233334444ffff';

interface JobSpec {
  taskId: string;
  hash: string;
  done?: boolean;
  failed?: FailureInfo;
  handle?: Partial<LaunchHandle>;
}

async function makeJob(spec: JobSpec): Promise<string> {
  const directory = join(workspace, 'jobs', spec.taskId, spec.hash);
  await mkdir(directory, { recursive: true });
  await writeFile(join(directory, 'params.json'), JSON.stringify({ taskId: spec.taskId, params: {}, dependencies: [] }));
  await writeFile(join(directory, 'stdout'), '');
  if (spec.done) await writeFile(join(directory, 'done'), '');
  if (spec.failed) await writeFile(join(directory, 'failed'), JSON.stringify(spec.failed));
  if (spec.handle) {
    const handle: LaunchHandle = { launcher: 'local', kind: 'local', host: hostname(), directory, submittedAt: new Date().toISOString(), ...spec.handle };
    await writeFile(join(directory, 'process.json'), JSON.stringify(handle));
  }
  return directory;
}

async function linkJob(options: { experiment: string; run: string; directory: string; name: string }): Promise<string> {
  const jobsDir = join(workspace, 'experiments', options.experiment, options.run, 'jobs');
  await mkdir(jobsDir, { recursive: true });
  const link = join(jobsDir, options.name);
  await symlink(options.directory, link);
  const current = join(workspace, 'experiments', options.experiment, 'current');
  if (!existsSync(current)) await symlink(options.run, current);
  return link;
}

/** A line in a run's `jobs.jsonl`, as an experiment writes it. */
async function indexJob(options: { experiment: string; run: string; taskId: string; hash: string }): Promise<string> {
  const runDir = join(workspace, 'experiments', options.experiment, options.run);
  await mkdir(runDir, { recursive: true });
  const index = join(runDir, 'jobs.jsonl');
  await appendFile(index, `${JSON.stringify({ taskId: options.taskId, hash: options.hash })}\n`);
  return index;
}

/** A live process group whose command line names the job directory, like a local launcher's job. */
async function startJobProcess(directory: string): Promise<number> {
  const child = spawn('sh', ['-c', 'sleep 100; true', directory], { detached: true, stdio: 'ignore' });
  await new Promise((resolve) => child.once('spawn', resolve));
  child.unref();
  children.push(child.pid!);
  return child.pid!;
}

async function makeWorkspace(): Promise<Record<string, string>> {
  const done = await makeJob({ taskId: 'train', hash: HASH_DONE, done: true, handle: { pid: 999_999 } });
  const failed = await makeJob({ taskId: 'train', hash: HASH_FAILED, failed: { code: 3, reason: 'oom', message: 'out of memory' } });
  const running = join(workspace, 'jobs', 'evaluate', HASH_RUNNING);
  await mkdir(running, { recursive: true });
  await makeJob({ taskId: 'evaluate', hash: HASH_RUNNING, handle: { pid: await startJobProcess(running) } });
  // A pid that exists (ours) but does not run this job: a reused pid, so the job is not running.
  const dead = await makeJob({ taskId: 'evaluate', hash: HASH_DEAD, handle: { pid: process.pid } });
  const cluster = await makeJob({ taskId: 'evaluate', hash: HASH_CLUSTER, handle: { launcher: 'gpu', kind: 'slurm', clusterId: '42', host: 'frontend' } });
  const nothing = await makeJob({ taskId: 'prepare', hash: HASH_NOTHING });
  return { done, failed, running, dead, cluster, nothing };
}

describe('listJobs', () => {
  it('reads each job state from markers, then process.json and the process itself', async () => {
    const dirs = await makeWorkspace();
    const jobs = await listJobs({ workspacePath: workspace });
    const states = Object.fromEntries(jobs.map((job) => [job.directory, job.state]));
    expect(states).toEqual({
      [dirs.done!]: 'done',
      [dirs.failed!]: 'failed',
      [dirs.running!]: 'running',
      [dirs.dead!]: 'incomplete',
      [dirs.cluster!]: 'queued',
      [dirs.nothing!]: 'incomplete',
    });
    const failed = jobs.find((job) => job.directory === dirs.failed);
    expect(failed).toMatchObject({ taskId: 'train', hash: HASH_FAILED, failure: { code: 3, reason: 'oom', message: 'out of memory' } });
    expect(jobs.find((job) => job.directory === dirs.cluster)?.handle).toMatchObject({ kind: 'slurm', clusterId: '42' });
  });

  it('filters by state, task and experiment', async () => {
    const dirs = await makeWorkspace();
    await linkJob({ experiment: 'mnist', run: '20250101-000000', directory: dirs.done!, name: `train--${HASH_DONE}` });
    await linkJob({ experiment: 'mnist', run: '20250102-000000', directory: dirs.failed!, name: `train--${HASH_FAILED}` });
    await linkJob({ experiment: 'other', run: 'r1', directory: dirs.failed!, name: `train--${HASH_FAILED}` });

    expect((await listJobs({ workspacePath: workspace, state: 'running' })).map((job) => job.directory)).toEqual([dirs.running]);
    expect((await listJobs({ workspacePath: workspace, taskId: 'train' })).map((job) => job.hash)).toEqual([HASH_DONE, HASH_FAILED]);
    const mnist = await listJobs({ workspacePath: workspace, experiment: 'mnist' });
    expect(mnist.map((job) => job.directory)).toEqual([dirs.done, dirs.failed]);
    expect(mnist[1]?.experiments).toEqual(['mnist', 'other']);
    expect(await listJobs({ workspacePath: workspace, experiment: 'nope' })).toEqual([]);
  });

  it("reads the runs' job indexes (jobs.jsonl) beside the links of runs of earlier versions", async () => {
    const dirs = await makeWorkspace();
    await linkJob({ experiment: 'old', run: 'r1', directory: dirs.done!, name: `train--${HASH_DONE}` });
    await indexJob({ experiment: 'new', run: 'r1', taskId: 'train', hash: HASH_DONE });
    const index = await indexJob({ experiment: 'new', run: 'r2', taskId: 'train', hash: HASH_FAILED });
    // A line cut short by a process killed mid-append is skipped.
    await appendFile(index, '{"taskId":"train","ha');
    const jobs = await listJobs({ workspacePath: workspace, experiment: 'new' });
    expect(jobs.map((job) => [job.hash, job.experiments])).toEqual([
      [HASH_DONE, ['new', 'old']],
      [HASH_FAILED, ['new']],
    ]);
    expect((await listJobs({ workspacePath: workspace, experiment: 'old' })).map((job) => job.hash)).toEqual([HASH_DONE]);
  });

  it('asks the status function, in one call, about jobs it cannot check itself', async () => {
    const dirs = await makeWorkspace();
    const asked: LaunchHandle[][] = [];
    const jobs = await listJobs({
      workspacePath: workspace,
      status: async (handles) => {
        asked.push(handles);
        return new Map([[dirs.cluster!, { state: 'queued' as const, detail: 'Priority' }]]);
      },
    });
    expect(asked).toHaveLength(1);
    expect(asked[0]?.map((handle) => handle.directory)).toEqual([dirs.cluster]);
    expect(jobs.find((job) => job.directory === dirs.cluster)).toMatchObject({ state: 'queued', detail: 'Priority' });

    const finished = await listJobs({ workspacePath: workspace, status: async () => new Map([[dirs.cluster!, { state: 'finished' as const }]]) });
    expect(finished.find((job) => job.directory === dirs.cluster)?.state).toBe('incomplete');
  });

  it('tells a job in a thread of an experiment process from its handle alone: running while that process runs, interrupted after', async () => {
    const stat = await readFile(`/proc/${process.pid}/stat`, 'utf8');
    const processStart = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
    const gone = spawn('true');
    await new Promise((resolve) => gone.once('exit', resolve));
    const inThread = { launcher: 'fn', kind: 'threads', inProcess: true };
    await makeJob({ taskId: 'fn', hash: HASH_RUNNING, handle: { ...inThread, pid: process.pid, processStart } });
    await makeJob({ taskId: 'fn', hash: HASH_DEAD, handle: { ...inThread, pid: gone.pid! } });
    // Same pid, another process (reused): the one that ran the job is gone. A handle written before `inProcess` existed.
    await makeJob({ taskId: 'fn', hash: HASH_NOTHING, handle: { launcher: 'fn', kind: 'threads', pid: process.pid, processStart: `${processStart}9` } });
    // No launcher declared: nobody is asked.
    const status = () => Promise.reject(new Error('no launcher should be asked'));
    const jobs = await listJobs({ workspacePath: workspace, status });
    expect(jobs.map((job) => [job.hash, job.state, job.detail])).toEqual([
      [HASH_RUNNING, 'running', `in a thread of process ${process.pid}`],
      [HASH_DEAD, 'incomplete', `interrupted: its experiment process ${gone.pid} ended; it runs again on resume`],
      [HASH_NOTHING, 'incomplete', `interrupted: its experiment process ${process.pid} ended; it runs again on resume`],
    ]);
  });

  it('carries the provenance of new markers; markers of earlier versions stay done or failed without it', async () => {
    const fresh = await makeJob({ taskId: 'train', hash: HASH_DONE, handle: { pid: 999_999 } });
    await writeFile(join(fresh, 'done'), '{"code":0,"start":1796135000.25,"end":1796135062.75,"host":"node7"}\n');
    const failed = await makeJob({ taskId: 'train', hash: HASH_FAILED });
    await writeFile(join(failed, 'failed'), '{"code":3,"reason":"failed","message":"exited with code 3","start":1796135000,"end":1796135001.5,"host":"node8"}\n');
    const old = await makeJob({ taskId: 'old', hash: HASH_NOTHING, done: true });
    const oldFailed = await makeJob({ taskId: 'old', hash: HASH_DEAD, failed: { code: 2, reason: 'failed', message: 'exit 2' } });
    const jobs = new Map((await listJobs({ workspacePath: workspace })).map((job) => [job.directory, job]));
    expect(jobs.get(fresh)).toMatchObject({
      state: 'done',
      provenance: { startedAt: '2026-12-01T14:23:20.250Z', endedAt: '2026-12-01T14:24:22.750Z', durationSeconds: 62.5, host: 'node7', exitCode: 0 },
    });
    expect(jobs.get(failed)).toMatchObject({
      state: 'failed',
      failure: { code: 3, reason: 'failed' },
      provenance: { durationSeconds: 1.5, host: 'node8', exitCode: 3 },
    });
    expect(jobs.get(old)?.state).toBe('done');
    expect(jobs.get(old)?.provenance).toBeUndefined();
    expect(jobs.get(oldFailed)).toMatchObject({ state: 'failed', failure: { code: 2, reason: 'failed', message: 'exit 2' }, provenance: { exitCode: 2 } });
  });

  it('asks the launcher about a cluster job job.sh saw signalled: requeued, it is queued again, not failed', async () => {
    const cluster = await makeJob({
      taskId: 'train',
      hash: HASH_CLUSTER,
      failed: { code: 143, reason: 'cancelled', message: 'terminated by SIGTERM' },
      handle: { launcher: 'gpu', kind: 'slurm', clusterId: '42', host: 'frontend' },
    });
    const plain = await makeJob({ taskId: 'train', hash: HASH_FAILED, failed: { code: 3, reason: 'failed', message: 'exit 3' }, handle: { launcher: 'gpu', kind: 'slurm', clusterId: '43', host: 'frontend' } });
    const asked: string[] = [];
    const requeued = await listJobs({
      workspacePath: workspace,
      status: async (handles) => {
        asked.push(...handles.map((handle) => handle.directory));
        return new Map([[cluster, { state: 'queued' as const, detail: 'requeued by SLURM: BeginTime' }]]);
      },
    });
    // Only the signalled one: a plain failure is final.
    expect(asked).toEqual([cluster]);
    const job = requeued.find((record) => record.directory === cluster);
    expect(job).toMatchObject({ state: 'queued', detail: 'requeued by SLURM: BeginTime' });
    expect(job?.failure).toBeUndefined();
    expect(requeued.find((record) => record.directory === plain)?.state).toBe('failed');

    // Finished: the marker stands (as the launcher may have rewritten it, e.g. timeout).
    await writeFile(join(cluster, 'failed'), JSON.stringify({ code: 143, reason: 'timeout', message: 'SLURM job 42 reached its time limit' }));
    const ended = await listJobs({ workspacePath: workspace, status: async () => new Map([[cluster, { state: 'finished' as const }]]) });
    expect(ended.find((record) => record.directory === cluster)).toMatchObject({ state: 'failed', failure: { reason: 'timeout' } });
  });

  it('returns nothing for an empty or missing workspace', async () => {
    expect(await listJobs({ workspacePath: join(workspace, 'missing') })).toEqual([]);
  });
});

describe('findJobs', () => {
  it('finds jobs by directory, task-id/hash-prefix and hash prefix', async () => {
    const dirs = await makeWorkspace();
    const found = await findJobs({ workspacePath: workspace, refs: [dirs.running!, 'train/bbbb', 'aaaa1111', HASH_NOTHING] });
    expect(found.map((job) => job.directory)).toEqual([dirs.running, dirs.failed, dirs.done, dirs.nothing]);
    expect(found[0]?.state).toBe('running');
  });

  it('reports ambiguous refs with their candidates and unknown ones with a hint', async () => {
    await makeWorkspace();
    const ambiguous = await findJobs({ workspacePath: workspace, refs: ['evaluate/cccc'] }).catch((e: unknown) => e);
    expect(ambiguous).toBeInstanceOf(UserInputError);
    expect((ambiguous as Error).message).toContain('matches 2 jobs');
    expect((ambiguous as Error).message).toContain(`evaluate/${HASH_RUNNING.slice(0, 12)}`);
    expect((ambiguous as Error).message).toContain(`evaluate/${HASH_DEAD.slice(0, 12)}`);

    const unknown = await findJobs({ workspacePath: workspace, refs: ['123456'] }).catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(UserInputError);
    expect((unknown as UserInputError).hint).toContain('baton jobs list');

    const short = await findJobs({ workspacePath: workspace, refs: ['aaaa'] }).catch((e: unknown) => e);
    expect(short).toBeInstanceOf(UserInputError);
    expect((short as UserInputError).hint).toContain('at least 6');
  });
});

describe('cleanJobs', () => {
  it('reports without removing by default, then removes finished jobs and the links to them', async () => {
    const dirs = await makeWorkspace();
    const doneLink = await linkJob({ experiment: 'mnist', run: 'r1', directory: dirs.done!, name: `train--${HASH_DONE}` });
    const runningLink = await linkJob({ experiment: 'mnist', run: 'r1', directory: dirs.running!, name: `evaluate--${HASH_RUNNING}` });

    const wouldRemove = await cleanJobs({ workspacePath: workspace, perform: false });
    expect(wouldRemove.sort()).toEqual([dirs.done, dirs.failed].sort());
    expect(existsSync(dirs.done!)).toBe(true);

    expect(await cleanJobs({ workspacePath: workspace, states: ['failed'], perform: true })).toEqual([dirs.failed]);
    expect(existsSync(dirs.failed!)).toBe(false);
    expect(existsSync(dirs.done!)).toBe(true);

    expect(await cleanJobs({ workspacePath: workspace, perform: true })).toEqual([dirs.done]);
    expect(existsSync(dirs.done!)).toBe(false);
    expect(existsSync(join(workspace, 'jobs', 'train'))).toBe(false);
    expect(await readdir(join(workspace, 'experiments', 'mnist', 'r1', 'jobs'))).toEqual([`evaluate--${HASH_RUNNING}`]);
    expect(existsSync(doneLink)).toBe(false);
    expect(existsSync(runningLink)).toBe(true);
    expect(existsSync(dirs.running!)).toBe(true);
  });

  it("drops removed jobs from the runs' job indexes", async () => {
    const dirs = await makeWorkspace();
    await indexJob({ experiment: 'mnist', run: 'r1', taskId: 'train', hash: HASH_DONE });
    const index = await indexJob({ experiment: 'mnist', run: 'r1', taskId: 'evaluate', hash: HASH_RUNNING });
    expect(await cleanJobs({ workspacePath: workspace, states: ['done'], perform: true })).toEqual([dirs.done]);
    expect(await readFile(index, 'utf8')).toBe(`${JSON.stringify({ taskId: 'evaluate', hash: HASH_RUNNING })}\n`);
  });

  it('never removes a job whose process still runs, even with an old failed marker', async () => {
    const directory = join(workspace, 'jobs', 'train', HASH_RUNNING);
    await mkdir(directory, { recursive: true });
    await makeJob({ taskId: 'train', hash: HASH_RUNNING, failed: { code: 1, reason: 'failed', message: 'first try' }, handle: { pid: await startJobProcess(directory) } });
    expect(await cleanJobs({ workspacePath: workspace, perform: true })).toEqual([]);
    expect(existsSync(directory)).toBe(true);
  });
});
