// The OAR launcher, unchanged, driven over the ssh connector: oarsub, oarstat and
// oardel run on the "frontend" (the loopback sshd of `bash scripts/sshd-loopback.sh
// start`, as its non-root user, whom OAR lets submit) against the real OAR of
// `bash scripts/oar-cluster.sh start`; the workspace lives in that user's home on the
// host, its job files written there through SFTP.
import { type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { experiment, type Experiment } from '@baton/core';
import type { OarLauncher } from '@baton/launcher-oar';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { exitWith, sleeper } from '../../launcher-oar/src/__fixtures__/oarTasks.ts';
import { oarClusterUp, START_HINT as OAR_START_HINT } from '../../launcher-oar/src/testing/oarCluster.ts';
import { SshConnector, sshConnectorSettings } from './index.ts';
import { loopbackSettings, probeLoopbackSsh, START_HINT } from './testing/loopbackSsh.ts';
import { until } from './testing/processes.ts';

const repositoryRoot = fileURLToPath(new URL('../../../', import.meta.url));
const SSH_PLUGIN = fileURLToPath(new URL('./index.ts', import.meta.url));
const OAR_PLUGIN = join(repositoryRoot, 'plugins/launcher-oar/src/index.ts');

const probe = await probeLoopbackSsh();
const clusterUp = oarClusterUp();
const inCI = process.env.CI === 'true';
const ready = Boolean(probe.ssh) && clusterUp;
if (!ready && !inCI) {
  console.warn(`OAR-over-SSH integration tests skipped: ${probe.ssh ? `no OAR cluster answers \`oarnodes -s\`; ${OAR_START_HINT}` : `${probe.problem}; ${START_HINT}`}`);
}

const locals: string[] = [];
const remotes: string[] = [];
const children: ChildProcess[] = [];
let connector: SshConnector;
let remoteHome: string;

/** A local folder with the settings; the workspace is a fresh folder in the SSH user's home on the host. */
async function open(name: string): Promise<{ xp: Experiment; remote: string }> {
  const ssh = probe.ssh!;
  const root = await mkdtemp(join(tmpdir(), 'baton-oar-ssh-'));
  const remote = `${remoteHome}/baton-oar-ssh-it-${randomBytes(4).toString('hex')}`;
  locals.push(root);
  remotes.push(remote);
  await writeFile(
    join(root, 'baton.config.yaml'),
    [
      `plugins: [${JSON.stringify(SSH_PLUGIN)}, ${JSON.stringify(OAR_PLUGIN)}]`,
      'connectors:',
      `  frontend: ${JSON.stringify({ use: 'ssh', ...loopbackSettings(ssh) })}`,
      'workspaces:',
      '  - id: cluster',
      `    path: ${remote}`,
      '    launcher: cluster',
      '    launchers:',
      "      cluster: { use: oar, connector: frontend, walltime: '0:10:00', pollInterval: 500 }",
      '',
    ].join('\n'),
  );
  return { xp: await experiment({ name, cwd: root }), remote };
}

function counts(xp: Experiment): OarLauncher['commandCounts'] {
  return (xp.workspace.launchers.get('cluster') as OarLauncher).commandCounts;
}

describe.skipIf(!ready && !inCI)('OAR over SSH', () => {
  beforeAll(async () => {
    if (!ready) throw new Error(`CI=true but the OAR-over-SSH suite cannot run: ${probe.problem ?? `no OAR cluster answers \`oarnodes -s\`; ${OAR_START_HINT}`}`);
    connector = await SshConnector.connect(sshConnectorSettings.parse(loopbackSettings(probe.ssh!)));
    remoteHome = (await connector.run(['sh', '-c', 'echo "$HOME"'])).stdout.trim();
  });

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    for (const remote of remotes) await connector?.remove(remote).catch(() => undefined);
    await connector?.close();
    await Promise.all(locals.map((root) => rm(root, { recursive: true, force: true })));
  });

  describe.concurrent('jobs', () => {
    it('runs jobs to success and failure with their real exit codes, one oarsub for both, the files written on the host by its user', async ({ expect }) => {
      const { xp, remote } = await open('ssh-exit-codes');
      const ok = xp.submit(exitWith, { code: 0 });
      const bad = xp.submit(exitWith, { code: 3 });
      const summary = await xp.wait();
      const commands = counts(xp);
      await xp.close();
      expect(summary.counts, JSON.stringify([ok.failure, bad.failure])).toMatchObject({ done: 1, failed: 1 });
      expect(bad.failure).toMatchObject({ code: 3, reason: 'failed' });
      const handle = JSON.parse(await connector.readFile(`${ok.directory}/process.json`)) as { kind: string; clusterId: string };
      expect(handle.kind).toBe('oar');
      expect(await connector.readFile(`${ok.directory}/stdout`)).toBe(`exiting with 0 () in OAR job ${handle.clusterId}\n`);
      expect(JSON.parse(await connector.readFile(`${bad.directory}/failed`))).toMatchObject({ code: 3, reason: 'failed' });
      // Both ready together: one oarsub (an array).
      expect(commands.oarsub).toBe(1);
      expect((await connector.run(['find', remote, '-not', '-user', probe.ssh!.user])).stdout).toBe('');
    });

    it('cancels a running job with oardel over SSH', async ({ expect }) => {
      const { xp } = await open('ssh-cancel');
      const running = xp.submit(sleeper, { seconds: 300, label: 'cancel-me' });
      await until(async () => ((await connector.readFileIfExists(`${running.directory}/stdout`)) ?? '').includes('started'), 60_000, 'the job to start');
      await xp.stop({ kill: true });
      await until(() => running.state === 'failed', 60_000, 'the job to be reported cancelled');
      const commands = counts(xp);
      await xp.close();
      expect(running.failure?.reason, running.failure?.message).toBe('cancelled');
      expect(commands.oardel).toBe(1);
      expect(JSON.parse(await connector.readFile(`${running.directory}/failed`)).reason).toBe('cancelled');
    });
  });
});
