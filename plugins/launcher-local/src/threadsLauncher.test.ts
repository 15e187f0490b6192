// The threads launcher with real worker threads and real job files: alone, and
// under real experiments (resume included).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, experiment, UserInputError, validateLauncherBlocks, ValidationError } from '@baton/core';
import type { JobParamsFile, LaunchHandle, LaunchRequest, Launcher, Workspace, WorkspaceSettings } from '@baton/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
// Tests only: the plugin itself is handed its connector.
import { LocalConnector } from '../../../packages/core/src/connector/localConnector.ts';
import { command, exits, failing, report, sleeper, syncReport } from './__fixtures__/threadTasks.ts';
import plugin, { threadsLauncherSettings } from './index.ts';
import { LocalLauncher } from './localLauncher.ts';
import { ThreadsLauncher, type ThreadsLaunchHandle } from './threadsLauncher.ts';

const connector = new LocalConnector();
const logger = createLogger('baton:test:launcher-threads');
const TASKS_MODULE = new URL('./__fixtures__/threadTasks.ts', import.meta.url).href;
let root: string;
const launchers: ThreadsLauncher[] = [];

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'baton-launcher-threads-'));
});

afterEach(async () => {
  await Promise.all(launchers.splice(0).map((launcher) => launcher.close()));
  await rm(root, { recursive: true, force: true });
});

function newThreads(options: { maxThreads?: number; maxConcurrent?: number; batchTasksUnderMs?: number; growAfterMs?: number } = {}): ThreadsLauncher {
  const launcher = new ThreadsLauncher({ name: 'threads', connector, logger, pollIntervalMs: 60_000, ...options });
  launchers.push(launcher);
  return launcher;
}

/** A workspace whose default launcher is `threads`, with a `local` one beside it (closing it closes the pool). */
function workspaceWith(threads: ThreadsLauncher): Workspace {
  const local = new LocalLauncher({ name: 'local', connector, logger });
  const all: Launcher[] = [threads, local];
  return {
    id: 'test',
    path: join(root, 'ws'),
    env: {},
    connector,
    launchers: new Map(all.map((launcher) => [launcher.name, launcher])),
    defaultLauncher: threads.name,
    tokens: new Map(),
    close: () => threads.close(),
  };
}

/** A job directory with the params.json the core would write for a function task of the fixtures. */
async function jobRequest(name: string, taskId: string, resolved: Record<string, unknown>): Promise<LaunchRequest> {
  const directory = join(root, 'jobs', taskId, name);
  await mkdir(directory, { recursive: true });
  const record: JobParamsFile = {
    taskId,
    hash: name.padEnd(64, '0'),
    params: resolved,
    resolved,
    dependencies: [],
    module: TASKS_MODULE,
    tokens: {},
    env: {},
    experiment: { name: 'test', runId: 'run' },
  };
  await writeFile(join(directory, 'params.json'), JSON.stringify(record));
  return { taskId, hash: record.hash, directory, scriptPath: join(directory, 'job.sh'), name: `${taskId}-${name}`, requirements: {} };
}

async function submitOne(launcher: ThreadsLauncher, request: LaunchRequest): Promise<ThreadsLaunchHandle> {
  const [outcome] = await launcher.submit([request]);
  if (!outcome || !('handle' in outcome)) throw new Error(`submit failed: ${JSON.stringify(outcome)}`);
  return outcome.handle as ThreadsLaunchHandle;
}

async function json(path: string): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
}

/** Start and end lines of the sleeper fixture, as [label, start, end] per run. */
async function runs(log: string): Promise<{ label: string; start: number; end?: number }[]> {
  const text = await readFile(log, 'utf8').catch(() => '');
  const result: { label: string; start: number; end?: number }[] = [];
  for (const line of text.split('\n').filter(Boolean)) {
    const [what, label, time] = line.split(' ') as [string, string, string];
    if (what === 'start') result.push({ label, start: Number(time) });
    else result.findLast((run) => run.label === label && run.end === undefined)!.end = Number(time);
  }
  return result;
}

