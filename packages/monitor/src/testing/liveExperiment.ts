// A real experiment for the monitor's tests: a workspace in the OS temp folder, run by the
// real local launcher (each job a process of its own), with tasks that sleep and print.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { LocalConnector, createLogger, defineTask, experiment, type Experiment, type Launcher, type Workspace } from '@baton/core';
import { LocalLauncher } from '@baton/launcher-local';

/** Prints a line, sleeps, prints another: long enough to be seen running. */
export const sleeper = defineTask({
  id: 'sleeper',
  params: z.object({ label: z.string(), seconds: z.number() }),
  command: ({ label, seconds }) => ['sh', '-c', 'echo "start $0"; echo "to stderr $0" >&2; sleep "$1"; echo "end $0"', label, String(seconds)],
});

/** Takes a sleeper's output: a job with a dependency. */
export const summary = defineTask({
  id: 'summary',
  params: z.object({ input: z.string() }),
  command: ({ input }) => ['sh', '-c', 'echo "summary of $0"', input],
});

export interface LiveExperiment {
  root: string;
  workspace: Workspace;
  xp: Experiment;
}

export async function startLiveExperiment(name: string): Promise<LiveExperiment> {
  const root = await mkdtemp(join(tmpdir(), 'baton-monitor-live-'));
  const connector = new LocalConnector();
  const local = new LocalLauncher({ name: 'local', connector, logger: createLogger('baton:test:monitor'), pollIntervalMs: 200, cancelGraceMs: 500 });
  const launchers = new Map<string, Launcher>([['local', local]]);
  const workspace: Workspace = {
    id: 'monitor-test',
    path: join(root, 'ws'),
    env: {},
    connector,
    launchers,
    defaultLauncher: 'local',
    tokens: new Map(),
    close: async () => undefined,
  };
  const xp = await experiment({ name, openedWorkspace: workspace });
  return { root, workspace, xp };
}
