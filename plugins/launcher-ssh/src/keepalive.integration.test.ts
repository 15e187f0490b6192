// A connection that goes silent (no FIN, no RST: a laptop lid closed, a NAT that
// forgot it): only keepalives can tell. The sshd processes serving the connection
// are stopped (SIGSTOP), as a frozen peer would be; the connector must notice within
// its keepalive budget, fail the command in flight, and connect again afterwards.
import { readFile } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { SshConnector, sshConnectorSettings } from './index.ts';
import { loopbackSettings, probeLoopbackSsh, START_HINT } from './testing/loopbackSsh.ts';
import { processesRunning, sshdAncestors, until } from './testing/processes.ts';

const probe = await probeLoopbackSsh();
const inCI = process.env.CI === 'true';
if (!probe.ssh && !inCI) console.warn(`SSH keepalive integration test skipped: ${probe.problem}; ${START_HINT}`);

const frozen: number[] = [];
afterAll(() => {
  for (const pid of frozen) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

describe.skipIf(!probe.ssh && !inCI)('keepalives', () => {
  it('notice a connection gone silent, fail the command in flight, and the next call reconnects', async () => {
    if (!probe.ssh) throw new Error(`no loopback sshd: ${probe.problem}; ${START_HINT}`);
    const ssh = probe.ssh;
    const connector = await SshConnector.connect(sshConnectorSettings.parse(loopbackSettings(ssh, { keepaliveIntervalMs: 300, keepaliveCountMax: 2 })));
    try {
      const inFlight = connector.run(['sleep', '30.0419']).then(
        () => new Error('the command ended although its connection was frozen'),
        (error: unknown) => error as Error,
      );
      await until(async () => (await processesRunning('sleep\u000030.0419\u0000')).length === 1, 10_000, 'the remote sleep to start');
      const [sleepPid] = await processesRunning('sleep\u000030.0419\u0000');
      const listener = Number((await readFile(ssh.pidFile, 'utf8')).trim());
      const served = await sshdAncestors(sleepPid!, listener);
      expect(served.length).toBeGreaterThanOrEqual(1);
      const stoppedAt = Date.now();
      for (const pid of served) {
        process.kill(pid, 'SIGSTOP');
        frozen.push(pid);
      }
      const error = await inFlight;
      const noticedAfter = Date.now() - stoppedAt;
      expect(error.message).toMatch(/Lost the SSH connection/);
      // Two unanswered keepalives 300 ms apart: well under the command's own 30 s.
      expect(noticedAfter).toBeLessThan(5000);
      const after = await connector.run(['echo', 'back']);
      expect(after.stdout).toBe('back\n');
      expect(connector.stats.connectionsOpened).toBe(2);
      process.kill(sleepPid!, 'SIGKILL');
    } finally {
      await connector.close();
    }
  });
});