function mostAtOnce(list: { start: number; end?: number }[]): number {
  const events = list.flatMap((run) => [
    [run.start, 1],
    [run.end ?? Infinity, -1],
  ]);
  events.sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!);
  let current = 0;
  let most = 0;
  for (const [, delta] of events) most = Math.max(most, (current += delta!));
  return most;
}

describe('threads launcher in an experiment', () => {
  it('runs a function task in a thread of the experiment process: output files, done marker with provenance, process.json', async () => {
    const threads = newThreads();
    const workspace = workspaceWith(threads);
    await using xp = await experiment({ name: 'threads', openedWorkspace: workspace });
    const job = xp.submit(report, { x: 7, when: new Date(5) });
    const summary = await xp.wait();
    expect(summary.counts.done).toBe(1);
    expect(job.state).toBe('done');
    const result = await json(join(job.directory, 'result.json'));
    // Same process, another thread; parameters decoded as submitted (a Date stays a Date); the job's environment.
    expect(result).toMatchObject({ x: 7, when: '1970-01-01T00:00:00.005Z', pid: process.pid, env: 'task', dir: job.directory });
    expect(result.threadId).toBeGreaterThan(0);
    const done = await json(join(job.directory, 'done'));
    expect(done).toMatchObject({ code: 0, host: connector.hostname });
    expect(done.end as number).toBeGreaterThanOrEqual(done.start as number);
    expect(Math.abs((done.end as number) * 1000 - Date.now())).toBeLessThan(60_000);
    expect(await readFile(join(job.directory, 'stdout'), 'utf8')).toBe('hello 7\nraw\n');
    expect(await readFile(join(job.directory, 'stderr'), 'utf8')).toBe('warning 7\n[info] baton:task:report: logged 7\n');
    expect(await json(join(job.directory, 'process.json'))).toMatchObject({ launcher: 'threads', kind: 'threads', pid: process.pid, host: connector.hostname });
    // A thread calls the function: no job.sh is written for it.
    expect(existsSync(join(job.directory, 'params.json'))).toBe(true);
    expect(existsSync(join(job.directory, 'job.sh'))).toBe(false);
    // Not rerun: the process.json and the output stay as they are.
    await workspace.close();
    await using again = await experiment({ name: 'threads', openedWorkspace: workspaceWith(newThreads()) });
    const rerun = again.submit(report, { x: 7, when: new Date(5) });
    await again.wait();
    expect(rerun.state).toBe('done');
    expect(await readFile(join(job.directory, 'stdout'), 'utf8')).toBe('hello 7\nraw\n');
  });

  it('records a task that throws as failed with its message (stack in stderr), and process.exit(n) with its code', async () => {
    await using xp = await experiment({ name: 'failing', openedWorkspace: workspaceWith(newThreads()) });
    const thrown = xp.submit(failing, { why: 'no data' });
    const exited = xp.submit(exits, { code: 3 });
    const summary = await xp.wait();
    expect(summary.counts.failed).toBe(2);
    expect(thrown.failure).toEqual({ code: 1, reason: 'failed', message: 'bad input: no data' });
    expect(await json(join(thrown.directory, 'failed'))).toMatchObject({ code: 1, reason: 'failed', message: 'bad input: no data', host: connector.hostname });
    expect(await readFile(join(thrown.directory, 'stderr'), 'utf8')).toMatch(/^Error: bad input: no data\nsecond line\n\s+at /);
    expect(exited.failure).toEqual({ code: 3, reason: 'failed', message: 'the task called process.exit(3)' });
  });

  it('runs tasks that return at once one after the other in a thread: each with its own variables, output, exit and failure', async () => {
    // One thread, jobs of a short task in batches: after the first, the thread has the module and runs them without a promise.
    await using xp = await experiment({ name: 'sync', openedWorkspace: workspaceWith(newThreads({ maxThreads: 1 })) });
    xp.setenv('SHARED', 'all');
    const thens = ['return', 'return', 'return', 'throw', 'return', 'exit0', 'exit5', 'return'] as const;
    const jobs = thens.map((then, x) => xp.submit(syncReport, { x, then }, x === 2 ? { env: { ONLY_SOME: 'two' } } : {}));
    const summary = await xp.wait();
    expect(summary.counts).toMatchObject({ done: 6, failed: 2 });
    for (const [x, job] of jobs.entries()) {
      // Its own directory and hash; ONLY_SOME for job 2 alone (not left over for job 3, nor missing after it).
      expect(await json(join(job.directory, 'seen.json'))).toEqual({ x, dir: job.directory, hash: job.hash, only: x === 2 ? 'two' : null, shared: 'all' });
      expect(await readFile(join(job.directory, 'stdout'), 'utf8')).toBe(`sync ${x}\n`);
    }
    expect(jobs[3]!.failure).toEqual({ code: 1, reason: 'failed', message: 'sync failure 3' });
    expect(await readFile(join(jobs[3]!.directory, 'stderr'), 'utf8')).toMatch(/^Error: sync failure 3\n\s+at /);
    expect(jobs[5]!.state).toBe('done');
    expect(jobs[6]!.failure).toEqual({ code: 5, reason: 'failed', message: 'the task called process.exit(5)' });
    expect(await json(join(jobs[6]!.directory, 'failed'))).toMatchObject({ code: 5, reason: 'failed' });
    // The thread's environment is its own again once the batch ended; the experiment process's never changed.
    expect(process.env.BATON_JOB_DIR).toBeUndefined();
    expect(process.env.ONLY_SOME).toBeUndefined();
    const after = xp.submit(syncReport, { x: 100 });
    await xp.wait();
    expect(await json(join(after.directory, 'seen.json'))).toMatchObject({ x: 100, only: null, shared: 'all', dir: after.directory });
  });

  it('refuses a command task at submit, naming the launchers that run commands; on local it runs', async () => {
    await using xp = await experiment({ name: 'command', openedWorkspace: workspaceWith(newThreads()) });
    let refusal: unknown;
    try {
      xp.submit(command, { text: 'hi' });
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(UserInputError);
    const { message, where, hint } = refusal as UserInputError;
    expect(message).toBe('Task "command" is a command task, and launcher "threads" (threads) runs only function tasks (defineTask with run)');
    // The line of the submit that was refused.
    expect(where).toMatch(/threadsLauncher\.test\.ts:\d+:\d+, in submit\(command\)$/);
    expect(hint).toContain('{ launcher: "local" }');
    const other = xp.submit(report, { x: 1 });
    // The task runs on the local launcher.
    const local = xp.submit(command, { text: 'on local' }, { launcher: 'local' });
    await xp.wait();
    expect(other.state).toBe('done');
    expect(local.state).toBe('done');
    expect(await readFile(join(local.directory, 'stdout'), 'utf8')).toBe('on local\n');
  });

  it('tells how to declare a launcher that runs commands when the workspace has none', async () => {
    const workspace = { ...workspaceWith(newThreads()) };
    workspace.launchers = new Map([...workspace.launchers].filter(([name]) => name === 'threads'));
    await using xp = await experiment({ name: 'command-only-threads', openedWorkspace: workspace });
    expect(() => xp.submit(command, { text: 'hi' })).toThrow(
      expect.objectContaining({ hint: expect.stringContaining('no launcher that runs commands: declare one in the settings (launchers: { local: { use: local } })') }),
    );
  });

  it('fails a command task handed to it anyway (rejected, with what to do), without running anything', async () => {
    const launcher = newThreads();
    try {
      const request = await jobRequest('cmd', 'command', { text: 'hi' });
      const record = await json(join(request.directory, 'params.json'));
      await writeFile(join(request.directory, 'params.json'), JSON.stringify({ ...record, module: undefined, command: ['echo', 'hi'] }));
      const handle = await submitOne(launcher, request);
      await expect.poll(() => existsSync(join(handle.directory, 'failed')), { timeout: 20_000 }).toBe(true);
      const failed = await json(join(handle.directory, 'failed'));
      expect(failed).toMatchObject({ reason: 'rejected' });
      expect(failed.message).toContain('task "command" is a command task');
      expect(existsSync(join(handle.directory, 'stdout'))).toBe(false);
    } finally {
      await launcher.close();
    }
  });

  it('keeps to its bounds: never more jobs running at once than threads, nor than maxConcurrent', async () => {
    for (const [bounds, most] of [
      [{ maxThreads: 2 }, 2],
      [{ maxThreads: 3, maxConcurrent: 1 }, 1],
    ] as const) {
      const log = join(root, `log-${most}`);
      const threads = newThreads(bounds);
      await using xp = await experiment({ name: `bound-${most}`, openedWorkspace: workspaceWith(threads) });
      let handedOver = 0;
      xp.events.on('job-state', (event) => {
        if (event.state === 'queued' || event.state === 'running') handedOver = Math.max(handedOver, xp.summary().counts.queued + xp.summary().counts.running);
      });
      // Jobs that run until released: the pool has time to grow to its bound, and no further.
      const release = join(root, `release-${most}`);
      for (let i = 0; i < 6; i++) xp.submit(sleeper, { log, label: `j${i}`, ms: 60_000, release });
      await expect.poll(async () => (await runs(log)).length, { timeout: 20_000 }).toBe(most);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await runs(log)).toHaveLength(most);
      await writeFile(release, '');
      const summary = await xp.wait();
      expect(summary.counts.done).toBe(6);
      const list = await runs(log);
      expect(list).toHaveLength(6);
      expect(mostAtOnce(list)).toBe(most);
      expect(handedOver).toBeLessThanOrEqual(threads.maxConcurrent);
    }
  });

  it('cancels running jobs when the experiment stops with kill: failed, reason cancelled', async () => {
    const log = join(root, 'log');
    await using xp = await experiment({ name: 'kill', openedWorkspace: workspaceWith(newThreads()) });
    const slow = xp.submit(sleeper, { log, label: 'slow', ms: 60_000 });
    await expect.poll(async () => (await runs(log)).length, { timeout: 20_000 }).toBe(1);
    await xp.stop({ kill: true });
    await xp.wait();
    expect(slow.state).toBe('failed');
    expect(slow.failure?.reason).toBe('cancelled');
    expect(await json(join(slow.directory, 'failed'))).toMatchObject({ reason: 'cancelled', code: null });
  });

  it('runs again on resume a job the end of the experiment interrupted; a done job is not rerun', async () => {
    const log = join(root, 'log');
    let interrupted = '';
    {
      const workspace = workspaceWith(newThreads());
      const xp = await experiment({ name: 'resume', openedWorkspace: workspace });
      const quick = xp.submit(sleeper, { log, label: 'quick', ms: 0 });
      const slow = xp.submit(sleeper, { log, label: 'slow', ms: 60_000 });
      interrupted = slow.directory;
      await expect.poll(async () => (await runs(log)).map((run) => `${run.label}:${run.end !== undefined}`).sort(), { timeout: 20_000 }).toEqual(['quick:true', 'slow:false']);
      await expect.poll(() => quick.state).toBe('done');
      // The experiment ends while `slow` runs: its thread goes with the pool, no marker is written.
      await xp.stop();
      // The summary says so (the CLI then offers no kill command, but a resume).
      expect(xp.summary().active).toEqual([expect.objectContaining({ hash: slow.hash, state: 'running', launcher: 'threads', outlivesProcess: false })]);
      await xp.close();
      await workspace.close();
      expect(existsSync(join(interrupted, 'done')) || existsSync(join(interrupted, 'failed'))).toBe(false);
      expect(await json(join(interrupted, 'process.json'))).toMatchObject({ kind: 'threads', pid: process.pid });
    }
    // The handle names this process, which no longer runs the job: not running.
    const handle = (await json(join(interrupted, 'process.json'))) as unknown as LaunchHandle;
    const threads = newThreads();
    expect(await threads.status([handle])).toEqual([{ state: 'finished' }]);
    await using xp = await experiment({ name: 'resume', openedWorkspace: workspaceWith(threads) });
    const quick = xp.submit(sleeper, { log, label: 'quick', ms: 0 });
    const slow = xp.submit(sleeper, { log, label: 'slow', ms: 0 });
    await xp.wait();
    expect([quick.state, slow.state]).toEqual(['done', 'done']);
    const list = await runs(log);
    expect(list.filter((run) => run.label === 'quick')).toHaveLength(1);
    expect(list.filter((run) => run.label === 'slow')).toHaveLength(2);
  });
});

