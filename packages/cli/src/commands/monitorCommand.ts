// `baton monitor`: its options. What it does (monitor.ts, and the web server) is imported
// when it runs, so that `baton --help` and other commands do not load it.
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { addHelpExamples } from '../help.ts';
import { addWorkspaceOptions, type WorkspaceOptions } from '../workspaceFlags.ts';

export type MonitorCommandOptions = WorkspaceOptions & { host?: string; port: number };

export function registerMonitorCommand(program: Command): void {
  const monitor = addWorkspaceOptions(
    program
      .command('monitor')
      .description('serve the web monitor of a whole workspace (every experiment and job on disk) until Ctrl-C')
      .option('--host <host>', 'address to listen on (default 127.0.0.1: this machine only)', parseHost)
      .option('--port <n>', 'port to listen on (0: any free port)', parseMonitorPort, 0),
  ).action(async (options: MonitorCommandOptions) => (await import('./monitor.ts')).monitorCommand(options));
  addHelpExamples(monitor, {
    examples: [
      { command: 'baton monitor', does: 'the default workspace, on 127.0.0.1 and a free port' },
      { command: 'baton monitor --workspace cluster --port 8080', does: 'the workspace "cluster", on port 8080' },
    ],
    docs: 'monitor.md',
  });
}

function parseMonitorPort(value: string): number {
  if (!/^\d+$/.test(value.trim()) || Number(value) > 65535) throw new InvalidArgumentError('expected a port from 0 (any free port) to 65535.');
  return Number(value);
}

function parseHost(value: string): string {
  if (value.trim() === '') throw new InvalidArgumentError('expected a host name or address, e.g. localhost or 0.0.0.0.');
  return value.trim();
}
