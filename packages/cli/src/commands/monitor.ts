// `baton monitor`: the web monitor of a whole workspace, read from its files, served until
// Ctrl-C (e.g. on a cluster's login node, reached through an SSH tunnel).
import { LocalConnector, type Workspace } from '@baton/core';
import { launcherStatus } from '../launcherStatus.ts';
import { locateWorkspace, openWorkspaceWithLaunchers } from '../workspaceOptions.ts';
import type { MonitorCommandOptions } from './monitorCommand.ts';
import { monitorLaunchers } from './monitorLaunchers.ts';
import { printMonitorAddress } from './monitorAddress.ts';

const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

export async function monitorCommand(options: MonitorCommandOptions): Promise<void> {
  const located = await locateWorkspace(options);
  // Launchers (settings, plugins) are opened only when a job needs one: a cluster job's state, a kill.
  let opened: Promise<Workspace | undefined> | undefined = located.opened && Promise.resolve(located.opened);
  const workspace = () => (opened ??= openWorkspaceWithLaunchers({ options: options.workspace === undefined ? { ...options, workdir: located.path } : options, required: false }));
  const connector = located.opened?.connector ?? new LocalConnector();
  const { createMonitor } = await import('@baton/monitor');
  let monitor: Awaited<ReturnType<typeof createMonitor>> | undefined;
  try {
    monitor = await createMonitor({
      workspace: located.opened ?? located.path,
      host: options.host,
      port: options.port,
      status: launcherStatus(workspace),
      launcher: monitorLaunchers({ workspace, connector }),
    });
    printMonitorAddress({ monitor, print: (line, stream) => process[stream].write(`${line}\n`) });
    process.stdout.write(`Serving workspace ${located.path}; press Ctrl-C to stop.\n`);
    await new Promise<void>((resolve) => {
      for (const signal of STOP_SIGNALS) process.once(signal, () => resolve());
    });
  } finally {
    await monitor?.close();
    await (await opened)?.close();
    if (!located.opened) await connector.close?.();
  }
}