describe('ThreadsLauncher', () => {
  it('cancels a running job by terminating its thread: the job ends cancelled', async () => {
    const launcher = newThreads({ maxThreads: 1 });
    const started = join(root, 'started');
    const handle = await submitOne(launcher, await jobRequest('spin', 'spinner', { started }));
    await expect.poll(() => existsSync(started), { timeout: 20_000 }).toBe(true);
    expect(await launcher.status([handle])).toEqual([{ state: 'running' }]);
    await launcher.cancel([handle]);
    expect(await launcher.status([handle])).toEqual([{ state: 'finished' }]);
    expect(await json(join(handle.directory, 'failed'))).toMatchObject({ code: null, reason: 'cancelled', host: connector.hostname });
    // The pool goes on with a new thread.
    const next = await submitOne(launcher, await jobRequest('after', 'report', { x: 1, when: { $date: '1970-01-01T00:00:00.000Z' } }));
    await expect.poll(async () => (await launcher.status([next]))[0]!.state, { timeout: 20_000 }).toBe('finished');
    expect(existsSync(join(next.directory, 'done'))).toBe(true);
  });

  it('cancels a job still waiting for a thread, which never starts', async () => {
    const launcher = newThreads({ maxThreads: 1, maxConcurrent: 2 });
    const started = join(root, 'started');
    const first = await submitOne(launcher, await jobRequest('spin', 'spinner', { started }));
    const log = join(root, 'log');
    const second = await submitOne(launcher, await jobRequest('waits', 'sleeper', { log, label: 'waits', ms: 0 }));
    expect(await launcher.status([first, second])).toEqual([{ state: 'running' }, { state: 'queued' }]);
    await launcher.cancel([second]);
    expect(await json(join(second.directory, 'failed'))).toMatchObject({ reason: 'cancelled', message: 'cancelled before it started' });
    await launcher.cancel([first]);
    expect(await launcher.status([first, second])).toEqual([{ state: 'finished' }, { state: 'finished' }]);
    expect(existsSync(log)).toBe(false);
  });

  it('hands jobs of a task known to be short to a thread several at a time; a cancel in a batch runs its other jobs again', async () => {
    // Short enough even on a loaded machine (the sleeper appends to a file twice).
    const launcher = newThreads({ maxThreads: 1, maxConcurrent: 8, batchTasksUnderMs: 1000 });
    const log = join(root, 'log');
    const release = join(root, 'release');
    const endOf = async (handles: ThreadsLaunchHandle[]) =>
      expect.poll(async () => (await launcher.status(handles)).map((status) => status.state), { timeout: 20_000 }).toEqual(handles.map(() => 'finished'));
    // Three quick jobs, one by one (the task is not known yet): now it is short.
    const quick: ThreadsLaunchHandle[] = [];
    for (const label of ['q1', 'q2', 'q3']) quick.push(await submitOne(launcher, await jobRequest(label, 'sleeper', { log, label, ms: 0 })));
    await endOf(quick);
    const pool = () => (launcher as unknown as { pool: { completed: number } }).pool;
    expect(pool().completed).toBe(3);
    // Three more at once go to the one thread as one batch; the first waits for a file.
    const requests = [
      await jobRequest('a', 'sleeper', { log, label: 'a', ms: 60_000, release }),
      await jobRequest('b', 'sleeper', { log, label: 'b', ms: 0 }),
      await jobRequest('c', 'sleeper', { log, label: 'c', ms: 0 }),
    ];
    const handles = (await launcher.submit(requests)).map((outcome) => (outcome as { handle: ThreadsLaunchHandle }).handle);
    // Handed over at the end of this turn of the event loop, all three together.
    await expect.poll(async () => (await launcher.status(handles)).map((status) => status.state)).toEqual(['running', 'running', 'running']);
    expect(pool().completed).toBe(3);
    await expect.poll(async () => (await runs(log)).map((run) => run.label), { timeout: 20_000 }).toContain('a');
    // Cancelling `b`, which waits behind `a` in the batch, ends the batch's thread: `b` never
    // starts; `a` (interrupted) and `c` run again, in a new thread.
    await launcher.cancel([handles[1]!]);
    expect(await json(join(handles[1]!.directory, 'failed'))).toMatchObject({ reason: 'cancelled', message: 'cancelled before it started' });
    await writeFile(release, '');
    await endOf(handles);
    expect(existsSync(join(handles[0]!.directory, 'done'))).toBe(true);
    expect(existsSync(join(handles[2]!.directory, 'done'))).toBe(true);
    const labels = (await runs(log)).map((run) => run.label);
    expect(labels.filter((label) => label === 'a')).toHaveLength(2);
    expect(labels.filter((label) => label === 'b')).toHaveLength(0);
    expect(labels.filter((label) => label === 'c')).toHaveLength(1);
  });

  it('keeps a thread (and the modules it loaded) for the next jobs, or with isolate starts a fresh one per job', async () => {
    for (const isolate of [false, true]) {
      const launcher = new ThreadsLauncher({ name: 'threads', connector, logger, pollIntervalMs: 60_000, maxThreads: 1, isolate });
      launchers.push(launcher);
      const handles: ThreadsLaunchHandle[] = [];
      for (const x of [1, 2]) {
        handles.push(await submitOne(launcher, await jobRequest(`${isolate}-${x}`, 'report', { x, when: { $date: '1970-01-01T00:00:00.000Z' } })));
      }
      await expect.poll(async () => (await launcher.status(handles)).map((status) => status.state), { timeout: 20_000 }).toEqual(['finished', 'finished']);
      const threadIds = await Promise.all(handles.map(async (handle) => (await json(join(handle.directory, 'result.json'))).threadId));
      if (isolate) expect(threadIds[0]).not.toBe(threadIds[1]);
      else expect(threadIds[0]).toBe(threadIds[1]);
    }
  });

  it('starts with one thread: jobs that end quickly all run in it, however many threads it may use', async () => {
    // Quick: no batch keeps its thread at work for a minute (its module's import included), even on a loaded machine.
    const launcher = newThreads({ maxThreads: 3, growAfterMs: 60_000 });
    const requests = await Promise.all(Array.from({ length: 24 }, (_, x) => jobRequest(`quick-${x}`, 'report', { x, when: { $date: '1970-01-01T00:00:00.000Z' } })));
    const handles = (await launcher.submit(requests)).map((outcome) => (outcome as { handle: ThreadsLaunchHandle }).handle);
    await expect.poll(async () => (await launcher.status(handles)).every((status) => status.state === 'finished'), { timeout: 20_000 }).toBe(true);
    const threadIds = await Promise.all(handles.map(async (handle) => (await json(join(handle.directory, 'result.json'))).threadId));
    expect(new Set(threadIds).size).toBe(1);
  });

  it('starts its first thread on warmUp, before any job; the first jobs then run in that thread, not a second one', async () => {
    const launcher = newThreads({ maxThreads: 3, growAfterMs: 60_000 });
    launcher.warmUp();
    launcher.warmUp();
    // Jobs handed over at once, while that thread is still starting.
    const requests = await Promise.all(Array.from({ length: 4 }, (_, x) => jobRequest(`warm-${x}`, 'report', { x, when: { $date: '1970-01-01T00:00:00.000Z' } })));
    const handles = (await launcher.submit(requests)).map((outcome) => (outcome as { handle: ThreadsLaunchHandle }).handle);
    await expect.poll(async () => (await launcher.status(handles)).every((status) => status.state === 'finished'), { timeout: 20_000 }).toBe(true);
    const threadIds = await Promise.all(handles.map(async (handle) => (await json(join(handle.directory, 'result.json'))).threadId));
    expect(new Set(threadIds).size).toBe(1);
    // One thread in the pool: the warm-up's, which ran the jobs.
    expect(launcher['pool'].threadCount).toBe(1);
  });

  it('closes at once after a warmUp that no job followed (every job of the experiment was done)', async () => {
    const launcher = newThreads();
    launcher.warmUp();
    await launcher.close();
    expect(launcher['pool'].threadCount).toBe(0);
    // Closed: a later hint starts nothing, and a job is refused as before.
    launcher.warmUp();
    expect(launcher['pool'].threadCount).toBe(0);
    const [outcome] = await launcher.submit([await jobRequest('after-close', 'report', { x: 1 })]);
    expect(outcome).toMatchObject({ failure: { reason: 'rejected' } });
  });

  it('adds threads, up to maxThreads, while jobs wait behind one at work', async () => {
    const launcher = newThreads({ maxThreads: 3 });
    const log = join(root, 'log');
    const release = join(root, 'release');
    const requests = await Promise.all(['l1', 'l2', 'l3', 'l4'].map((label) => jobRequest(label, 'sleeper', { log, label, ms: 60_000, release })));
    const handles = (await launcher.submit(requests)).map((outcome) => (outcome as { handle: ThreadsLaunchHandle }).handle);
    // Three run at once, one per thread; the fourth waits for one of them.
    await expect.poll(async () => (await runs(log)).length, { timeout: 20_000 }).toBe(3);
    expect((await launcher.status(handles)).map((status) => status.state).sort()).toEqual(['queued', 'running', 'running', 'running']);
    await writeFile(release, '');
    await expect.poll(async () => (await launcher.status(handles)).every((status) => status.state === 'finished'), { timeout: 20_000 }).toBe(true);
    expect(mostAtOnce(await runs(log))).toBe(3);
  });

  it('takes many separate submits without piling up listeners on the pool', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.name);
    process.on('warning', onWarning);
    try {
      const launcher = newThreads();
      const handles: ThreadsLaunchHandle[] = [];
      for (let i = 0; i < 12; i++) handles.push(await submitOne(launcher, await jobRequest(`many-${i}`, 'sleeper', { log: join(root, 'log'), label: `m${i}`, ms: 0 })));
      await expect.poll(async () => (await launcher.status(handles)).every((status) => status.state === 'finished'), { timeout: 20_000 }).toBe(true);
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings).not.toContain('MaxListenersExceededWarning');
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('tells the scheduler at once through onChange when jobs end, and once that the thread wrote the done marker', async () => {
    const launcher = newThreads();
    let notified = 0;
    launcher.onChange(() => notified++);
    const handle = await submitOne(launcher, await jobRequest('quick', 'sleeper', { log: join(root, 'log'), label: 'q', ms: 0 }));
    await expect.poll(() => notified, { timeout: 20_000 }).toBeGreaterThan(0);
    // The scheduler then records the job done without a look at its directory.
    expect(await launcher.status([handle])).toEqual([{ state: 'finished', marker: 'done' }]);
    expect(existsSync(join(handle.directory, 'done'))).toBe(true);
    // Said once: a later query (another poll, another process) reads the markers.
    expect(await launcher.status([handle])).toEqual([{ state: 'finished' }]);
  });

  it('does not say a failed job was marked done', async () => {
    const launcher = newThreads();
    let notified = 0;
    launcher.onChange(() => notified++);
    const handle = await submitOne(launcher, await jobRequest('throws', 'failing', { why: 'no' }));
    await expect.poll(() => notified, { timeout: 20_000 }).toBeGreaterThan(0);
    expect(await launcher.status([handle])).toEqual([{ state: 'finished' }]);
    expect(existsSync(join(handle.directory, 'failed'))).toBe(true);
  });

  it('sees a job run by another experiment process as running while that process lives, and not after', async () => {
    const launcher = newThreads();
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    const pid = child.pid!;
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const processStart = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
    const handle: ThreadsLaunchHandle = {
      launcher: 'threads',
      kind: 'threads',
      host: connector.hostname,
      directory: join(root, 'x'),
      pid,
      processStart,
      submittedAt: new Date().toISOString(),
    };
    try {
      expect(await launcher.status([handle])).toEqual([{ state: 'running', detail: `in a thread of process ${pid}` }]);
      // Same pid, another process (the pid was reused): not the one that ran the job.
      expect(await launcher.status([{ ...handle, processStart: '1' } as ThreadsLaunchHandle])).toEqual([{ state: 'finished' }]);
      // Another host: this launcher cannot tell.
      expect((await launcher.status([{ ...handle, host: `not-${connector.hostname}` }]))[0]!.state).toBe('unknown');
    } finally {
      child.kill('SIGKILL');
    }
    await new Promise((resolve) => child.once('exit', resolve));
    expect(await launcher.status([handle])).toEqual([{ state: 'finished' }]);
  });
});

