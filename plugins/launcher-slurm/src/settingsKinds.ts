// The launcher kind of this plugin, added to the settings types of @baton/core, so that
// `defineSettings` checks `use: slurm` blocks in a baton.config.ts that has this
// package's types in scope (`import type {} from '@baton/launcher-slurm'`).
import type { z } from 'zod';
import type { slurmLauncherSettings } from './slurmSettings.ts';

declare module '@baton/core' {
  interface LauncherKinds {
    slurm: z.input<typeof slurmLauncherSettings>;
  }
}
