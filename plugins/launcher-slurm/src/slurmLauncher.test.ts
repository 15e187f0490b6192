// The launcher against a fake connector that answers like sbatch, sacct,
// squeue, scancel and scontrol do: the argv it builds and how it reads answers.
// The real cluster is in slurmLauncher.integration.test.ts.
import { createLogger, hostShortfall, parseRequirements } from '@baton/core';
import type { LaunchHandle, LaunchRequest } from '@baton/core';
import { describe, expect, it } from 'vitest';
import { FakeConnector } from './__fixtures__/fakeConnector.ts';
import plugin from './index.ts';
import { SlurmLauncher, slurmTimestamp } from './slurmLauncher.ts';
import { slurmLauncherSettings } from './slurmSettings.ts';

const logger = createLogger('baton:test:launcher-slurm');
const WORKSPACE = '/ws';

function newLauncher(connector: FakeConnector, settings: Record<string, unknown> = {}, options: { missingGraceMs?: number; preemptedGraceMs?: number } = {}) {
  return new SlurmLauncher({
    name: 'cluster',
    connector,
    logger,
    workspacePath: WORKSPACE,
    settings: slurmLauncherSettings.parse(settings),
    retryBaseMs: 1,
    ...options,
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
    kind: 'slurm',
    host: 'login1',
    directory: `${WORKSPACE}/jobs/train/${clusterId}`,
    clusterId,
    submittedAt: new Date().toISOString(),
    ...extra,
  };
}

/** sbatch answering with increasing job ids. */
function counter(first = 100) {
  let next = first;
  return () => ({ stdout: `${next++}\n` });
}

function sacctAnswer(lines: string[]) {
  return () => ({ stdout: lines.map((line) => `${line}\n`).join('') });
}

describe('submit', () => {
  it('submits a lone job with sbatch --parsable on its own job.sh, named after the job', async () => {
    const connector = new FakeConnector().on('sbatch', counter(4242));
    const launcher = newLauncher(connector, { partition: 'gpu', time: '4h' });
    const job = request(1);
    const [outcome] = await launcher.submit([job]);
    expect(connector.calls('sbatch')).toEqual([
      [
        'sbatch',
        '--parsable',
        `--job-name=${job.name}`,
        `--chdir=${job.directory}`,
        `--output=${job.directory}/slurm-%j.out`,
        `--error=${job.directory}/slurm-%j.err`,
        '--open-mode=append',
        '--partition=gpu',
        '--time=04:00:00',
        job.scriptPath,
      ],
    ]);
    expect(outcome).toMatchObject({
      state: 'queued',
      handle: { launcher: 'cluster', kind: 'slurm', host: 'login1', directory: job.directory, clusterId: '4242' },
    });
    expect(Date.parse((outcome as { handle: LaunchHandle }).handle.submittedAt)).toBeGreaterThan(Date.now() - 5000);
    expect(connector.commands[0]!.options?.timeoutMs).toBe(60_000);
  });

  it("escapes a % of the workspace path where SLURM expands filename patterns (--output, --error), not in --chdir", async () => {
    const connector = new FakeConnector().on('sbatch', counter(5)).on('scontrol', () => ({ stdout: 'MaxArraySize = 1001\n' }));
    const launcher = new SlurmLauncher({ name: 'cluster', connector, logger, workspacePath: '/data/100%x', settings: slurmLauncherSettings.parse({}), retryBaseMs: 1 });
    const lone = { ...request(1), directory: '/data/100%x/jobs/train/a', scriptPath: '/data/100%x/jobs/train/a/job.sh' };
    await launcher.submit([lone]);
    const argv = connector.calls('sbatch')[0]!;
    expect(argv).toContain('--chdir=/data/100%x/jobs/train/a');
    expect(argv).toContain('--output=/data/100%%x/jobs/train/a/slurm-%j.out');
    expect(argv).toContain('--error=/data/100%%x/jobs/train/a/slurm-%j.err');
    expect(argv.at(-1)).toBe('/data/100%x/jobs/train/a/job.sh');
    await launcher.submit([lone, { ...lone, directory: '/data/100%x/jobs/train/b', scriptPath: '/data/100%x/jobs/train/b/job.sh' }]);
    const array = connector.calls('sbatch')[1]!;
    expect(array.find((arg) => arg.startsWith('--output='))).toMatch(/^--output=\/data\/100%%x\/launchers\/slurm\/arrays\/train-array-[0-9a-f]{8}\/slurm-%A_%a\.out$/);
    expect(array.find((arg) => arg.startsWith('--chdir='))).toMatch(/^--chdir=\/data\/100%x\/launchers\//);
  });

  it('refuses, with the reason, a job directory SLURM cannot write output under (a backslash)', async () => {
    const connector = new FakeConnector().on('sbatch', counter(5));
    const launcher = newLauncher(connector);
    const [outcome] = await launcher.submit([{ ...request(1), directory: '/ws/jobs/a\\b', scriptPath: '/ws/jobs/a\\b/job.sh' }]);
    expect(outcome).toMatchObject({ failure: { code: null, reason: 'rejected', message: expect.stringMatching(/contains a backslash.*move the workspace/) } });
    expect(connector.calls('sbatch')).toEqual([]);
  });

  it('submits jobs with equal options as one job array, with the % limit, and maps each job to its task', async () => {
    const connector = new FakeConnector().on('sbatch', () => ({ stdout: '777;cluster\n' })).on('scontrol', () => ({ stdout: 'MaxArraySize            = 1001\n' }));
    const launcher = newLauncher(connector, { arrayLimit: 5 });
    const jobs = Array.from({ length: 50 }, (_, index) => request(index));
    const outcomes = await launcher.submit(jobs);
    const [argv] = connector.calls('sbatch');
    expect(connector.calls('sbatch')).toHaveLength(1);
    expect(argv).toContain('--array=0-49%5');
    const script = argv!.at(-1)!;
    expect(script).toMatch(/^\/ws\/launchers\/slurm\/arrays\/train-array-[0-9a-f]{8}\/array\.sh$/);
    const listPath = script.replace(/array\.sh$/, 'jobs.list');
    expect(connector.files.get(listPath)!.split('\n').slice(0, 50)).toEqual(jobs.map((job) => job.scriptPath));
    expect(connector.files.get(script)).toContain(listPath);
    expect(connector.modes.get(script)).toBe(0o755);
    expect(outcomes.map((outcome) => (outcome as { handle: LaunchHandle }).handle.clusterId)).toEqual(jobs.map((_, index) => `777_${index}`));
    expect(outcomes.map((outcome) => (outcome as { handle: LaunchHandle }).handle.directory)).toEqual(jobs.map((job) => job.directory));
  });

  it('submits a batch as one array and asks the scheduler to gather batches', async () => {
    const connector = new FakeConnector().on('sbatch', counter(900)).on('scontrol', () => ({ stdout: 'MaxArraySize = 1001\n' }));
    const launcher = newLauncher(connector);
    // The scheduler waits this long for more ready jobs before calling submit (scheduler.test.ts).
    expect(launcher.submitDelayMs).toBeGreaterThan(0);
    const outcomes = await launcher.submit([request(0), request(1), request(2)]);
    expect(connector.calls('sbatch')).toHaveLength(1);
    expect(outcomes.map((outcome) => (outcome as { handle: LaunchHandle }).handle.clusterId)).toEqual(['900_0', '900_1', '900_2']);
  });

  it('groups by options: different requirements or resumability are separate submissions, in request order', async () => {
    const connector = new FakeConnector().on('sbatch', counter(10)).on('scontrol', () => ({ stdout: 'MaxArraySize = 1001\n' }));
    const launcher = newLauncher(connector);
    const jobs = [
      request(0),
      request(1, { requirements: { cores: 4 } }),
      request(2),
      request(3, { resumable: { signalAheadSeconds: 60 } }),
    ];
    const outcomes = await launcher.submit(jobs);
    const calls = connector.calls('sbatch');
    expect(calls).toHaveLength(3);
    const array = calls.find((argv) => argv.some((arg) => arg.startsWith('--array=')))!;
    expect(array).toContain('--array=0-1');
    expect(calls.find((argv) => argv.includes('--cpus-per-task=4'))).toContain(jobs[1]!.scriptPath);
    expect(calls.find((argv) => argv.includes('--signal=B:USR2@60'))).toContain(jobs[3]!.scriptPath);
    const ids = outcomes.map((outcome) => (outcome as { handle: LaunchHandle }).handle.clusterId!);
    expect(ids[0]!.split('_')[1]).toBe('0');
    expect(ids[2]!.split('_')[1]).toBe('1');
    expect(ids[0]!.split('_')[0]).toBe(ids[2]!.split('_')[0]);
  });

  it('chunks arrays below MaxArraySize, read once from scontrol show config', async () => {
    const connector = new FakeConnector().on('sbatch', counter(500)).on('scontrol', () => ({ stdout: 'MaxArraySize            = 4\nMaxJobCount = 10000\n' }));
    const launcher = newLauncher(connector);
    const outcomes = await launcher.submit(Array.from({ length: 10 }, (_, index) => request(index)));
    await launcher.submit(Array.from({ length: 3 }, (_, index) => request(20 + index)));
    const arrays = connector.calls('sbatch').map((argv) => argv.find((arg) => arg.startsWith('--array='))).sort();
    expect(arrays).toEqual(['--array=0-1', '--array=0-2', '--array=0-3', '--array=0-3']);
    expect(connector.calls('scontrol')).toHaveLength(1);
    // Every job got its own array task.
    expect(new Set(outcomes.map((outcome) => (outcome as { handle: LaunchHandle }).handle.clusterId)).size).toBe(10);
  });

  it('takes maxArraySize from the settings without asking SLURM; 1 means no arrays', async () => {
    const connector = new FakeConnector().on('sbatch', counter());
    await newLauncher(connector, { maxArraySize: 1 }).submit([request(0), request(1), request(2)]);
    expect(connector.calls('scontrol')).toHaveLength(0);
    expect(connector.calls('sbatch')).toHaveLength(3);
    expect(connector.calls('sbatch').some((argv) => argv.some((arg) => arg.startsWith('--array')))).toBe(false);
  });

  it('retries transient sbatch failures, then succeeds', async () => {
    let attempts = 0;
    const connector = new FakeConnector().on('sbatch', () => {
      attempts++;
      if (attempts === 1) return { code: 1, stderr: 'sbatch: error: Batch job submission failed: Unable to contact slurm controller (connect failure)\n' };
      if (attempts === 2) return { code: 1, stderr: 'sbatch: error: slurm_receive_msg: Socket timed out on send/recv operation\n' };
      return { stdout: '31\n' };
    });
    const [outcome] = await newLauncher(connector).submit([request(0)]);
    expect(outcome).toMatchObject({ handle: { clusterId: '31' } });
    expect(launcherCount(connector)).toBe(3);
  });

  it('gives up on transient failures after submitRetries and says so', async () => {
    const connector = new FakeConnector().on('sbatch', () => ({ code: 1, stderr: 'sbatch: error: slurmctld not responding\n' }));
    const [outcome] = await newLauncher(connector, { submitRetries: 2 }).submit([request(0)]);
    expect(outcome).toMatchObject({ failure: { code: null, reason: 'rejected' } });
    expect((outcome as { failure: { message: string } }).failure.message).toMatch(/slurmctld not responding.*3 attempts/);
    expect(launcherCount(connector)).toBe(3);
  });

  it("reports a real rejection at once, with sbatch's message, for every job of the array", async () => {
    const stderr = 'sbatch: error: invalid partition specified: nope\nsbatch: error: Batch job submission failed: Invalid partition name specified\n';
    const connector = new FakeConnector().on('sbatch', () => ({ code: 1, stderr }));
    const outcomes = await newLauncher(connector, { partition: 'nope', maxArraySize: 100 }).submit([request(0), request(1)]);
    expect(launcherCount(connector)).toBe(1);
    for (const outcome of outcomes) expect(outcome).toEqual({ failure: { code: null, reason: 'rejected', message: stderr.trim() } });
  });

  it('adopts the job a timed-out sbatch submitted instead of submitting it twice', async () => {
    const job = request(0);
    const connector = new FakeConnector()
      .on('sbatch', () => ({ code: null, signal: 'SIGKILL' }))
      .on('squeue', (argv) => (argv.includes(`--name=${job.name}`) ? { stdout: '555\n' } : { stdout: '' }));
    const [outcome] = await newLauncher(connector).submit([job]);
    expect(outcome).toMatchObject({ handle: { clusterId: '555' } });
    expect(launcherCount(connector)).toBe(1);
  });

  it('adopts the job an sbatch submitted when the connection to the login node dropped before its answer', async () => {
    const job = request(0);
    let submitted = false;
    const connector = new FakeConnector()
      .on('sbatch', () => {
        submitted = true;
        throw Object.assign(new Error('Lost the SSH connection to me@login (connection closed)'), { transient: true });
      })
      .on('squeue', (argv) => (submitted && argv.includes(`--name=${job.name}`) ? { stdout: '556\n' } : { stdout: '' }));
    const [outcome] = await newLauncher(connector).submit([job]);
    expect(outcome).toMatchObject({ handle: { clusterId: '556' } });
    expect(launcherCount(connector)).toBe(1);
  });

  it('says where sbatch is missing', async () => {
    const [outcome] = await newLauncher(new FakeConnector()).submit([request(0)]);
    expect((outcome as { failure: { message: string } }).failure.message).toMatch(/sbatch could not be run on login1.*PATH/);
  });
});

describe('status', () => {
  it('asks sacct once for all jobs, filtered by id and start time, whatever their number', async () => {
    const lines = ['200|RUNNING|0:0|None|debug|UNLIMITED', '201_[0-98]|RUNNING|0:0|None|debug|UNLIMITED', ...Array.from({ length: 99 }, (_, i) => `${300 + i}|COMPLETED|0:0|None|debug|UNLIMITED`)];
    const connector = new FakeConnector().on('sacct', sacctAnswer(lines));
    const launcher = newLauncher(connector);
    const submittedAt = new Date('2025-03-01T00:00:30');
    const handles = [
      handle('200', { submittedAt: submittedAt.toISOString() }),
      ...Array.from({ length: 99 }, (_, i) => handle(`201_${i}`)),
      ...Array.from({ length: 99 }, (_, i) => handle(`${300 + i}`)),
    ];
    const statuses = await launcher.status(handles);
    expect(connector.commands).toHaveLength(1);
    const [argv] = connector.calls('sacct');
    expect(argv!.slice(0, 5)).toEqual(['sacct', '-X', '-P', '-n', '--format=JobID,State,ExitCode,Reason,Partition,Timelimit']);
    const ids = argv![argv!.indexOf('-j') + 1]!.split(',');
    expect(ids).toHaveLength(1 + 1 + 99);
    expect(ids.slice(0, 2)).toEqual(['200', '201']);
    // Starts before the earliest submission, the day before: no job is lost at midnight.
    expect(argv![argv!.indexOf('-S') + 1]).toBe(slurmTimestamp(new Date(submittedAt.getTime() - 26 * 3600_000)));
    expect(argv![argv!.indexOf('-S') + 1]).toMatch(/^2025-02-27T22:00:30$/);
    expect(statuses[0]).toEqual({ state: 'running' });
    expect(statuses[1]).toEqual({ state: 'running' });
    expect(statuses.at(-1)).toEqual({ state: 'finished' });
    expect(launcher.commandCounts).toEqual({ sbatch: 0, sacct: 1, squeue: 0, scancel: 0, scontrol: 0 });
  });

  it("takes pending jobs' reasons from one squeue call: accounting keeps the reason of the last state change", async () => {
    const connector = new FakeConnector()
      .on('sacct', sacctAnswer(['80|RUNNING|0:0|None|debug|UNLIMITED', '81_[0-49]|PENDING|0:0|None|debug|UNLIMITED', '82|PENDING|0:0|PartitionConfig|short|00:05:00']))
      .on('squeue', () => ({ stdout: '81_0|RUNNING|None|debug|UNLIMITED\n81_1|PENDING|Resources|debug|UNLIMITED\n82|PENDING|Priority|short|5:00\n' }));
    const handles = [handle('80'), ...Array.from({ length: 50 }, (_, i) => handle(`81_${i}`)), handle('82')];
    const statuses = await newLauncher(connector).status(handles);
    expect(connector.calls('squeue')).toEqual([['squeue', '--states=all', '-h', '-r', '-o', '%i|%T|%r|%P|%l', '-j', '81,82']]);
    expect(statuses.slice(0, 3)).toEqual([{ state: 'running' }, { state: 'running' }, { state: 'queued', detail: 'Resources' }]);
    // Not listed by squeue (yet): sacct's word stands.
    expect(statuses[3]).toEqual({ state: 'queued' });
    expect(statuses.at(-1)).toEqual({ state: 'queued', detail: 'Priority' });
    expect(connector.commands).toHaveLength(2);
  });

  it('reports the real exit code of a failed job', async () => {
    const connector = new FakeConnector().on('sacct', sacctAnswer(['9|FAILED|3:0|NonZeroExitCode|debug|UNLIMITED']));
    const [status] = await newLauncher(connector).status([handle('9')]);
    expect(status).toMatchObject({ state: 'finished', failure: { code: 3, reason: 'failed' } });
  });

  it('falls back to squeue when accounting is disabled, and stops asking sacct for a while', async () => {
    const connector = new FakeConnector()
      .on('sacct', () => ({ code: 1, stderr: 'Slurm accounting storage is disabled\n' }))
      .on('squeue', () => ({ stdout: '10|RUNNING|None|debug|UNLIMITED\n11|COMPLETED|None|debug|UNLIMITED\n' }));
    const launcher = newLauncher(connector);
    expect(await launcher.status([handle('10'), handle('11')])).toEqual([{ state: 'running' }, { state: 'finished' }]);
    const [argv] = connector.calls('squeue');
    expect(argv).toEqual(['squeue', '--states=all', '-h', '-r', '-o', '%i|%T|%r|%P|%l', '-j', '10,11']);
    await launcher.status([handle('10'), handle('11')]);
    expect(launcher.commandCounts).toMatchObject({ sacct: 1, squeue: 2 });
  });

  it('falls back to squeue when sacct fails, and fails the poll only when both fail', async () => {
    let squeueWorks = true;
    const connector = new FakeConnector()
      .on('sacct', () => ({ code: 1, stderr: 'sacct: error: Problem talking to the database: Connection refused\n' }))
      .on('squeue', () => (squeueWorks ? { stdout: '12|PENDING|Resources|debug|UNLIMITED\n' } : { code: 1, stderr: 'squeue: error: Unable to contact slurm controller\n' }));
    const launcher = newLauncher(connector);
    expect(await launcher.status([handle('12')])).toEqual([{ state: 'queued', detail: 'Resources' }]);
    squeueWorks = false;
    await expect(launcher.status([handle('12')])).rejects.toThrow(/sacct: .*Connection refused.*squeue: .*Unable to contact slurm controller/);
  });

  it('asks squeue about the jobs sacct does not list yet (accounting lags)', async () => {
    const connector = new FakeConnector()
      .on('sacct', sacctAnswer(['20|RUNNING|0:0|None|debug|UNLIMITED']))
      .on('squeue', () => ({ stdout: '21|PENDING|Priority|debug|UNLIMITED\n' }));
    const statuses = await newLauncher(connector).status([handle('20'), handle('21')]);
    expect(statuses).toEqual([{ state: 'running' }, { state: 'queued', detail: 'Priority' }]);
    expect(connector.calls('squeue')[0]!.at(-1)).toBe('21');
  });

  it('treats a job missing from sacct and squeue as queued during the grace period (accounting lags), then as lost unless it left a marker', async () => {
    let squeueUp = false;
    let accounting = true;
    const connector = new FakeConnector()
      .on('sacct', () => (accounting ? { stdout: '' } : { code: 1, stderr: 'sacct: error: Slurm accounting storage is disabled\n' }))
      // squeue fails on a single id it no longer knows; or the controller does not answer at all.
      .on('squeue', () =>
        squeueUp ? { code: 1, stderr: 'slurm_load_jobs error: Invalid job id specified\n' } : { code: 1, stderr: 'slurm_load_jobs error: Unable to contact slurm controller\n' },
      );
    const launcher = newLauncher(connector, {}, { missingGraceMs: 60_000 });
    const fresh = handle('30');
    const old = handle('31', { submittedAt: new Date(Date.now() - 120_000).toISOString() });
    const finished = handle('32', { submittedAt: new Date(Date.now() - 120_000).toISOString() });
    connector.files.set(`${finished.directory}/done`, '');
    // Accounting lags (and the controller may not answer): a job just submitted counts as queued.
    expect((await launcher.status([fresh]))[0]).toMatchObject({ state: 'queued' });
    squeueUp = true;
    expect((await launcher.status([fresh]))[0]).toMatchObject({ state: 'queued' });
    squeueUp = false;
    const [oldStatus] = await launcher.status([old]);
    expect(oldStatus).toMatchObject({ state: 'finished', failure: { reason: 'lost' } });
    expect(oldStatus!.failure!.message).toContain('31');
    expect(await launcher.status([finished])).toEqual([{ state: 'finished' }]);
    // Accounting off: squeue alone answers. The controller lists a job from sbatch on, until
    // MinJobAge after its end: one it does not know has ended, however recently it was submitted.
    accounting = false;
    squeueUp = true;
    const other = newLauncher(connector, {}, { missingGraceMs: 60_000 });
    expect((await other.status([fresh]))[0]).toMatchObject({ state: 'finished', failure: { reason: 'lost' } });
  });

  it('with accounting off, a job that ended and that squeue forgot keeps the failed marker job.sh wrote, and its code', async () => {
    const connector = new FakeConnector()
      .on('sacct', () => ({ code: 1, stderr: 'sacct: error: Slurm accounting storage is disabled\n' }))
      .on('squeue', () => ({ code: 1, stderr: 'slurm_load_jobs error: Invalid job id specified\n' }));
    const launcher = newLauncher(connector, {}, { missingGraceMs: 60_000 });
    // Submitted 10 s ago: within the grace period, which is for accounting lag only.
    const job = handle('33', { submittedAt: new Date(Date.now() - 10_000).toISOString() });
    const marker = '{"code":3,"reason":"failed","message":"exited with code 3","start":1796135000,"end":1796135001,"host":"vm"}\n';
    connector.files.set(`${job.directory}/failed`, marker);
    expect(await launcher.status([job])).toEqual([{ state: 'finished' }]);
    expect(connector.files.get(`${job.directory}/failed`)).toBe(marker);
  });

  it("lets the job's own markers win over a SLURM that still says RUNNING or COMPLETING", async () => {
    const connector = new FakeConnector().on(
      'sacct',
      sacctAnswer(['40|RUNNING|0:0|None|debug|UNLIMITED', '41|COMPLETING|0:0|None|debug|UNLIMITED', '42|RUNNING|0:0|None|debug|UNLIMITED', '43|RUNNING|0:0|None|debug|UNLIMITED']),
    );
    const [done, failed, cancelled, running] = ['40', '41', '42', '43'].map((id) => handle(id));
    connector.files.set(`${done!.directory}/done`, '');
    connector.files.set(`${failed!.directory}/failed`, '{"code":1,"reason":"failed","message":"exited with code 1"}\n');
    // A job.sh that trapped SLURM's SIGTERM: whether that was a time limit or a scancel is SLURM's to say.
    connector.files.set(`${cancelled!.directory}/failed`, '{"code":143,"reason":"cancelled","message":"terminated by SIGTERM"}\n');
    const statuses = await newLauncher(connector).status([done!, failed!, cancelled!, running!]);
    expect(statuses).toEqual([{ state: 'finished' }, { state: 'finished' }, { state: 'running' }, { state: 'running' }]);
  });

  it("writes SLURM's verdict into the marker of a job job.sh only saw signalled (time limit), keeping its provenance", async () => {
    const connector = new FakeConnector().on(
      'sacct',
      sacctAnswer(['60|TIMEOUT|0:15|TimeLimit|debug|00:01:00', '61|CANCELLED|0:15|None|debug|00:01:00', '62|TIMEOUT|0:15|TimeLimit|debug|00:01:00']),
    );
    const [timedOut, cancelled, ownExit] = ['60', '61', '62'].map((id) => handle(id));
    const signalled = '{"code":143,"reason":"cancelled","message":"terminated by SIGTERM","start":1796135000,"end":1796135060,"host":"vm"}\n';
    connector.files.set(`${timedOut!.directory}/failed`, signalled);
    connector.files.set(`${cancelled!.directory}/failed`, signalled);
    connector.files.set(`${ownExit!.directory}/failed`, '{"code":2,"reason":"failed","message":"exited with code 2"}\n');
    const statuses = await newLauncher(connector).status([timedOut!, cancelled!, ownExit!]);
    expect(statuses[0]).toMatchObject({ state: 'finished', failure: { code: 143, reason: 'timeout' } });
    expect(JSON.parse(connector.files.get(`${timedOut!.directory}/failed`)!)).toEqual({
      code: 143,
      reason: 'timeout',
      message: 'SLURM job 60 reached its time limit (00:01:00)',
      start: 1796135000,
      end: 1796135060,
      host: 'vm',
    });
    // A scancel stays job.sh's cancel; a job's own exit code stays its own.
    expect(statuses[1]).toMatchObject({ state: 'finished', failure: { reason: 'cancelled' } });
    expect(connector.files.get(`${cancelled!.directory}/failed`)).toBe(signalled);
    expect(connector.files.get(`${ownExit!.directory}/failed`)).toContain('"code":2');
  });

  it('removes the failed marker of a stopped attempt when SLURM has the job pending again (requeued), and reports it queued', async () => {
    const connector = new FakeConnector()
      .on('sacct', sacctAnswer(['70|REQUEUED|0:0|None|debug|UNLIMITED', '71|PENDING|0:0|None|debug|UNLIMITED', '72|PENDING|0:0|None|debug|UNLIMITED']))
      .on('squeue', () => ({ stdout: '71|PENDING|BeginTime|debug|UNLIMITED\n72|PENDING|Priority|debug|UNLIMITED\n' }));
    const [requeuing, requeued, other] = ['70', '71', '72'].map((id) => handle(id));
    connector.files.set(`${requeuing!.directory}/failed`, '{"code":143,"reason":"cancelled","message":"terminated by SIGTERM"}\n');
    connector.files.set(`${requeued!.directory}/failed`, '{"code":143,"reason":"cancelled","message":"terminated by SIGTERM"}\n');
    // A marker Baton wrote for its own reason is not the launcher's to remove.
    connector.files.set(`${other!.directory}/failed`, '{"code":null,"reason":"rejected","message":"no"}\n');
    const statuses = await newLauncher(connector).status([requeuing!, requeued!, other!]);
    expect(statuses).toEqual([
      { state: 'queued', detail: 'requeued by SLURM' },
      { state: 'queued', detail: 'BeginTime' },
      { state: 'queued', detail: 'Priority' },
    ]);
    expect(connector.files.has(`${requeuing!.directory}/failed`)).toBe(false);
    expect(connector.files.has(`${requeued!.directory}/failed`)).toBe(false);
    expect(connector.files.has(`${other!.directory}/failed`)).toBe(true);
  });

  it('looks at the markers of a pending job once, then again only after it ran (a requeue)', async () => {
    let state = 'PENDING';
    const connector = new FakeConnector().on('sacct', () => ({ stdout: `80|${state}|0:0|None|debug|UNLIMITED\n` })).on('squeue', () => ({ stdout: `80|${state}|Priority|debug|UNLIMITED\n` }));
    const launcher = newLauncher(connector);
    const job = handle('80');
    const marker = '{"code":143,"reason":"cancelled","message":"terminated by SIGTERM"}\n';
    await launcher.status([job]);
    // Written behind SLURM's back while pending: not looked at again (one read per pending job, not per poll).
    connector.files.set(`${job.directory}/failed`, marker);
    await launcher.status([job]);
    expect(connector.files.get(`${job.directory}/failed`)).toBe(marker);
    state = 'RUNNING';
    await launcher.status([job]);
    state = 'PENDING';
    expect(await launcher.status([job])).toEqual([{ state: 'queued', detail: 'Priority' }]);
    expect(connector.files.has(`${job.directory}/failed`)).toBe(false);
  });

  it("cancels a job pending on PartitionTimeLimit and fails it with a message that says how to fix it", async () => {
    const connector = new FakeConnector()
      .on('sacct', sacctAnswer(['50|PENDING|0:0|PartitionConfig|short|00:05:00', '51|PENDING|0:0|None|short|00:05:00']))
      .on('squeue', () => ({ stdout: '50|PENDING|PartitionTimeLimit|short|5:00\n51|PENDING|ReqNodeNotAvail, UnavailableNodes:node3|short|5:00\n' }))
      .on('scancel', () => ({}))
      .on('scontrol', () => ({ stdout: 'PartitionName=short AllowGroups=ALL MaxTime=00:01:00 MinNodes=0 State=UP\n' }));
    const statuses = await newLauncher(connector).status([handle('50'), handle('51')]);
    expect(connector.calls('scancel')).toEqual([['scancel', '50']]);
    expect(connector.calls('scontrol')).toEqual([['scontrol', '-o', 'show', 'partition', 'short']]);
    expect(statuses[0]).toMatchObject({ state: 'finished', failure: { code: null, reason: 'rejected' } });
    expect(statuses[0]!.failure!.message).toMatch(/asks for 5:00 on partition short.*MaxTime=00:01:00.*PartitionTimeLimit.*Lower `time`/);
    // A node that is not available may come back: shown, waited out.
    expect(statuses[1]).toEqual({ state: 'queued', detail: 'ReqNodeNotAvail, UnavailableNodes:node3' });
  });

  it('waits for a preempted job to be requeued, then fails it as preempted', async () => {
    let state = 'PREEMPTED';
    const connector = new FakeConnector().on('sacct', () => ({ stdout: `60|${state}|0:15|None|debug|UNLIMITED\n` }));
    const patient = newLauncher(connector, {}, { preemptedGraceMs: 60_000 });
    expect((await patient.status([handle('60')]))[0]).toMatchObject({ state: 'queued', detail: expect.stringContaining('preempted') });
    state = 'PENDING';
    expect((await patient.status([handle('60')]))[0]).toMatchObject({ state: 'queued' });
    state = 'PREEMPTED';
    const impatient = newLauncher(connector, {}, { preemptedGraceMs: 0 });
    expect((await impatient.status([handle('60')]))[0]).toMatchObject({ state: 'finished', failure: { reason: 'preempted' } });
  });

  it('answers unknown for a handle without a SLURM id, without running anything', async () => {
    const connector = new FakeConnector();
    const statuses = await newLauncher(connector).status([handle('x', { clusterId: undefined })]);
    expect(statuses[0]).toMatchObject({ state: 'unknown' });
    expect(connector.commands).toHaveLength(0);
  });
});

describe('cancel', () => {
  it('cancels all jobs with one scancel', async () => {
    const connector = new FakeConnector().on('scancel', () => ({}));
    const launcher = newLauncher(connector);
    await launcher.cancel([handle('70'), handle('71_3'), handle('71_4'), handle('70')]);
    expect(connector.calls('scancel')).toEqual([['scancel', '70', '71_3', '71_4']]);
    expect(launcher.commandCounts.scancel).toBe(1);
  });
});

describe('plugin', () => {
  it('declares the slurm launcher, built from validated settings, describing its host from them', async () => {
    expect(plugin.name).toBe('slurm');
    const factory = plugin.launchers.slurm;
    const settings = factory.settings.parse({ partition: 'gpu', time: '4h', cpusPerTask: 8, mem: '64G', gpusPerNode: 2, pollInterval: 2000, maxConcurrent: 100, priority: 3 });
    const launcher = await factory.create(settings, { name: 'gpu', workspacePath: WORKSPACE, connector: new FakeConnector(), logger });
    expect(launcher).toMatchObject({ name: 'gpu', kind: 'slurm', pollIntervalMs: 2000, maxConcurrent: 100 });
    expect(launcher.host).toEqual({ cores: 8, memory: 64 * 1024 ** 3, gpus: 2, maxDuration: 4 * 3600, priority: 3 });
  });

  it('declares the memory of its GPUs, which cuda(mem=...) requirements are matched against', async () => {
    const factory = plugin.launchers.slurm;
    const launcher = await factory.create(factory.settings.parse({ gpusPerNode: 4, gpuMemory: '40G' }), {
      name: 'a100',
      workspacePath: WORKSPACE,
      connector: new FakeConnector(),
      logger,
    });
    expect(launcher.host).toMatchObject({ gpus: 4, gpuMemory: 40 * 1024 ** 3 });
    expect(hostShortfall(launcher.host, parseRequirements('cuda(mem=24G)')[0]!)).toBeUndefined();
    expect(hostShortfall(launcher.host, parseRequirements('cuda(mem=80G)')[0]!)).toMatch(/40G/);
    expect(factory.settings.safeParse({ gpuMemory: '40' }).success).toBe(false);
  });
});

function launcherCount(connector: FakeConnector): number {
  return connector.calls('sbatch').length;
}