describe('threads launcher across processes', () => {
  it('cancels a job that runs in a thread of another experiment process, which goes on with its other jobs', async () => {
    const log = join(root, 'log');
    const release = join(root, 'release');
    const fixture = new URL('./__fixtures__/threadsExperiment.ts', import.meta.url).pathname;
    const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@baton/source', fixture, root, log, release], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      await expect.poll(async () => (await runs(log)).map((run) => run.label).sort(), { timeout: 20_000 }).toEqual(['later', 'slow']);
      const directories = JSON.parse(output.split('\n')[0]!) as { slow: string; later: string };
      const handle = (await json(join(directories.slow, 'process.json'))) as unknown as ThreadsLaunchHandle;
      expect(handle).toMatchObject({ kind: 'threads', pid: child.pid, inProcess: true });
      // Another process's job: this launcher asks that process, which terminates the job's thread.
      await newThreads().cancel([handle]);
      expect(await json(join(directories.slow, 'failed'))).toMatchObject({ code: null, reason: 'cancelled', message: expect.stringContaining(`on request of process ${process.pid}`) });
      expect(existsSync(join(directories.slow, 'cancel-request'))).toBe(false);
      // The experiment goes on: its other job ends as it would.
      await writeFile(release, '');
      expect(await exited).toBe(0);
      expect(JSON.parse(output.trim().split('\n').pop()!)).toEqual({ slow: ['failed', 'cancelled'], later: ['done'] });
    } finally {
      child.kill('SIGKILL');
    }
  });
});

