// @baton/launcher-ssh: the `ssh` connector, which lets launchers (the SLURM one, for
// instance) reach a remote host over one multiplexed SSH connection.
import { definePlugin } from '@baton/core';
import { SshConnector } from './sshConnector.ts';
import { sshConnectorSettings, type SshConnectorSettings } from './sshSettings.ts';

export { SshConnector } from './sshConnector.ts';
export type { SshConnectorOptions } from './sshConnector.ts';
export { sshConnectorSettings } from './sshSettings.ts';
export type { SshConnectorSettings, SshConnectorInput } from './sshSettings.ts';
export type { ConnectionStats } from './sshConnection.ts';
export { checkHostKey, fingerprint, knownHostsName } from './knownHosts.ts';
export type { HostKeyVerdict } from './knownHosts.ts';

export default definePlugin({
  name: 'ssh',
  connectors: {
    ssh: {
      settings: sshConnectorSettings,
      create: (settings: SshConnectorSettings, context) => SshConnector.connect(settings, { logger: context.logger }),
    },
  },
});
