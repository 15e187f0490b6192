// The `ssh-pool` launcher: the local launcher's pool of detached processes, run on
// the remote host of the workspace's ssh connector. Each job is `/bin/sh job.sh`
// in its own session there (setsid), found again from its pid after a restart of
// the experiment or a lost connection; at most `maxConcurrent` at once (default:
// the host's cores).
import { UserInputError, type Connector, type HostDescription, type LauncherContext } from '@baton/core';
import { LocalLauncher, localLauncherSettings, type LocalLauncherSettings } from '@baton/launcher-local';

export const sshPoolLauncherSettings = localLauncherSettings;
export type SshPoolLauncherSettings = LocalLauncherSettings;

export async function createSshPoolLauncher(settings: SshPoolLauncherSettings, context: LauncherContext): Promise<LocalLauncher> {
  const { connector, name } = context;
  if (connector.kind !== 'ssh') {
    throw new UserInputError(`Launcher "${name}" (ssh-pool) runs jobs on a remote host, but its workspace is on ${connector.kind === 'local' ? 'this machine' : `a ${connector.kind} connector`}`, {
      hint: 'declare the host under `connectors:` (e.g. gpu1: { use: ssh, host: gpu1.lab }) and name it with `connector: gpu1` on the workspace or on this launcher; for jobs on this machine use `use: local`',
    });
  }
  const host = await describeHost(connector);
  return new LocalLauncher({
    name,
    kind: 'ssh-pool',
    connector,
    logger: context.logger,
    host,
    maxConcurrent: settings.maxConcurrent ?? host.cores ?? 1,
    pollIntervalMs: settings.pollInterval,
    cancelGraceMs: settings.cancelGraceMs,
  });
}

/** Cores and memory of the remote host, in one command. */
async function describeHost(connector: Connector): Promise<HostDescription> {
  const script = 'getconf _NPROCESSORS_ONLN 2>/dev/null || nproc 2>/dev/null || echo 1; sed -n "s/^MemTotal: *\\([0-9]*\\) kB$/\\1/p" /proc/meminfo 2>/dev/null';
  const result = await connector.run(['/bin/sh', '-c', script], { timeoutMs: 30_000 });
  const [cores, memoryKb] = result.stdout.trim().split('\n').map(Number);
  return {
    cores: Number.isInteger(cores) && cores! > 0 ? cores : 1,
    ...(Number.isFinite(memoryKb) && memoryKb! > 0 ? { memory: memoryKb! * 1024 } : {}),
    gpus: 0,
  };
}
