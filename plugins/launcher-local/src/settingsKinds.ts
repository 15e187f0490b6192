// The launcher kinds of this plugin, added to the settings types of @baton/core, so that
// `defineSettings` checks `use: local` and `use: threads` blocks in a baton.config.ts
// that has this package's types in scope (`import type {} from '@baton/launcher-local'`).
import type { z } from 'zod';
import type { localLauncherSettings, threadsLauncherSettings } from './index.ts';

declare module '@baton/core' {
  interface LauncherKinds {
    local: z.input<typeof localLauncherSettings>;
    threads: z.input<typeof threadsLauncherSettings>;
  }
}
