// The settings blocks of the plugin's kinds, as a user writes them in the settings
// file (without `use`). Baton validates each block with its schema when a workspace
// opens; `.describe()` texts go into the JSON schema that editors complete from, and
// the declaration at the end types the blocks in a baton.config.ts (`defineSettings`).
import { z } from 'zod';

/** A `{ use: echo-local, ... }` launcher block. Strict: an unknown key is a typo, reported with a did-you-mean. */
export const echoLauncherSettings = z.strictObject({
  tag: z.string().min(1).default('echo').describe('Written into each job directory as `launched-by: <tag>`'),
  maxConcurrent: z.number().int().positive().default(2).describe('Most jobs running at once for one experiment process'),
  cores: z.number().int().positive().optional().describe('Cores a job may use on the host, matched against task requirements (default: unknown, fits any)'),
});

/** A `{ use: echo-http, ... }` service block. */
export const echoServiceSettings = z.strictObject({
  greeting: z.string().min(1).default('hello').describe('Sent back in every answer'),
  description: z.string().min(1).optional().describe('What the monitor shows (default: the service name)'),
});

/** What `create` receives: the block parsed, defaults filled in. */
export type EchoLauncherSettings = z.output<typeof echoLauncherSettings>;
export type EchoServiceSettings = z.output<typeof echoServiceSettings>;

// Adds the kinds to the settings types of @baton/core (declaration merging), so that
// `defineSettings` checks `use: echo-local` and `use: echo-http` blocks in a
// baton.config.ts that has this package's types in scope
// (`import type {} from '@baton/example-plugin-echo'`).
declare module '@baton/core' {
  interface LauncherKinds {
    'echo-local': z.input<typeof echoLauncherSettings>;
  }
  interface ServiceKinds {
    'echo-http': z.input<typeof echoServiceSettings>;
  }
}
