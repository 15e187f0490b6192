// The launcher against a fake connector whose oarsub, oarstat and oardel answer
// like OAR 2.5.9's: the argv it builds and how it reads the answers.
// The real cluster is in oarLauncher.integration.test.ts.
import { createLogger, shellQuote } from '@baton/core';
import type { LaunchHandle, LaunchRequest, SubmitOutcome } from '@baton/core';
import { describe, expect, it } from 'vitest';
import { ADMISSION_CHATTER, FakeConnector, FakeOar } from './__fixtures__/fakeConnector.ts';
import plugin from './index.ts';
import { OarLauncher, unusablePath } from './oarLauncher.ts';
import { oarLauncherSettings } from './oarSettings.ts';

const logger = createLogger('baton:test:launcher-oar');
const WORKSPACE = '/home/batontest/ws';

function newLauncher(connector: FakeConnector, settings: Record<string, unknown> = {}, options: { missingGraceMs?: number; workspacePath?: string } = {}) {
  return new OarLauncher({
    name: 'cluster',
    connector,
    logger,
    workspacePath: options.workspacePath ?? WORKSPACE,
    settings: oarLauncherSettings.parse(settings),
    retryBaseMs: 1,
    ...(options.missingGraceMs === undefined ? {} : { missingGraceMs: options.missingGraceMs }),
  });
}

function request(index: number, extra: Partial<LaunchRequest> = {}): LaunchRequest {
  const hash = `${index}`.padStart(8, '0') + 'f'.repeat(56);
  const directory = `${WORKSPACE}/jobs/train/${hash}`;
  return { taskId: 'train', hash, directory, scriptPath: `${directory}/job.sh`, name: `train-${hash.slice(0, 8)}`, requirements: {}, ...extra };
}

function handle(clusterId: string, extra: Partial<LaunchHandle> = {}): LaunchHandle {
  return {
    launcher: 'cluster',
    kind: 'oar',
    host: 'frontend',
    directory: `${WORKSPACE}/jobs/train/${clusterId}`,
    clusterId,
    submittedAt: new Date().toISOString(),
    ...extra,
  };
}

function clusterIds(outcomes: SubmitOutcome[]): (string | undefined)[] {
  return outcomes.map((outcome) => ('handle' in outcome ? outcome.handle.clusterId : undefined));
}

function fakeOar(firstId = 1) {
  const connector = new FakeConnector();
  return { connector, oar: new FakeOar(connector, { firstId }) };
}

