// @baton/example-plugin-echo: the smallest useful launcher plugin. Its default
// export declares one launcher kind, `echo-local`, with the schema of its
// settings block; Baton validates the block and calls `create` with the result.
import { definePlugin } from '@baton/core';
import { z } from 'zod';
import { EchoLauncher } from './echoLauncher.ts';

export { EchoLauncher } from './echoLauncher.ts';
export type { EchoLauncherOptions } from './echoLauncher.ts';

/** The keys of a `{ use: echo-local, ... }` block. `.strict()`: an unknown key is a typo, reported with a did-you-mean. */
export const echoLauncherSettings = z
  .object({
    tag: z.string().min(1).default('echo').describe('Written into each job directory as `launched-by: <tag>`'),
    maxConcurrent: z.number().int().positive().default(2).describe('Most jobs running at once for one experiment process'),
  })
  .strict();

export type EchoLauncherSettings = z.output<typeof echoLauncherSettings>;

export default definePlugin({
  name: 'echo-launcher',
  launchers: {
    'echo-local': {
      settings: echoLauncherSettings,
      create: (settings: EchoLauncherSettings, context) =>
        new EchoLauncher({
          name: context.name,
          connector: context.connector,
          logger: context.logger,
          tag: settings.tag,
          maxConcurrent: settings.maxConcurrent,
        }),
    },
  },
});
