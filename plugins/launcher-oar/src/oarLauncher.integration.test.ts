// The OAR launcher driven through real experiments against the real one-node OAR of
// `bash scripts/oar-cluster.sh start`. OAR refuses root's jobs: run as root (CI), this
// test process becomes the cluster's test user, and workspaces live in that user's home.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { experiment, type Experiment, type Job } from '@baton/core';
import { countPolls } from '@baton/core/testing';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { chain, checkpointing, exitWith, sleeper } from './__fixtures__/oarTasks.ts';
import type { OarLauncher } from './oarLauncher.ts';
import { becomeClusterUser, clusterUser, oarClusterUp, ServerControl, START_HINT } from './testing/oarCluster.ts';

const repositoryRoot = fileURLToPath(new URL('../../../', import.meta.url));
const driver = fileURLToPath(new URL('./__fixtures__/oarDriver.ts', import.meta.url));
const sleepExperiment = fileURLToPath(new URL('./__fixtures__/oarSleepExperiment.ts', import.meta.url));
const batonBin = join(repositoryRoot, 'packages', 'cli', 'bin', 'baton.js');

const clusterUp = oarClusterUp();
const inCI = process.env.CI === 'true';
if (!clusterUp && !inCI) console.warn(`OAR integration tests skipped: no OAR cluster answers \`oarnodes -s\`; ${START_HINT}`);

const roots: string[] = [];
const children: ChildProcess[] = [];
let server: ServerControl | undefined;
let home = '';

/** A folder in the cluster user's home with a settings file declaring OAR launchers; its workspace is `<root>/ws`. */
async function oarProject(): Promise<string> {
  const root = await mkdtemp(join(home, 'baton-oar-it-'));
  roots.push(root);
  await writeFile(
    join(root, 'baton.config.yaml'),
    [
      'plugins: [oar]',
      'workspaces:',
      '  - id: main',
      `    path: ${join(root, 'ws')}`,
      '    launcher: cluster',
      '    launchers:',
      "      cluster: { use: oar, walltime: '0:10:00', pollInterval: 500 }",
      "      tight: { use: oar, walltime: '0:00:20', pollInterval: 1000 }",
      "      ckpt: { use: oar, walltime: '0:00:50', pollInterval: 1000 }",
      "      held: { use: oar, walltime: '0:10:00', pollInterval: 500, extraArgs: ['--hold'] }",
      '      nope: { use: oar, queue: nosuchqueue }',
      '',
    ].join('\n'),
  );
  return root;
}

async function open(name: string): Promise<{ xp: Experiment; root: string }> {
  const root = await oarProject();
  return { xp: await experiment({ name, cwd: root }), root };
}

function oarLauncher(xp: Experiment, name = 'cluster'): OarLauncher {
  return xp.workspace.launchers.get(name) as OarLauncher;
}

/** The job's process.json: written once oarsub answered, so a fast job may have started before it. */
async function processFileIn(directory: string): Promise<{ clusterId: string; kind: string; submittedAt: string }> {
  const path = join(directory, 'process.json');
  await until(async () => (await readFile(path, 'utf8').catch(() => '')).trim() !== '', 30_000, `${path} to be written`);
  return JSON.parse(await readFile(path, 'utf8'));
}

