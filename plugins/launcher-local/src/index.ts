// @baton/launcher-local: runs jobs as detached processes on this machine.
import { availableParallelism } from 'node:os';
import { definePlugin } from '@baton/core';
import { z } from 'zod';
import { LocalLauncher } from './localLauncher.ts';

export { LocalLauncher } from './localLauncher.ts';
export type { LocalLauncherOptions } from './localLauncher.ts';

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
  },
});