describe('submit', () => {
  it('submits a lone job with its name, directory, outputs and job.sh run by exec /bin/sh', async () => {
    const { connector, oar } = fakeOar(42);
    const launcher = newLauncher(connector, { queue: 'production', walltime: '2:00:00' });
    const job = request(1);
    const [outcome] = await launcher.submit([job]);
    // The name carries the job's identity and a mark of this submission.
    const name = connector.calls('oarsub')[0]![1]!;
    expect(name).toMatch(new RegExp(`^--name=${job.name}\\.[0-9a-f]{6}$`));
    expect(connector.calls('oarsub')).toEqual([
      [
        'oarsub',
        name,
        `--directory=${job.directory}`,
        `--stdout=${job.directory}/oar.%jobid%.stdout`,
        `--stderr=${job.directory}/oar.%jobid%.stderr`,
        '--queue=production',
        '--resource=walltime=2:00:00',
        `exec /bin/sh ${job.scriptPath}`,
      ],
    ]);
    expect(outcome).toEqual({
      state: 'queued',
      handle: { launcher: 'cluster', kind: 'oar', host: 'frontend', directory: job.directory, clusterId: '42', submittedAt: expect.any(String) },
    });
    expect(Date.parse((outcome as { handle: LaunchHandle }).handle.submittedAt)).toBeGreaterThan(Date.now() - 5000);
    expect(oar.job(42).command).toBe(`exec /bin/sh ${job.scriptPath}`);
    expect(connector.commands[0]!.options?.timeoutMs).toBe(60_000);
  });

  it('quotes a job.sh path with spaces or quotes in the command, and makes a job name OAR and SQL take as it is', async () => {
    const { connector } = fakeOar();
    const directory = `${WORKSPACE}/jobs/my task/abc`;
    const job = { ...request(1), directory, scriptPath: `${directory}/job.sh`, name: "my task's-abc" };
    await newLauncher(connector).submit([job]);
    const argv = connector.calls('oarsub')[0]!;
    expect(argv[1]).toMatch(/^--name=my_task_s-abc\.[0-9a-f]{6}$/);
    expect(argv).toContain(`--directory=${directory}`);
    expect(argv.at(-1)).toBe(`exec /bin/sh '${directory}/job.sh'`);
  });

  it("submits jobs with equal options as one array whose parameter file lists each job.sh, quoted, in order, and maps each job to its line's id", async () => {
    const { connector, oar } = fakeOar(100);
    const launcher = newLauncher(connector, { walltime: '1h' });
    const jobs = Array.from({ length: 5 }, (_, index) => {
      const job = request(index);
      // Some directories need quoting in a shell word.
      return index % 2 === 0 ? job : { ...job, directory: `${job.directory} b`, scriptPath: `${job.directory} b/job.sh` };
    });
    const outcomes = await launcher.submit(jobs);
    expect(connector.calls('oarsub')).toHaveLength(1);
    const argv = connector.calls('oarsub')[0]!;
    const paramFile = argv.find((arg) => arg.startsWith('--array-param-file='))!.slice('--array-param-file='.length);
    expect(paramFile).toMatch(/^\/home\/batontest\/ws\/launchers\/oar\/arrays\/train-array-[0-9a-f]{8}\/jobs\.params$/);
    const arrayDirectory = paramFile.replace(/\/jobs\.params$/, '');
    expect(connector.directories).toContain(arrayDirectory);
    expect(connector.files.get(paramFile)).toBe(jobs.map((job) => `${shellQuote(job.scriptPath)}\n`).join(''));
    expect(connector.files.get(paramFile)).toContain(`'${jobs[1]!.scriptPath}'`);
    expect(argv).toEqual([
      'oarsub',
      `--name=${arrayDirectory.split('/').at(-1)}`,
      `--directory=${arrayDirectory}`,
      `--stdout=${arrayDirectory}/oar.%jobid%.stdout`,
      `--stderr=${arrayDirectory}/oar.%jobid%.stderr`,
      `--array-param-file=${paramFile}`,
      '--resource=walltime=1:00:00',
      'exec /bin/sh',
    ]);
    expect(clusterIds(outcomes)).toEqual(['100', '101', '102', '103', '104']);
    // Each job's id is the OAR job that runs its own job.sh; its handle keeps its own directory.
    for (const [index, outcome] of outcomes.entries()) {
      const { handle: submitted } = outcome as { handle: LaunchHandle };
      expect(oar.job(submitted.clusterId!).command).toBe(`exec /bin/sh ${shellQuote(jobs[index]!.scriptPath)}`);
      expect(submitted.directory).toBe(jobs[index]!.directory);
    }
  });

  it('asks the scheduler to gather ready jobs, so that they share arrays', () => {
    expect(newLauncher(new FakeConnector()).submitDelayMs).toBeGreaterThan(0);
  });

  it('groups by options: different requirements or resumability are separate oarsubs, in request order', async () => {
    const { connector, oar } = fakeOar(10);
    const jobs = [request(0), request(1, { requirements: { cores: 4 } }), request(2), request(3, { resumable: { signalAheadSeconds: 60 } })];
    const outcomes = await newLauncher(connector).submit(jobs);
    const calls = connector.calls('oarsub');
    expect(calls).toHaveLength(3);
    expect(calls.filter((argv) => argv.some((arg) => arg.startsWith('--array-param-file=')))).toHaveLength(1);
    expect(calls.find((argv) => argv.includes('--resource=/core=4'))!.at(-1)).toBe(`exec /bin/sh ${jobs[1]!.scriptPath}`);
    expect(calls.find((argv) => argv.includes('--checkpoint=60'))!.at(-1)).toBe(`exec /bin/sh ${jobs[3]!.scriptPath}`);
    // Every job got the OAR job running its own job.sh.
    for (const [index, id] of clusterIds(outcomes).entries()) expect(oar.job(id!).command).toBe(`exec /bin/sh ${jobs[index]!.scriptPath}`);
  });

  it('splits arrays at maxArraySize; 0 or 1 means no arrays', async () => {
    const chunked = fakeOar();
    const outcomes = await newLauncher(chunked.connector, { maxArraySize: 2 }).submit([0, 1, 2, 3, 4].map((index) => request(index)));
    const calls = chunked.connector.calls('oarsub');
    expect(calls).toHaveLength(3);
    expect(calls.map((argv) => argv.some((arg) => arg.startsWith('--array-param-file='))).sort()).toEqual([false, true, true]);
    expect(new Set(clusterIds(outcomes)).size).toBe(5);
    for (const maxArraySize of [0, 1]) {
      const single = fakeOar();
      await newLauncher(single.connector, { maxArraySize }).submit([request(0), request(1), request(2)]);
      expect(single.connector.calls('oarsub')).toHaveLength(3);
      expect(single.connector.calls('oarsub').some((argv) => argv.some((arg) => arg.startsWith('--array-param-file=')))).toBe(false);
    }
  });

  it("reports a rejection at once, with oarsub's message and without the admission rules' chatter, for every job of the array", async () => {
    const stderr = `${ADMISSION_CHATTER}\n[ADMISSION RULE] Error: the queue nosuchqueue does not exist\n`;
    const { connector, oar } = fakeOar();
    oar.oarsubFaults.push({ code: 1, stderr });
    const launcher = newLauncher(connector, { queue: 'nosuchqueue' });
    const outcomes = await launcher.submit([request(0), request(1)]);
    expect(launcher.commandCounts.oarsub).toBe(1);
    expect(outcomes).toEqual([0, 1].map(() => ({ failure: { code: null, reason: 'rejected', message: 'oarsub refused the job: [ADMISSION RULE] Error: the queue nosuchqueue does not exist' } })));
    expect(oar.jobs.size).toBe(0);
  });

  it("reports a refusal that OAR prints on stdout, and oarsub's exit code when it printed nothing", async () => {
    const { connector, oar } = fakeOar();
    oar.oarsubFaults.push({ code: 7, stdout: '[ERROR] There are not enough resources for your request\n' }, { code: 5 });
    const launcher = newLauncher(connector);
    expect((await launcher.submit([request(0)]))[0]).toMatchObject({ failure: { reason: 'rejected', message: expect.stringContaining('There are not enough resources for your request') } });
    expect((await launcher.submit([request(1)]))[0]).toMatchObject({ failure: { reason: 'rejected', message: expect.stringContaining('oarsub exited with code 5') } });
    expect(launcher.commandCounts.oarsub).toBe(2);
  });

  it('retries a transient oarsub failure, then succeeds', async () => {
    const { connector, oar } = fakeOar(7);
    oar.oarsubFaults.push(
      { code: 1, stderr: '[IOlib] Cannot connect to database (type=Pg, host=server, user=oar, database=oar) : could not connect to server: Connection refused\n' },
      { code: 1, stderr: 'Cannot connect to the database\n' },
    );
    const launcher = newLauncher(connector);
    const [outcome] = await launcher.submit([request(0)]);
    expect(outcome).toMatchObject({ state: 'queued', handle: { clusterId: '7' } });
    expect(launcher.commandCounts.oarsub).toBe(3);
    expect(oar.jobs.size).toBe(1);
  });

  it('gives up on a transient failure after submitRetries and says so', async () => {
    const { connector, oar } = fakeOar();
    oar.oarsubFaults.push(...[1, 2, 3, 4].map(() => ({ code: 1, stderr: 'Cannot connect to the database\n' })));
    const launcher = newLauncher(connector, { submitRetries: 2 });
    const [outcome] = await launcher.submit([request(0)]);
    expect(outcome).toMatchObject({ failure: { code: null, reason: 'rejected', message: expect.stringMatching(/Cannot connect to the database.*gave up after 3 attempts/) } });
    expect(launcher.commandCounts.oarsub).toBe(3);
  });

  it('adopts the job of a timed-out oarsub that reached OAR instead of submitting it twice', async () => {
    const { connector, oar } = fakeOar(30);
    oar.oarsubFaults.push({ code: null, signal: 'SIGKILL', reachesOar: true });
    const job = request(0);
    const before = Math.floor(Date.now() / 1000);
    const launcher = newLauncher(connector);
    const [outcome] = await launcher.submit([job]);
    const after = Math.floor(Date.now() / 1000);
    expect(outcome).toMatchObject({ state: 'queued', handle: { clusterId: '30', directory: job.directory } });
    expect(launcher.commandCounts.oarsub).toBe(1);
    expect(oar.jobs.size).toBe(1);
    const [lookup] = connector.calls('oarstat');
    expect(lookup!.slice(0, 3)).toEqual(['oarstat', '-J', '--sql']);
    // Looked up by the name of this submission, not only the job's: an earlier attempt of the same job is never adopted.
    const submittedName = connector.calls('oarsub')[0]![1]!.slice('--name='.length);
    expect(submittedName).toMatch(/^train-00000000\.[0-9a-f]{6}$/);
    const since = Number(new RegExp(`^job_name = '${submittedName.replace('.', '\\.')}' AND submission_time >= (\\d+)$`).exec(lookup![3]!)![1]);
    // A minute before the oarsub: the server's clock may be behind this host's.
    expect(since).toBeGreaterThanOrEqual(before - 60);
    expect(since).toBeLessThanOrEqual(after - 60);
  });

  it('never adopts an earlier attempt of the same job when an oarsub that timed out never reached OAR', async () => {
    const { connector, oar } = fakeOar(30);
    const job = request(0);
    const launcher = newLauncher(connector);
    const [first] = await launcher.submit([job]);
    expect(first).toMatchObject({ handle: { clusterId: '30' } });
    // The same job again (a resubmission after its walltime), whose oarsub is killed before OAR took it.
    oar.oarsubFaults.push({ code: null, signal: 'SIGKILL' });
    const [second] = await launcher.submit([job]);
    expect(second).toMatchObject({ state: 'queued', handle: { clusterId: '31' } });
    expect(launcher.commandCounts.oarsub).toBe(3);
    expect(oar.jobs.size).toBe(2);
  });

  it("adopts a timed-out array's jobs in the order of their ids", async () => {
    const { connector, oar } = fakeOar(50);
    oar.add({ id: 49, name: 'train-array-older' });
    oar.oarsubFaults.push({ code: null, signal: 'SIGKILL', reachesOar: true });
    const jobs = [request(0), request(1), request(2)];
    const launcher = newLauncher(connector);
    const outcomes = await launcher.submit(jobs);
    expect(clusterIds(outcomes)).toEqual(['50', '51', '52']);
    expect(launcher.commandCounts.oarsub).toBe(1);
    for (const [index, id] of clusterIds(outcomes).entries()) expect(oar.job(id!).command).toBe(`exec /bin/sh ${jobs[index]!.scriptPath}`);
  });

  it('submits again when the timed-out oarsub never reached OAR', async () => {
    const { connector, oar } = fakeOar(60);
    oar.oarsubFaults.push({ code: null, signal: 'SIGKILL' });
    const launcher = newLauncher(connector);
    const [outcome] = await launcher.submit([request(0)]);
    expect(outcome).toMatchObject({ handle: { clusterId: '60' } });
    expect(launcher.commandCounts).toMatchObject({ oarsub: 2, oarstat: 1 });
    expect(oar.jobs.size).toBe(1);
  });

  it('follows the jobs an oarsub registered while the OAR server was down (exit 9, "Job is killed"), never submitting them twice', async () => {
    for (const submitRetries of [6, 0]) {
      const { connector, oar } = fakeOar(80);
      oar.serverDown = true;
      const launcher = newLauncher(connector, { submitRetries });
      const [lone] = await launcher.submit([request(0)]);
      const array = await launcher.submit([request(1), request(2), request(3)]);
      expect(clusterIds([lone!, ...array])).toEqual(['80', '81', '82', '83']);
      expect(launcher.commandCounts.oarsub).toBe(2);
      expect(oar.jobs.size).toBe(4);
    }
  });

  it('keeps OAR_JOB_ID lines out of the message of a refusal', async () => {
    const { connector, oar } = fakeOar();
    oar.oarsubFaults.push({ code: 5, stdout: 'OAR_JOB_ID=-5\n', stderr: '[ADMISSION RULE] Error: walltime too long for this queue\n' });
    const [outcome] = await newLauncher(connector).submit([request(0)]);
    expect(outcome).toEqual({ failure: { code: null, reason: 'rejected', message: 'oarsub refused the job: [ADMISSION RULE] Error: walltime too long for this queue' } });
  });

  it('refuses, with the reason, a workspace path OAR cannot run jobs under (a quote or a backslash), without running oarsub', async () => {
    for (const workspacePath of ["/home/o'brien/ws", '/home/a\\b/ws']) {
      const { connector } = fakeOar();
      const job = { ...request(0), directory: `${workspacePath}/jobs/train/abc`, scriptPath: `${workspacePath}/jobs/train/abc/job.sh` };
      const outcomes = await newLauncher(connector, {}, { workspacePath }).submit([job, { ...job, directory: `${job.directory}2`, scriptPath: `${job.directory}2/job.sh` }]);
      for (const outcome of outcomes) {
        expect(outcome).toMatchObject({ failure: { code: null, reason: 'rejected', message: expect.stringMatching(/contains a quote, a backslash or a line break.*move the workspace/) } });
      }
      expect(connector.calls('oarsub')).toEqual([]);
    }
    expect(unusablePath("/home/o'brien/ws")).toContain(JSON.stringify("/home/o'brien/ws"));
    expect(unusablePath('/home/a\\b/ws')).toBeDefined();
    expect(unusablePath('/home/a\nb/ws')).toBeDefined();
    expect(unusablePath('/home/with space/100%/ws')).toBeUndefined();
  });

  it('refuses an oarsub answer without the expected job ids', async () => {
    const connector = new FakeConnector().on('oarsub', () => ({ stdout: `${ADMISSION_CHATTER}\n` }));
    const [outcome] = await newLauncher(connector).submit([request(0)]);
    expect(outcome).toMatchObject({ failure: { reason: 'rejected', message: expect.stringContaining('oarsub printed 0 job id(s) where 1 were expected') } });
  });

  it('says where oarsub is missing', async () => {
    const [outcome] = await newLauncher(new FakeConnector()).submit([request(0)]);
    expect(outcome).toMatchObject({ failure: { reason: 'rejected', message: expect.stringMatching(/oarsub could not be run on frontend.*OAR installed.*PATH/) } });
  });
});

