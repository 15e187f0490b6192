// The contract between the scheduler and a launcher, with an in-memory
// launcher as the seam (real launchers have their own suites against real
// processes and clusters).
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { LocalConnector } from '../connector/localConnector.ts';
import { experiment } from '../experiment/experiment.ts';
import { defineTask } from '../task/defineTask.ts';
import type { LaunchHandle, LaunchRequest, LaunchStatus, Launcher, SubmitOutcome } from '../types.ts';
import type { Workspace } from '../workspace/workspace.ts';
import { InProcessLauncher, workspaceWith as inProcessWorkspace } from './__fixtures__/inProcessLauncher.ts';

const work = defineTask({ id: 'work', params: z.object({ i: z.number() }), command: (p) => ['echo', String(p.i)] });

/** A launcher whose jobs do what the test says. */
class ScriptedLauncher implements Launcher {
  readonly name = 'scripted';
  readonly kind = 'scripted';
  readonly connector = new LocalConnector();
  readonly host = {};
  readonly submitDelayMs = 30;
  readonly submits: LaunchRequest[][] = [];
  readonly statusCalls: { at: number; count: number }[] = [];
  readonly cancelled: LaunchHandle[] = [];
  /** What status() answers per job directory; default queued. */
  readonly states = new Map<string, LaunchStatus>();
  reject?: string;
  #next = 1;

  constructor(
    readonly pollIntervalMs = 20,
    readonly maxConcurrent?: number,
  ) {}

