// The monitor of one run of `baton run-experiment --host/--port`: it serves while the run
// does (it never keeps the process alive by itself), and closes with it.
import type { Experiment } from '@baton/core';
import type { Monitor } from '@baton/monitor';
import type { StatusLine } from '../output/statusLine.ts';
import { monitorLaunchers } from './monitorLaunchers.ts';
import type { RunExperimentOptions } from './runExperimentCommand.ts';

/** --port N (N ≥ 0), or --host alone (on a free port); a negative port, or neither, is no monitor; a dry run has none. */
export function wantsRunMonitor(options: Pick<RunExperimentOptions, 'host' | 'port' | 'runMode'>): boolean {
  if (options.runMode === 'dry-run') return false;
  return options.port !== undefined ? options.port >= 0 : options.host !== undefined;
}

/** Starts the run's monitor and says where it is; a monitor that cannot start is a warning: the run goes on. */
export async function startRunMonitor(options: { xp: Experiment; host?: string; port?: number; statusLine: StatusLine }): Promise<Monitor | undefined> {
  const { xp, statusLine } = options;
  try {
    // The web server is loaded only for a run that asks for it.
    const [{ createMonitor }, { printMonitorAddress }] = await Promise.all([import('@baton/monitor'), import('./monitorAddress.ts')]);
    const monitor = await createMonitor({
      experiment: xp,
      host: options.host,
      port: Math.max(0, options.port ?? 0),
      holdProcess: false,
      launcher: monitorLaunchers({ workspace: async () => xp.workspace, connector: xp.workspace.connector }),
    });
    printMonitorAddress({ monitor, print: (line, stream) => statusLine.print(line, stream) });
    return monitor;
  } catch (error) {
    const where = `${options.host ?? '127.0.0.1'}:${options.port ?? 0}`;
    statusLine.print(`warning: the monitor could not start on ${where}: ${(error as Error).message}; the experiment goes on without it\n  fix: give another --port (0: any free port)`, 'stderr');
    return undefined;
  }
}
