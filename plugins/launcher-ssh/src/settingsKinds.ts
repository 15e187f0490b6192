// The kinds of this plugin, added to the settings types of @baton/core, so that
// `defineSettings` checks `use: ssh-pool` launcher blocks and `use: ssh` connector blocks
// in a baton.config.ts that has this package's types in scope
// (`import type {} from '@baton/launcher-ssh'`).
import type { z } from 'zod';
import type { sshPoolLauncherSettings } from './sshPoolLauncher.ts';
import type { sshConnectorSettings } from './sshSettings.ts';

declare module '@baton/core' {
  interface LauncherKinds {
    'ssh-pool': z.input<typeof sshPoolLauncherSettings>;
  }
  interface ConnectorKinds {
    ssh: z.input<typeof sshConnectorSettings>;
  }
}