  async submit(requests: readonly LaunchRequest[]): Promise<SubmitOutcome[]> {
    this.submits.push([...requests]);
    return requests.map((request) =>
      this.reject
        ? { failure: { code: null, reason: 'rejected' as const, message: this.reject } }
        : { handle: { launcher: this.name, kind: this.kind, host: 'cluster', directory: request.directory, clusterId: String(this.#next++), submittedAt: new Date().toISOString() } },
    );
  }

  async status(handles: readonly LaunchHandle[]): Promise<LaunchStatus[]> {
    this.statusCalls.push({ at: Date.now(), count: handles.length });
    return handles.map((handle) => this.states.get(handle.directory) ?? { state: 'queued' });
  }

  async cancel(handles: readonly LaunchHandle[]): Promise<void> {
    this.cancelled.push(...handles);
  }

  inFlight(): number {
    return this.submits.flat().filter((request) => !existsSync(join(request.directory, 'done')) && this.states.get(request.directory)?.state !== 'finished').length;
  }
}

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'baton-sched-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

function workspaceWith(launcher: Launcher): Workspace {
  return {
    id: 'test',
    path: root,
    env: {},
    connector: new LocalConnector(),
    launchers: new Map([[launcher.name, launcher]]),
    defaultLauncher: launcher.name,
    tokens: new Map(),
    close: async () => undefined,
  };
}

/** Plays the job's part: writes the marker job.sh would write, and tells the launcher it finished. */
async function finish(launcher: ScriptedLauncher, request: LaunchRequest, outcome: 'done' | 'failed' = 'done'): Promise<void> {
  if (outcome === 'done') await writeFile(join(request.directory, 'done'), '');
  else await writeFile(join(request.directory, 'failed'), JSON.stringify({ code: 2, reason: 'failed', message: 'exited with code 2' }));
  launcher.states.set(request.directory, { state: 'finished' });
}

const until = async (condition: () => boolean, timeoutMs = 5000) => {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};

describe('scheduler and launcher', () => {
  it('submits ready jobs in one batch and asks status once per poll for all of them', async () => {
    const launcher = new ScriptedLauncher();
    await using xp = await experiment({ name: 'batch', openedWorkspace: workspaceWith(launcher) });
    for (let i = 0; i < 5; i++) xp.submit(work, { i });
    await until(() => launcher.submits.length > 0);
    await until(() => launcher.statusCalls.length >= 2);
    expect(launcher.submits.map((batch) => batch.length)).toEqual([5]);
    expect(launcher.statusCalls.every((call) => call.count === 5)).toBe(true);
    for (const request of launcher.submits[0]!) await finish(launcher, request);
    const summary = await xp.wait();
    expect(summary.counts.done).toBe(5);
    const handle = JSON.parse(await readFile(join(launcher.submits[0]![0]!.directory, 'process.json'), 'utf8'));
    expect(handle).toMatchObject({ kind: 'scripted', clusterId: '1' });
  });

  it('keeps at most maxConcurrent jobs in flight', async () => {
    const launcher = new ScriptedLauncher(10, 2);
    await using xp = await experiment({ name: 'bound', openedWorkspace: workspaceWith(launcher) });
    for (let i = 0; i < 6; i++) xp.submit(work, { i });
    let finished = 0;
    while (finished < 6) {
      await until(() => launcher.submits.flat().length > finished);
      expect(launcher.inFlight()).toBeLessThanOrEqual(2);
      await finish(launcher, launcher.submits.flat()[finished]!);
      finished++;
    }
    expect((await xp.wait()).counts.done).toBe(6);
  });

  it("uses the launcher's verdict when the job left no marker, and writes it down", async () => {
    const launcher = new ScriptedLauncher();
    await using xp = await experiment({ name: 'verdict', openedWorkspace: workspaceWith(launcher) });
    const job = xp.submit(work, { i: 1 });
    await until(() => launcher.submits.length > 0);
    launcher.states.set(job.directory, { state: 'finished', failure: { code: null, reason: 'timeout', message: 'DUE TO TIME LIMIT' } });
    await xp.wait();
    expect(job.failure).toEqual({ code: null, reason: 'timeout', message: 'DUE TO TIME LIMIT' });
    expect(JSON.parse(await readFile(join(job.directory, 'failed'), 'utf8')).reason).toBe('timeout');
  });

  it('counts a job that ended without a marker or a verdict as lost', async () => {
    const launcher = new ScriptedLauncher();
    await using xp = await experiment({ name: 'lost', openedWorkspace: workspaceWith(launcher) });
    const job = xp.submit(work, { i: 1 });
    await until(() => launcher.submits.length > 0);
    launcher.states.set(job.directory, { state: 'finished' });
    await xp.wait();
    expect(job.failure?.reason).toBe('lost');
  });

  it("records a job done without looking at its directory when the launcher saw its done marker written (marker: 'done')", async () => {
    const launcher = new ScriptedLauncher();
    await using xp = await experiment({ name: 'told-done', openedWorkspace: workspaceWith(launcher) });
    const job = xp.submit(work, { i: 1 });
    await until(() => launcher.submits.length > 0);
    // No marker on disk: a look would find the job lost (the test above); the launcher's word is taken.
    launcher.states.set(job.directory, { state: 'finished', marker: 'done' });
    const summary = await xp.wait();
    expect(job.state).toBe('done');
    expect(summary.counts.done).toBe(1);
    expect(existsSync(join(job.directory, 'done'))).toBe(false);
  });

  it('reports a rejected submission with the launcher\'s message', async () => {
    const launcher = new ScriptedLauncher();
    launcher.reject = 'sbatch: error: invalid partition specified: nope';
    await using xp = await experiment({ name: 'rejected', openedWorkspace: workspaceWith(launcher) });
    const job = xp.submit(work, { i: 1 });
    const summary = await xp.wait();
    expect(job.failure).toEqual({ code: null, reason: 'rejected', message: 'sbatch: error: invalid partition specified: nope' });
    expect(summary.failed).toHaveLength(1);
  });

  it('shows pending reasons and polls less often while nothing changes', async () => {
    const launcher = new ScriptedLauncher(20);
    await using xp = await experiment({ name: 'backoff', openedWorkspace: workspaceWith(launcher) });
    const details: (string | undefined)[] = [];
    xp.events.on('job-state', (event) => details.push(event.detail));
    const job = xp.submit(work, { i: 1 });
    await until(() => launcher.submits.length > 0);
    launcher.states.set(job.directory, { state: 'queued', detail: 'Priority' });
    await until(() => launcher.statusCalls.length >= 7, 10_000);
    const gaps = launcher.statusCalls.slice(1).map((call, i) => call.at - launcher.statusCalls[i]!.at);
    expect(job.detail).toBe('Priority');
    // The reason arrived while the job stayed queued: an event tells the CLI.
    expect(details).toContain('Priority');
    expect(gaps[gaps.length - 1]!).toBeGreaterThan(gaps[1]! * 2);
    launcher.states.set(job.directory, { state: 'running' });
    await until(() => job.state === 'running', 10_000);
    await finish(launcher, launcher.submits[0]![0]!);
    await xp.wait();
    expect(job.state).toBe('done');
  });

  it('cancels every job in flight with one call when stopped with kill', async () => {
    const launcher = new ScriptedLauncher();
    const xp = await experiment({ name: 'cancel', openedWorkspace: workspaceWith(launcher) });
    for (let i = 0; i < 3; i++) xp.submit(work, { i });
    await until(() => launcher.submits.flat().length === 3);
    await xp.stop({ kill: true });
    expect(launcher.cancelled).toHaveLength(3);
    // One job's script saw its command die of the signal before its own trap ran.
    await writeFile(join(launcher.submits.flat()[0]!.directory, 'failed'), JSON.stringify({ code: 143, reason: 'failed', message: 'exited with code 143' }));
    for (const request of launcher.submits.flat()) launcher.states.set(request.directory, { state: 'finished' });
    await until(() => xp.jobs.every((job) => job.isFinished));
    expect(xp.jobs.map((job) => job.failure?.reason)).toEqual(['cancelled', 'cancelled', 'cancelled']);
    // The marker says what the user was told.
    expect(JSON.parse(await readFile(join(launcher.submits.flat()[0]!.directory, 'failed'), 'utf8'))).toMatchObject({ code: 143, reason: 'cancelled' });
    await xp.close();
  });
});

describe('polls after a launch, for a launcher that tells of changes', () => {
  it('sees a job that ended before the scheduler followed it at once, not at the next poll', async () => {
    // Its end was told while submit() ran: the poll that caused saw no such job in flight.
    const launcher = new InProcessLauncher({ endWhileSubmitting: true, pollIntervalMs: 60_000 });
    await using xp = await experiment({ name: 'ended-early', openedWorkspace: inProcessWorkspace(root, [launcher]) });
    const started = Date.now();
    for (let i = 0; i < 3; i++) xp.submit(work, { i });
    const summary = await xp.wait();
    expect(summary.counts.done).toBe(3);
    expect(Date.now() - started).toBeLessThan(10_000);
  }, 20_000);

  it('does not ask for status after each launch when nothing changed meanwhile', async () => {
    // Jobs run until finished: launches come one by one, and no change is told.
    const launcher = new InProcessLauncher({ runMs: () => undefined, pollIntervalMs: 60_000 });
    await using xp = await experiment({ name: 'quiet-launches', openedWorkspace: inProcessWorkspace(root, [launcher]) });
    const jobs = [];
    for (let i = 0; i < 4; i++) {
      jobs.push(xp.submit(work, { i }));
      await until(() => launcher.submitted.length === i + 1);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(launcher.batches.length).toBeGreaterThan(1);
    expect(launcher.statusCalls).toEqual([]);
    for (const job of jobs) await launcher.finish(job.directory);
    expect((await xp.wait()).counts.done).toBe(4);
  }, 20_000);
});

describe('tells launchers that jobs are coming (warmUp)', () => {
  it('tells the default launcher once as the experiment opens, another one at its first job; never in a dry run', async () => {
    const main = new InProcessLauncher({ name: 'main', runMs: () => 0 });
    const other = new InProcessLauncher({ name: 'other', runMs: () => 0 });
    const workspace = inProcessWorkspace(root, [main, other]);
    await using xp = await experiment({ name: 'warm', openedWorkspace: workspace });
    // Before any job: the default launcher starts what its jobs will need while the run opens.
    expect(main.warmUps).toEqual([0]);
    expect(other.warmUps).toEqual([]);
    xp.submit(work, { i: 1 });
    xp.submit(work, { i: 2 }, { launcher: 'other' });
    xp.submit(work, { i: 3 }, { launcher: 'other' });
    expect((await xp.wait()).counts.done).toBe(3);
    expect(main.warmUps).toEqual([0]);
    expect(other.warmUps).toHaveLength(1);
    await xp.close();

    const dry = new InProcessLauncher({ name: 'main' });
    await using dryRun = await experiment({ name: 'warm-dry', openedWorkspace: inProcessWorkspace(root, [dry]), runMode: 'dry-run' });
    dryRun.submit(work, { i: 4 });
    await dryRun.wait();
    expect(dry.warmUps).toEqual([]);
  });

  it('runs the jobs of a launcher whose warmUp throws (a hint, not a step they need)', async () => {
    const launcher = new InProcessLauncher({
      runMs: () => 0,
      onWarmUp: () => {
        throw new Error('no warm-up today');
      },
    });
    await using xp = await experiment({ name: 'warm-fails', openedWorkspace: inProcessWorkspace(root, [launcher]) });
    xp.submit(work, { i: 1 });
    expect((await xp.wait()).counts.done).toBe(1);
    expect(launcher.warmUps).toEqual([0]);
  });
});