describe('status', () => {
  it('asks oarstat once for all jobs, with -j per id, and maps each job to its state', async () => {
    const { connector, oar } = fakeOar();
    const ids = Array.from({ length: 6 }, () => String(oar.add({ name: 'train-x' }).id));
    oar.start(ids[1]!);
    oar.start(ids[2]!);
    oar.terminate(ids[2]!, 768);
    oar.start(ids[3]!);
    oar.terminate(ids[3]!, 0);
    oar.job(ids[4]!).state = 'Hold';
    const launcher = newLauncher(connector);
    const statuses = await launcher.status([...ids.map((id) => handle(id)), handle(ids[0]!, { directory: '/elsewhere' })]);
    expect(connector.calls('oarstat')).toEqual([['oarstat', '-f', '-J', ...ids.flatMap((id) => ['-j', id])]]);
    expect(launcher.commandCounts).toEqual({ oarsub: 0, oarstat: 1, oardel: 0 });
    expect(statuses).toEqual([
      { state: 'queued' },
      { state: 'running' },
      { state: 'finished', failure: { code: 3, reason: 'failed', message: `OAR job ${ids[2]} failed (exit code 3)` } },
      { state: 'finished' },
      { state: 'queued', detail: `held by OAR (release it with: oarresume ${ids[4]})` },
      { state: 'queued' },
      { state: 'queued' },
    ]);
  });

  it('counts a job missing from oarstat as queued during the grace period, then as lost unless it left a marker', async () => {
    const { connector } = fakeOar();
    const launcher = newLauncher(connector, {}, { missingGraceMs: 60_000 });
    const old = new Date(Date.now() - 120_000).toISOString();
    const [fresh, lost, done, failed] = [handle('70'), handle('71', { submittedAt: old }), handle('72', { submittedAt: old }), handle('73', { submittedAt: old })];
    connector.files.set(`${done!.directory}/done`, '{"code":0,"start":1796163429,"end":1796163430,"host":"vm"}\n');
    const marker = '{"code":3,"reason":"failed","message":"exited with code 3"}\n';
    connector.files.set(`${failed!.directory}/failed`, marker);
    const statuses = await launcher.status([fresh!, lost!, done!, failed!]);
    expect(statuses).toEqual([
      { state: 'queued', detail: 'submitted; not yet listed by OAR' },
      { state: 'finished', failure: { code: null, reason: 'lost', message: expect.stringContaining('OAR job 71 is not listed by oarstat') } },
      { state: 'finished' },
      { state: 'finished' },
    ]);
    expect(statuses[1]!.failure!.message).toContain(lost!.directory);
    expect(connector.files.get(`${failed!.directory}/failed`)).toBe(marker);
    expect(connector.calls('oarstat')).toHaveLength(1);
  });

  it("lets job.sh's final markers win over an OAR that still says Running or Finishing; a marker of a signal alone does not", async () => {
    const { connector, oar } = fakeOar();
    const [done, failed, signalled, running] = [1, 2, 3, 4].map(() => String(oar.start(oar.add().id).id));
    oar.job(failed!).state = 'Finishing';
    connector.files.set(`${handle(done!).directory}/done`, '{"code":0}\n');
    connector.files.set(`${handle(failed!).directory}/failed`, '{"code":1,"reason":"failed","message":"exited with code 1"}\n');
    // job.sh trapped OAR's SIGTERM: whether that was the walltime or an oardel is OAR's to say.
    connector.files.set(`${handle(signalled!).directory}/failed`, '{"code":143,"reason":"cancelled","message":"terminated by SIGTERM"}\n');
    const statuses = await newLauncher(connector).status([done!, failed!, signalled!, running!].map((id) => handle(id)));
    expect(statuses).toEqual([{ state: 'finished' }, { state: 'finished' }, { state: 'running' }, { state: 'running' }]);
  });

  it("writes the failed marker of a job OAR killed at its walltime before job.sh could, with OAR's start, stop and host", async () => {
    const { connector, oar } = fakeOar(89);
    oar.add({ walltime: 20 });
    Object.assign(oar.start(89, 'node-7'), { startTime: 1796163787 });
    oar.walltimeKill(89);
    const job = handle('89');
    const statuses = await newLauncher(connector).status([job]);
    const failure = { code: null, reason: 'timeout', message: 'OAR job 89 reached its walltime (0:00:20)' };
    expect(statuses).toEqual([{ state: 'finished', failure }]);
    expect(JSON.parse(connector.files.get(`${job.directory}/failed`)!)).toEqual({ ...failure, start: 1796163787, end: 1796163819, host: 'node-7' });
  });

  it("writes OAR's walltime verdict into the marker of a job.sh that only saw a signal, keeping its own times and code", async () => {
    const { connector, oar } = fakeOar(90);
    oar.add({ walltime: 60 });
    oar.start(90);
    oar.walltimeKill(90);
    const job = handle('90');
    connector.files.set(`${job.directory}/failed`, '{"code":143,"reason":"cancelled","message":"terminated by SIGTERM","start":1796135000,"end":1796135060,"host":"vm"}\n');
    const [status] = await newLauncher(connector).status([job]);
    expect(status).toEqual({ state: 'finished', failure: { code: 143, reason: 'timeout', message: 'OAR job 90 reached its walltime (0:01:00)' } });
    expect(JSON.parse(connector.files.get(`${job.directory}/failed`)!)).toEqual({
      code: 143,
      reason: 'timeout',
      message: 'OAR job 90 reached its walltime (0:01:00)',
      start: 1796135000,
      end: 1796135060,
      host: 'vm',
    });
  });

  it('claims no start time or host for a job cancelled before it started', async () => {
    const { connector, oar } = fakeOar(91);
    oar.add();
    await newLauncher(connector).cancel([handle('91')]);
    const job = handle('91');
    const [status] = await newLauncher(connector).status([job]);
    expect(status).toMatchObject({ state: 'finished', failure: { code: null, reason: 'cancelled', message: expect.stringContaining('User batontest requested to frag the job 91') } });
    expect(connector.files.get(`${job.directory}/failed`) ?? '').not.toMatch(/"start"|"host"/);
  });

  it("fails the poll with oarstat's message when oarstat fails, and answers unknown for a handle without an OAR id without running anything", async () => {
    const failing = new FakeConnector().on('oarstat', () => ({ code: 1, stderr: 'oarstat: something broke\n' }));
    await expect(newLauncher(failing).status([handle('1'), handle('2')])).rejects.toThrow(/could not query OAR about 2 job\(s\): oarstat: something broke/);
    const connector = new FakeConnector();
    expect(await newLauncher(connector).status([handle('x', { clusterId: undefined })])).toEqual([{ state: 'unknown', detail: expect.stringContaining('no OAR job id') }]);
    expect(connector.commands).toHaveLength(0);
  });
});