async function until(condition: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const stdoutOf = (job: Job) => readFile(join(job.directory, 'stdout'), 'utf8').catch(() => '');

/** OAR's own record of a job (`oarstat -f -J`). */
function oarRecord(clusterId: string): { state: string; exit_code: number | null; events: { type: string }[] } {
  const run = spawnSync('oarstat', ['-f', '-J', '-j', clusterId], { encoding: 'utf8', timeout: 30_000 });
  return (JSON.parse(run.stdout) as Record<string, { state: string; exit_code: number | null; events: { type: string }[] }>)[clusterId]!;
}

/** OAR jobs of these tests still queued or running (a test that failed half-way): cancelled, so they do not hold the cluster's cores. */
function cancelLeftovers(): void {
  const listed = spawnSync('oarstat', ['-J', '-u', clusterUser().name], { encoding: 'utf8', timeout: 30_000 });
  let current: Record<string, { launchingDirectory?: string }> = {};
  try {
    current = JSON.parse(listed.stdout || '{}') as typeof current;
  } catch {
    return;
  }
  const ids = Object.entries(current)
    .filter(([, job]) => roots.some((root) => job.launchingDirectory?.startsWith(root)))
    .map(([id]) => id);
  if (ids.length > 0) spawnSync('oardel', ids, { stdio: 'ignore', timeout: 30_000 });
}

interface ListedJob {
  directory: string;
  state: string;
  failure?: { code: number | null; reason: string };
  detail?: string;
}

/** The real `baton` command run in the project, as a user would. */
async function batonCommand(root: string, args: string[]): Promise<{ code: number | null; stdout: string; output: string }> {
  const child = spawn(process.execPath, [batonBin, ...args], {
    cwd: root,
    env: { ...process.env, NO_COLOR: '1', XDG_CONFIG_HOME: root, BATON_WORKSPACE: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { code, stdout, output: `${stdout}${stderr}` };
}

/** `baton jobs list --json`: the real CLI asks the OAR launcher about cluster jobs. */
async function jobsList(root: string): Promise<Map<string, ListedJob>> {
  const listed = await batonCommand(root, ['jobs', 'list', '--json']);
  if (listed.code !== 0) throw new Error(`baton jobs list exited with ${listed.code}: ${listed.output}`);
  return new Map((JSON.parse(listed.stdout) as ListedJob[]).map((job) => [job.directory, job]));
}

/** `baton run-experiment` of one sleeper job in the project, left running, to be interrupted as a user would. */
function startRunExperiment(root: string, options: { id: string; seconds: number; kill?: boolean }) {
  const args = ['run-experiment', ...(options.kill ? ['--kill'] : []), '--file', sleepExperiment, '-c', `id=${options.id}`, '-c', `seconds=${options.seconds}`, '-c', `label=${options.id}`];
  const child = spawn(process.execPath, [batonBin, ...args], {
    cwd: root,
    env: { ...process.env, NO_COLOR: '1', XDG_CONFIG_HOME: root, BATON_WORKSPACE: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, exited, output: () => output };
}

/** The directory of the project's only sleeper job, once its job has started on the node. */
async function startedSleeper(root: string, output: () => string): Promise<string> {
  const jobs = join(root, 'ws', 'jobs', 'sleeper');
  let directory = '';
  await until(
    async () => {
      const hashes = await readdir(jobs).catch(() => [] as string[]);
      directory = hashes.length === 1 ? join(jobs, hashes[0]!) : '';
      return directory !== '' && (await readFile(join(directory, 'stdout'), 'utf8').catch(() => '')).includes('started');
    },
    240_000,
    `the sleeper job to start (baton said: ${output()})`,
  );
  return directory;
}

function startDriver(options: { cwd: string; name: string; seconds: number }) {
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@baton/source', driver, JSON.stringify(options)], { cwd: repositoryRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, output: () => output };
}

describe.skipIf(!clusterUp && !inCI)('OAR launcher on a real cluster', () => {
  beforeAll(() => {
    if (!clusterUp) throw new Error(`CI=true but no OAR cluster answers \`oarnodes -s\`: the OAR integration suite cannot run; ${START_HINT}`);
    const user = clusterUser();
    // Before giving up root: the helper that can stop and start the OAR server.
    server = new ServerControl();
    becomeClusterUser(user);
    home = user.home;
  });

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    cancelLeftovers();
    server?.close();
    await Promise.all(roots.map((root) => rm(root, { recursive: true, force: true })));
  });

  // Independent tests run side by side: the walltimes alone take most of a minute each.
  describe.concurrent('jobs', () => {
    it('runs jobs to success and failure with their real exit codes', async ({ expect }) => {
      const { xp, root } = await open('exit-codes');
      const ok = xp.submit(exitWith, { code: 0 }, { launcher: 'tight' });
      const bad = xp.submit(exitWith, { code: 3 }, { launcher: 'tight' });
      const summary = await xp.wait();
      await xp.close();
      expect(ok.state).toBe('done');
      const okId = (await processFileIn(ok.directory)).clusterId;
      expect(await stdoutOf(ok)).toBe(`exiting with 0 () in OAR job ${okId}\n`);
      expect(bad.state).toBe('failed');
      expect(bad.failure).toMatchObject({ code: 3, reason: 'failed' });
      expect(summary.counts).toMatchObject({ done: 1, failed: 1 });
      const badId = (await processFileIn(bad.directory)).clusterId;
      // OAR's exit_code is the raw wait status: exit 3 is 768.
      await until(() => oarRecord(badId).state === 'Terminated', 30_000, `OAR job ${badId} to be Terminated`);
      expect(oarRecord(badId).exit_code).toBe(768);
      expect((await processFileIn(ok.directory)).kind).toBe('oar');
      const listed = await jobsList(root);
      expect(listed.get(ok.directory)).toMatchObject({ state: 'done' });
      expect(listed.get(bad.directory)).toMatchObject({ state: 'failed', failure: { code: 3, reason: 'failed' } });
    });

    it('cancels waiting (held) and running jobs with one oardel per launcher when the experiment is stopped with kill', async ({ expect }) => {
      const { xp, root } = await open('cancel');
      const running = xp.submit(sleeper, { seconds: 300, label: 'cancel-me' });
      await until(async () => (await stdoutOf(running)).includes('started'), 240_000, 'the job to start');
      const held = xp.submit(sleeper, { seconds: 300, label: 'never-runs' }, { launcher: 'held' });
      await until(() => held.state === 'queued' && existsSync(join(held.directory, 'process.json')), 30_000, 'the held job to be queued');
      // OAR's reason for a job that waits is shown, live and in `baton jobs list`.
      const heldId = (await processFileIn(held.directory)).clusterId;
      await until(async () => (await jobsList(root)).get(held.directory)?.detail?.includes('held by OAR') === true, 30_000, 'jobs list to say held');
      expect((await jobsList(root)).get(held.directory)?.detail).toContain(`oarresume ${heldId}`);
      await xp.stop({ kill: true });
      await until(() => running.state === 'failed' && held.state === 'failed', 60_000, 'both jobs to be reported cancelled');
      await xp.close();
      expect(running.failure?.reason).toBe('cancelled');
      expect(held.failure?.reason).toBe('cancelled');
      expect(oarLauncher(xp).commandCounts.oardel).toBe(1);
      expect(oarLauncher(xp, 'held').commandCounts.oardel).toBe(1);
      for (const job of [running, held]) {
        const { clusterId } = await processFileIn(job.directory);
        // Baton records the cancel from the marker; OAR may not have ended the job yet (Running, then Finishing).
        await until(() => ['Terminated', 'Error'].includes(oarRecord(clusterId).state), 60_000, `OAR job ${clusterId} to end`);
        const record = oarRecord(clusterId);
        expect(record.state).toBe('Error');
        expect(record.events.map((event) => event.type)).toContain('FRAG_JOB_REQUEST');
      }
      expect(JSON.parse(await readFile(join(running.directory, 'failed'), 'utf8')).reason).toBe('cancelled');
      expect(await stdoutOf(running)).toBe('started\n');
      const listed = await jobsList(root);
      for (const job of [running, held]) expect(listed.get(job.directory)).toMatchObject({ state: 'failed', failure: { reason: 'cancelled' } });
    });

    it('classifies a real walltime kill as a timeout, not a cancel', async ({ expect }) => {
      const { xp, root } = await open('walltime');
      const job = xp.submit(sleeper, { seconds: 600, label: 'too-long' }, { launcher: 'tight' });
      await xp.wait();
      await xp.close();
      expect(job.state).toBe('failed');
      expect(job.failure?.reason).toBe('timeout');
      expect(job.failure?.message).toContain('walltime');
      const { clusterId } = await processFileIn(job.directory);
      expect(oarRecord(clusterId).events.map((event) => event.type)).toContain('WALLTIME');
      // OAR kills the job before job.sh can write a marker: the launcher writes it from OAR's
      // record (when and where it ran), and `baton jobs list` says the same as the live output.
      const written = JSON.parse(await readFile(join(job.directory, 'failed'), 'utf8')) as Record<string, number | string>;
      expect(written).toMatchObject({ reason: 'timeout', host: expect.any(String) });
      expect((written.end as number) - (written.start as number)).toBeGreaterThanOrEqual(20);
      expect((await jobsList(root)).get(job.directory)).toMatchObject({ state: 'failed', failure: { reason: 'timeout' } });
    });

    it('resubmits a resumable task after its walltime: signalled ahead, it checkpoints, and the next attempt resumes', async ({ expect }) => {
      const { xp } = await open('resumable');
      const job = xp.submit(checkpointing, { label: 'ckpt' }, { launcher: 'ckpt' });
      const firstId = (await processFileIn(job.directory)).clusterId;
      await xp.wait();
      await xp.close();
      const log = await stdoutOf(job);
      // Each attempt is an OAR job; OAR's events say which ones it signalled ahead of the walltime.
      // Its sarko sends the signal only between the server's other work: a busy server (other tests'
      // 50-job array) may let an attempt reach its walltime unsignalled, which is resubmitted too.
      const attempts = [...new Set([...log.matchAll(/ in (\d+)$/gm)].map((match) => match[1]!))];
      const events = new Map(attempts.map((id) => [id, oarRecord(id).events.map((event) => event.type)]));
      const context = `stdout:\n${log}OAR events by attempt: ${JSON.stringify(Object.fromEntries(events))}`;
      expect(job.state, context).toBe('done');
      expect(log, context).toMatch(new RegExp(`^started ckpt in ${firstId}\\n`));
      // Logs append across attempts; the last two lines: one attempt checkpointed on SIGUSR2, the next one resumed.
      const [, checkpointedIn, resumedIn] = /checkpointed in (\d+)\nresumed in (\d+)\n$/.exec(log) ?? [];
      expect(checkpointedIn, context).toBeDefined();
      expect(resumedIn, context).not.toBe(checkpointedIn);
      expect(events.get(checkpointedIn!), context).toContain('CHECKPOINT_SUCCESSFULL');
      // Every attempt that OAR signalled checkpointed: job.sh passed the signal on to the task.
      for (const [id, types] of events) {
        if (types.includes('CHECKPOINT_SUCCESSFULL')) expect(log, context).toContain(`checkpointed in ${id}\n`);
      }
      expect((await processFileIn(job.directory)).clusterId).toBe(resumedIn);
    });

    it('submits a batch of 50 jobs as one OAR array, each task in its own job directory, with one oarstat per poll', async ({ expect }) => {
      const { xp } = await open('array');
      const polls = countPolls(oarLauncher(xp));
      const jobs = Array.from({ length: 50 }, (_, index) => xp.submit(exitWith, { code: index === 7 ? 5 : 0, label: `task${index}` }));
      const summary = await xp.wait();
      await xp.close();
      expect(summary.counts).toMatchObject({ done: 49, failed: 1 });
      const counts = oarLauncher(xp).commandCounts;
      expect(counts.oarsub).toBe(1);
      for (const [index, job] of jobs.entries()) {
        // Each task ran its own job.sh: the OAR job id it printed is the one its handle has.
        const { clusterId } = await processFileIn(job.directory);
        expect(await stdoutOf(job)).toBe(`exiting with ${index === 7 ? 5 : 0} (task${index}) in OAR job ${clusterId}\n`);
      }
      expect(jobs[7]!.failure).toMatchObject({ code: 5, reason: 'failed' });
      // One status query per poll, not one per job: the polls asked about many jobs at once,
      // and no poll ran more than one oarstat (however long the cluster took).
      expect(polls.largest).toBeGreaterThanOrEqual(25);
      expect(counts.oarstat).toBeLessThanOrEqual(polls.calls);
    });

    it('runs a dependency chain across OAR jobs in order', async ({ expect }) => {
      const { xp } = await open('chain');
      const first = xp.submit(chain, { label: 'one' });
      const second = xp.submit(chain, { input: first.path('stdout'), label: 'two' });
      const third = xp.submit(chain, { input: second.path('stdout'), label: 'three' });
      await xp.wait();
      await xp.close();
      expect(await stdoutOf(third)).toBe('one\ntwo\nthree\n');
      const ids = await Promise.all([first, second, third].map(async (job) => Number((await processFileIn(job.directory)).clusterId)));
      expect(ids[0]).toBeLessThan(ids[1]!);
      expect(ids[1]).toBeLessThan(ids[2]!);
    });

    it("reports a rejected submission with oarsub's own message", async ({ expect }) => {
      const { xp } = await open('rejected');
      const job = xp.submit(exitWith, { code: 0 }, { launcher: 'nope' });
      await xp.wait();
      await xp.close();
      expect(job.state).toBe('failed');
      expect(job.failure).toMatchObject({ code: null, reason: 'rejected' });
      expect(job.failure?.message).toMatch(/oarsub refused the job/);
      expect(job.failure?.message).toContain('nosuchqueue');
      expect(oarLauncher(xp, 'nope').commandCounts.oarsub).toBe(1);
    });

    it('cancels a running OAR job with `baton jobs kill` from another process', async ({ expect }) => {
      const root = await oarProject();
      const running = startDriver({ cwd: root, name: 'jobs-kill', seconds: 300 });
      await until(() => running.output().includes('state running'), 240_000, 'the job to run');
      const directory = /^job (.+)$/m.exec(running.output())![1]!;
      const { clusterId } = await processFileIn(directory);
      const kill = await batonCommand(root, ['jobs', 'kill', directory]);
      expect(kill.code, kill.output).toBe(0);
      // The experiment following the job sees it end as cancelled.
      expect(await running.exited, running.output()).toBe(1);
      expect(running.output()).toMatch(/failure \{"code":[^}]*"reason":"cancelled"/);
      await until(() => oarRecord(clusterId).state === 'Error', 30_000, `OAR job ${clusterId} to be in Error`);
      expect(oarRecord(clusterId).events.map((event) => event.type)).toContain('FRAG_JOB_REQUEST');
      expect(JSON.parse(await readFile(join(directory, 'failed'), 'utf8')).reason).toBe('cancelled');
    });

    it('leaves its OAR job running on Ctrl-C of `baton run-experiment`, and re-attaches to it on the next run', async ({ expect }) => {
      const root = await oarProject();
      const first = startRunExperiment(root, { id: 'ctrl-c', seconds: 30 });
      const directory = await startedSleeper(root, first.output);
      const { clusterId } = await processFileIn(directory);
      first.child.kill('SIGINT');
      expect(await first.exited, first.output()).toBe(130);
      // The command says what still runs and how to cancel it; OAR still runs it.
      expect(first.output()).toContain(`baton jobs kill ${directory}`);
      expect(['Running', 'Finishing', 'Terminated']).toContain(oarRecord(clusterId).state);
      expect(existsSync(join(directory, 'failed'))).toBe(false);
      const second = startRunExperiment(root, { id: 'ctrl-c', seconds: 30 });
      expect(await second.exited, second.output()).toBe(0);
      expect(second.output()).toMatch(/Finished: 1 jobs? \(1 done\)/);
      // The same OAR job, run once: not submitted a second time.
      expect((await processFileIn(directory)).clusterId).toBe(clusterId);
      expect(await readFile(join(directory, 'stdout'), 'utf8')).toBe('started\nslept\n');
      // Baton is done once job.sh wrote its marker; OAR may not have seen the job end yet (Running, then Finishing).
      await until(() => ['Terminated', 'Error'].includes(oarRecord(clusterId).state), 60_000, `OAR job ${clusterId} to end`);
      expect(oarRecord(clusterId)).toMatchObject({ state: 'Terminated', exit_code: 0 });
    });

    it('cancels its OAR job on Ctrl-C of `baton run-experiment --kill`', async ({ expect }) => {
      const root = await oarProject();
      const run = startRunExperiment(root, { id: 'kill-on-ctrl-c', seconds: 300, kill: true });
      const directory = await startedSleeper(root, run.output);
      const { clusterId } = await processFileIn(directory);
      run.child.kill('SIGINT');
      expect(await run.exited, run.output()).toBe(130);
      await until(() => oarRecord(clusterId).state === 'Error', 60_000, `OAR job ${clusterId} to be in Error`);
      expect(oarRecord(clusterId).events.map((event) => event.type)).toContain('FRAG_JOB_REQUEST');
      expect(JSON.parse(await readFile(join(directory, 'failed'), 'utf8')).reason).toBe('cancelled');
      expect(await readFile(join(directory, 'stdout'), 'utf8')).toBe('started\n');
      expect((await jobsList(root)).get(directory)).toMatchObject({ state: 'failed', failure: { reason: 'cancelled' } });
    });

    it('re-attaches to its OAR job after the experiment process is killed, without submitting it again', async ({ expect }) => {
      const root = await oarProject();
      const first = startDriver({ cwd: root, name: 'reattach', seconds: 20 });
      await until(() => first.output().includes('state running'), 240_000, 'the job to run');
      const directory = /^job (.+)$/m.exec(first.output())![1]!;
      const before = (await processFileIn(directory)).clusterId;
      first.child.kill('SIGKILL');
      await first.exited;
      const second = startDriver({ cwd: root, name: 'reattach', seconds: 20 });
      expect(await second.exited, second.output()).toBe(0);
      expect(second.output()).toContain('summary {"waiting":0,"ready":0,"queued":0,"running":0,"done":1,"failed":0}');
      expect(second.output()).toMatch(/commands \{"oarsub":0,/);
      expect((await processFileIn(directory)).clusterId).toBe(before);
      expect(await readFile(join(directory, 'stdout'), 'utf8')).toBe('started\nslept\n');
    });
  });

  it('loses no job when the OAR server is down for 30 s in the middle of a run', async ({ expect, skip }) => {
    if (!server?.available) skip('stopping the OAR server needs root or passwordless sudo');
    const { xp } = await open('server-outage');
    const wave1 = Array.from({ length: 6 }, (_, index) => xp.submit(sleeper, { seconds: 15, label: `wave1-${index}` }));
    await until(() => wave1.every((job) => job.state === 'running'), 60_000, 'the first wave to run');
    await server!.run('stop-server');
    try {
      // Submitted while the server is away.
      const wave2 = Array.from({ length: 3 }, (_, index) => xp.submit(sleeper, { seconds: 2, label: `wave2-${index}` }));
      await sleep(30_000);
      await server!.run('start-server');
      const summary = await xp.wait();
      await xp.close();
      expect(summary.failed).toEqual([]);
      expect(summary.counts.done).toBe(9);
      // One array per wave: the second wave's oarsub registered its jobs but could not reach the
      // server (exit 9); they were followed, not submitted again, and each ran once.
      expect(oarLauncher(xp).commandCounts.oarsub).toBe(2);
      for (const job of [...wave1, ...wave2]) expect(await stdoutOf(job)).toBe('started\nslept\n');
    } finally {
      if (!oarClusterUp()) await server!.run('start-server');
    }
  });
});