describe('threads plugin entry', () => {
  it('declares the threads launcher with validated settings and defaults', async () => {
    const factory = plugin.launchers.threads;
    const settings = factory.settings.parse({ maxThreads: 3 });
    expect(settings).toEqual({ maxThreads: 3, pollInterval: 1000, idleTimeout: 10_000, isolate: false });
    const launcher = await factory.create(settings, { name: 'fn', workspacePath: root, connector, logger });
    launchers.push(launcher as ThreadsLauncher);
    expect(launcher).toMatchObject({ name: 'fn', kind: 'threads', maxThreads: 3, maxConcurrent: 384, pollIntervalMs: 1000 });
    const bounded = await factory.create(factory.settings.parse({ maxThreads: 2, maxConcurrent: 8 }), { name: 'fn', workspacePath: root, connector, logger });
    launchers.push(bounded as ThreadsLauncher);
    expect(bounded.maxConcurrent).toBe(8);
  });

  it('rejects an unknown key with a did-you-mean, and invalid values', () => {
    const workspace = { id: 'main', path: root, env: {}, launchers: { fn: { use: 'threads', maxThread: 4 } }, tokens: {} } as unknown as WorkspaceSettings;
    let error: unknown;
    try {
      validateLauncherBlocks({ workspace, plugins: [plugin] });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues).toContainEqual({
      path: expect.stringMatching(/launchers\.fn\.maxThread$/),
      message: 'unknown key "maxThread" (did you mean "maxThreads"?)',
    });
    expect(threadsLauncherSettings.safeParse({ maxThreads: 0 }).success).toBe(false);
    expect(threadsLauncherSettings.safeParse({ isolate: 'yes' }).success).toBe(false);
  });
});
