// The launcher kind of this plugin, added to the settings types of @baton/core, so that
// `defineSettings` checks `use: oar` blocks in a baton.config.ts that has this
// package's types in scope (`import type {} from '@baton/launcher-oar'`).
import type { z } from 'zod';
import type { oarLauncherSettings } from './oarSettings.ts';

declare module '@baton/core' {
  interface LauncherKinds {
    oar: z.input<typeof oarLauncherSettings>;
  }
}