describe('cancel', () => {
  it('cancels all jobs with one oardel, each id once, then reports them cancelled', async () => {
    const { connector, oar } = fakeOar();
    const ids = [1, 2, 3].map(() => String(oar.start(oar.add().id).id));
    const launcher = newLauncher(connector);
    await launcher.cancel([...ids.map((id) => handle(id)), handle(ids[0]!), handle('none', { clusterId: undefined })]);
    expect(connector.calls('oardel')).toEqual([['oardel', ...ids]]);
    expect(launcher.commandCounts.oardel).toBe(1);
    const statuses = await launcher.status(ids.map((id) => handle(id)));
    for (const status of statuses) expect(status).toMatchObject({ state: 'finished', failure: { reason: 'cancelled' } });
  });

  it('does not repeat an oardel that OAR registered while its server was down (exit 2): the server applies it when back', async () => {
    const { connector, oar } = fakeOar();
    const ids = [1, 2].map(() => String(oar.start(oar.add().id).id));
    oar.serverDown = true;
    const launcher = newLauncher(connector);
    await launcher.cancel(ids.map((id) => handle(id)));
    expect(connector.calls('oardel')).toEqual([['oardel', ...ids]]);
    oar.serverUp();
    for (const status of await launcher.status(ids.map((id) => handle(id)))) expect(status).toMatchObject({ state: 'finished', failure: { reason: 'cancelled' } });
  });

  it('retries an oardel that could not reach OAR at all', async () => {
    let attempts = 0;
    const connector = new FakeConnector().on('oardel', () => (++attempts === 1 ? { code: 1, stderr: 'Cannot connect to the database\n' } : { stdout: 'Deleting the job = 5 ...REGISTERED.\n' }));
    await newLauncher(connector).cancel([handle('5')]);
    expect(connector.calls('oardel')).toHaveLength(2);
  });

  it('runs nothing when no handle has an OAR id', async () => {
    const connector = new FakeConnector();
    await newLauncher(connector).cancel([handle('x', { clusterId: undefined })]);
    expect(connector.commands).toHaveLength(0);
  });
});

describe('plugin', () => {
  it('declares the oar launcher, built from validated settings, describing its host from them', async () => {
    expect(plugin.name).toBe('oar');
    const factory = plugin.launchers.oar;
    const settings = factory.settings.parse({ walltime: '2:00:00', coresPerNode: 8, gpusPerNode: 2, pollInterval: 2000, maxConcurrent: 100, priority: 3 });
    const launcher = await factory.create(settings, { name: 'gpu', workspacePath: WORKSPACE, connector: new FakeConnector(), logger });
    expect(launcher).toMatchObject({ name: 'gpu', kind: 'oar', pollIntervalMs: 2000, maxConcurrent: 100 });
    expect(launcher.host).toEqual({ cores: 8, gpus: 2, maxDuration: 7200, priority: 3 });
    const bare = await factory.create(factory.settings.parse({}), { name: 'cpu', workspacePath: WORKSPACE, connector: new FakeConnector(), logger });
    expect(bare.host).toEqual({});
    expect(bare.maxConcurrent).toBeUndefined();
  });
});
