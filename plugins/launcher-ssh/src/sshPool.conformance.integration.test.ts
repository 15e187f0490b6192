// The `ssh-pool` launcher against the launcher conformance kit of @baton/core: jobs as
// detached processes of a remote host, everything on it through the real SSH connector
// to the loopback sshd of `bash scripts/sshd-loopback.sh start`, as its non-root user.
import { launcherConformance } from '@baton/core/testing';
import { beforeAll } from 'vitest';
import plugin, { SshConnector, sshConnectorSettings } from './index.ts';
import { loopbackSettings, probeLoopbackSsh, START_HINT } from './testing/loopbackSsh.ts';

const probe = await probeLoopbackSsh();
const inCI = process.env.CI === 'true';
if (!probe.ssh && !inCI) console.warn(`SSH pool conformance tests skipped: ${probe.problem}; ${START_HINT}`);

beforeAll(() => {
  if (!probe.ssh) throw new Error(`CI=true but no loopback sshd: ${probe.problem}; ${START_HINT}`);
});

launcherConformance({
  name: 'ssh-pool launcher over the SSH connector (conformance kit)',
  plugin,
  kind: 'ssh-pool',
  settings: { maxConcurrent: 4, pollInterval: 200 },
  connector: () => SshConnector.connect(sshConnectorSettings.parse(loopbackSettings(probe.ssh!))),
  skip: !probe.ssh && !inCI ? `${probe.problem}; ${START_HINT}` : false,
});
