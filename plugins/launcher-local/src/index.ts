// @baton/launcher-local: runs jobs on this machine, as detached processes
// (`local`) or, for function tasks, in a pool of worker threads (`threads`).
import { availableParallelism } from 'node:os';
import { UserInputError, definePlugin } from '@baton/core';
import { z } from 'zod';
import { LocalLauncher } from './localLauncher.ts';
import { ThreadsLauncher } from './threadsLauncher.ts';
import './settingsKinds.ts'; // types `use:` blocks of this plugin's kinds in defineSettings

export { LocalLauncher } from './localLauncher.ts';
export type { LocalLauncherOptions } from './localLauncher.ts';
export { ThreadsLauncher } from './threadsLauncher.ts';
export type { ThreadsLauncherOptions, ThreadsLaunchHandle } from './threadsLauncher.ts';

export const localLauncherSettings = z
  .object({
    maxConcurrent: z
      .number()
      .int()
      .positive()
      .optional()
      .describe('Most jobs running at once for one experiment process (default: the number of cores)'),
    pollInterval: z
      .number()
      .positive()
      .default(1000)
      .describe('Milliseconds between status checks; job ends are also reported at once'),
    cancelGraceMs: z
      .number()
      .int()
      .nonnegative()
      .default(3000)
      .describe('Milliseconds between SIGTERM and SIGKILL when a job is cancelled'),
  })
  .strict();

export type LocalLauncherSettings = z.output<typeof localLauncherSettings>;

export const threadsLauncherSettings = z
  .object({
    maxThreads: z
      .number()
      .int()
      .positive()
      .optional()
      .describe('Most worker threads in the pool, started as jobs wait for one (default: the number of cores)'),
    maxConcurrent: z
      .number()
      .int()
      .positive()
      .optional()
      .describe('Most jobs handed to the launcher at once; those beyond free threads wait in it, queued (default: 128 × maxThreads)'),
    pollInterval: z
      .number()
      .positive()
      .default(1000)
      .describe('Milliseconds between status checks; job ends are also reported at once'),
    idleTimeout: z
      .number()
      .int()
      .nonnegative()
      .default(10_000)
      .describe('Milliseconds an idle thread is kept (with the modules it loaded) before it ends'),
    isolate: z
      .boolean()
      .default(false)
      .describe('A fresh thread for every job, so that jobs share no module state (slower: a thread start per job)'),
  })
  .strict();

export type ThreadsLauncherSettings = z.output<typeof threadsLauncherSettings>;

export default definePlugin({
  name: 'local',
  launchers: {
    local: {
      settings: localLauncherSettings,
      create: (settings: LocalLauncherSettings, context) =>
        new LocalLauncher({
          name: context.name,
          connector: context.connector,
          logger: context.logger,
          maxConcurrent: settings.maxConcurrent ?? availableParallelism(),
          pollIntervalMs: settings.pollInterval,
          cancelGraceMs: settings.cancelGraceMs,
        }),
    },
    threads: {
      settings: threadsLauncherSettings,
      create: (settings: ThreadsLauncherSettings, context) => {
        // Its threads run in the experiment's process, and read and write job files here.
        if (context.connector.kind !== 'local') {
          throw new UserInputError(`Launcher "${context.name}" (threads) runs jobs in this process, but its workspace is on another host (${context.connector.hostname})`, {
            hint: 'use `ssh-pool` (or a cluster launcher) for a workspace on another host; `threads` only for a workspace on this machine',
          });
        }
        return new ThreadsLauncher({
          name: context.name,
          connector: context.connector,
          logger: context.logger,
          maxThreads: settings.maxThreads ?? availableParallelism(),
          ...(settings.maxConcurrent !== undefined ? { maxConcurrent: settings.maxConcurrent } : {}),
          pollIntervalMs: settings.pollInterval,
          idleTimeoutMs: settings.idleTimeout,
          isolate: settings.isolate,
        });
      },
    },
  },
});
