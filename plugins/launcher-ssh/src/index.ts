// @baton/launcher-ssh: the `ssh` connector, which lets launchers (the SLURM one, for
// instance) reach a remote host over one multiplexed SSH connection, and the
// `ssh-pool` launcher, which runs jobs as detached processes on that host.
import { definePlugin } from '@baton/core';
import { SshConnector } from './sshConnector.ts';
import { createSshPoolLauncher, sshPoolLauncherSettings, type SshPoolLauncherSettings } from './sshPoolLauncher.ts';
import { sshConnectorSettings, type SshConnectorSettings } from './sshSettings.ts';
import './settingsKinds.ts'; // types `use:` blocks of this plugin's kinds in defineSettings

export { SshConnector } from './sshConnector.ts';
export type { SshConnectorOptions } from './sshConnector.ts';
export { sshConnectorSettings } from './sshSettings.ts';
export type { SshConnectorSettings, SshConnectorInput } from './sshSettings.ts';
export type { ConnectionStats } from './sshConnection.ts';
export { checkHostKey, fingerprint, knownHostsName } from './knownHosts.ts';
export type { HostKeyVerdict } from './knownHosts.ts';
export { createSshPoolLauncher, sshPoolLauncherSettings } from './sshPoolLauncher.ts';
export type { SshPoolLauncherSettings } from './sshPoolLauncher.ts';

export default definePlugin({
  name: 'ssh',
  connectors: {
    ssh: {
      settings: sshConnectorSettings,
      create: (settings: SshConnectorSettings, context) => SshConnector.connect(settings, { logger: context.logger }),
    },
  },
  launchers: {
    'ssh-pool': {
      settings: sshPoolLauncherSettings,
      create: (settings: SshPoolLauncherSettings, context) => createSshPoolLauncher(settings, context),
    },
  },
});
