// The SLURM launcher, unchanged, driven over the ssh connector: sbatch, sacct,
// squeue and scancel run on the "login node" (the loopback sshd of
// `bash scripts/sshd-loopback.sh start`, as its non-root user) against the real
// SLURM of `bash scripts/slurm-cluster.sh start`; the workspace lives on that
// host, its job files written there through SFTP.
import { spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { experiment, type Experiment } from '@baton/core';
import type { SlurmLauncher } from '@baton/launcher-slurm';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { exitWith, sleeper } from '../../launcher-slurm/src/__fixtures__/slurmTasks.ts';
import { SshConnector, sshConnectorSettings } from './index.ts';
import { loopbackSettings, probeLoopbackSsh, START_HINT } from './testing/loopbackSsh.ts';
import { startDriver, until } from './testing/processes.ts';

const repositoryRoot = fileURLToPath(new URL('../../../', import.meta.url));
const SSH_PLUGIN = fileURLToPath(new URL('./index.ts', import.meta.url));
const SLURM_PLUGIN = join(repositoryRoot, 'plugins/launcher-slurm/src/index.ts');
const DRIVER = join(repositoryRoot, 'plugins/launcher-slurm/src/__fixtures__/slurmDriver.ts');

const probe = await probeLoopbackSsh();
const clusterUp = spawnSync('sinfo', ['-h'], { timeout: 15_000, stdio: 'ignore' }).status === 0;
const inCI = process.env.CI === 'true';
const ready = Boolean(probe.ssh) && clusterUp;
if (!ready && !inCI) {
  console.warn(
    `SLURM-over-SSH integration tests skipped: ${probe.ssh ? 'no SLURM cluster answers `sinfo -h` (start it with: bash scripts/slurm-cluster.sh start)' : `${probe.problem}; ${START_HINT}`}`,
  );
}

const locals: string[] = [];
const remotes: string[] = [];
const children: ChildProcess[] = [];
let connector: SshConnector;

/** A local folder with the settings; the workspace is a fresh folder on the host. */
async function project(): Promise<{ root: string; remote: string }> {
  const ssh = probe.ssh!;
  const root = await mkdtemp(join(tmpdir(), 'baton-slurm-ssh-'));
  const remote = `/tmp/baton-slurm-ssh-it-${randomBytes(4).toString('hex')}`;
  locals.push(root);
  remotes.push(remote);
  await writeFile(
    join(root, 'baton.config.yaml'),
    [
      `plugins: [${JSON.stringify(SSH_PLUGIN)}, ${JSON.stringify(SLURM_PLUGIN)}]`,
      'connectors:',
      `  login: ${JSON.stringify({ use: 'ssh', ...loopbackSettings(ssh) })}`,
      'workspaces:',
      '  - id: cluster',
      `    path: ${remote}`,
      '    launcher: cluster',
      '    launchers:',
      '      cluster: { use: slurm, connector: login, partition: debug, time: 10, pollInterval: 500, arrayLimit: 8 }',
      '',
    ].join('\n'),
  );
  return { root, remote };
}

async function open(name: string): Promise<{ xp: Experiment; remote: string; root: string }> {
  const { root, remote } = await project();
  return { xp: await experiment({ name, cwd: root }), remote, root };
}

function counts(xp: Experiment): SlurmLauncher['commandCounts'] {
  return (xp.workspace.launchers.get('cluster') as SlurmLauncher).commandCounts;
}

describe.skipIf(!ready && !inCI)('SLURM over SSH', () => {
  beforeAll(async () => {
    if (!ready) throw new Error(`CI=true but the SLURM-over-SSH suite cannot run: ${probe.problem ?? 'no SLURM cluster answers `sinfo -h`'}`);
    connector = await SshConnector.connect(sshConnectorSettings.parse(loopbackSettings(probe.ssh!)));
  });

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    for (const remote of remotes) await connector?.remove(remote).catch(() => undefined);
    await connector?.close();
    await Promise.all(locals.map((root) => rm(root, { recursive: true, force: true })));
  });

  describe.concurrent('jobs', () => {
    it('runs jobs to success and failure with their real exit codes, the files written on the host by its user', async ({ expect }) => {
      const { xp, remote } = await open('ssh-exit-codes');
      const ok = xp.submit(exitWith, { code: 0 });
      const bad = xp.submit(exitWith, { code: 3 });
      const summary = await xp.wait();
      const commands = counts(xp);
      await xp.close();
      expect(summary.counts).toMatchObject({ done: 1, failed: 1 });
      expect(bad.failure).toMatchObject({ code: 3, reason: 'failed' });
      expect(await connector.readFile(`${ok.directory}/stdout`)).toMatch(/^exiting with 0 \(\) in SLURM job \d+\n$/);
      expect(JSON.parse(await connector.readFile(`${bad.directory}/failed`))).toMatchObject({ code: 3, reason: 'failed' });
      expect(JSON.parse(await connector.readFile(`${ok.directory}/process.json`))).toMatchObject({ kind: 'slurm', launcher: 'cluster' });
      // Both ready together: one sbatch (an array); status by one query per poll.
      expect(commands.sbatch).toBe(1);
      expect((await connector.run(['find', remote, '-not', '-user', 'batontest'])).stdout).toBe('');
    });

    it('submits 20 jobs as one job array over one SSH connection', async ({ expect }) => {
      const { xp } = await open('ssh-array');
      const jobs = Array.from({ length: 20 }, (_, index) => xp.submit(exitWith, { code: 0, label: `task${index}` }));
      const summary = await xp.wait();
      const commands = counts(xp);
      const stats = (xp.workspace.connector as SshConnector).stats;
      await xp.close();
      expect(summary.counts.done).toBe(20);
      expect(commands.sbatch).toBeLessThanOrEqual(3);
      expect(commands.sacct + commands.squeue).toBeLessThan(40);
      expect(stats.connectionsOpened).toBe(1);
      for (const job of jobs) expect(await connector.readFile(`${job.directory}/stdout`)).toMatch(/^exiting with 0 \(task\d+\) in SLURM job \d+\n$/);
    });

    it('cancels a running job with scancel over SSH', async ({ expect }) => {
      const { xp } = await open('ssh-cancel');
      const running = xp.submit(sleeper, { seconds: 300, label: 'cancel-me' });
      await until(async () => ((await connector.readFileIfExists(`${running.directory}/stdout`)) ?? '').includes('started'), 60_000, 'the job to start');
      await xp.stop({ kill: true });
      await until(() => running.state === 'failed', 60_000, 'the job to be reported cancelled');
      const commands = counts(xp);
      await xp.close();
      expect(running.failure?.reason).toBe('cancelled');
      expect(commands.scancel).toBe(1);
      expect(JSON.parse(await connector.readFile(`${running.directory}/failed`)).reason).toBe('cancelled');
    });

    it('re-attaches to its SLURM job after the experiment process is killed, without submitting it again', async ({ expect }) => {
      const { root } = await project();
      const first = startDriver(DRIVER, { cwd: root, name: 'ssh-reattach', seconds: 15 }, children);
      await until(() => first.output().includes('state running'), 90_000, 'the job to run');
      const directory = /^job (.+)$/m.exec(first.output())![1]!;
      await until(async () => connector.exists(`${directory}/process.json`), 30_000, 'process.json');
      const before = JSON.parse(await connector.readFile(`${directory}/process.json`)).clusterId;
      first.child.kill('SIGKILL');
      await first.exited;
      const second = startDriver(DRIVER, { cwd: root, name: 'ssh-reattach', seconds: 15 }, children);
      expect(await second.exited, second.output()).toBe(0);
      expect(second.output()).toContain('"done":1');
      expect(second.output()).toMatch(/commands \{"sbatch":0,/);
      expect(JSON.parse(await connector.readFile(`${directory}/process.json`)).clusterId).toBe(before);
      expect(await connector.readFile(`${directory}/stdout`)).toBe('started\nslept\n');
    });
  });
});
