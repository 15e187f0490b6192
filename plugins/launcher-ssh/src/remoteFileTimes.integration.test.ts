// Modification times by the host's clock over SSH, and what core's fresh claims need of
// them: a job claimed by a Baton on the host (local connector) is seen as claimed by a
// Baton reaching the same workspace over SSH, so neither launches it twice.
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// Tests only: core's scheduler and connector from their sources.
import { LocalConnector } from '../../../packages/core/src/connector/localConnector.ts';
import { FreshClaims } from '../../../packages/core/src/scheduler/freshClaims.ts';
import { SshConnector, sshConnectorSettings } from './index.ts';
import { loopbackSettings, probeLoopbackSsh, START_HINT } from './testing/loopbackSsh.ts';

const probe = await probeLoopbackSsh();
const inCI = process.env.CI === 'true';
if (!probe.ssh && !inCI) console.warn(`SSH integration tests skipped: ${probe.problem}; ${START_HINT}`);

describe.skipIf(!probe.ssh && !inCI)('modification times over SSH, by the host clock', () => {
  let ssh: SshConnector;
  let folder: string;

  beforeAll(async () => {
    if (!probe.ssh) throw new Error(`CI=true but the loopback sshd does not answer (${probe.problem}): the SSH integration suite cannot run; ${START_HINT}`);
    ssh = await SshConnector.connect(sshConnectorSettings.parse(loopbackSettings(probe.ssh)));
    folder = `/tmp/baton-ssh-times-${randomBytes(6).toString('hex')}`;
    await ssh.mkdir(folder);
  });

  afterAll(async () => {
    // The host is this machine, and the Baton "on the host" of the claim test wrote as this user.
    if (folder) await new LocalConnector().remove(folder);
    await ssh?.close();
  });

  it('reads a file age, sets one in the past, and answers undefined for a missing file (names with quotes and spaces)', async () => {
    const file = `${folder}/it's a "file" $(x)`;
    await ssh.writeFile(file, 'x');
    expect(await ssh.modifiedAgo(file)).toBeLessThan(5_000);
    await ssh.setModifiedAgo(file, 60_000);
    const age = (await ssh.modifiedAgo(file))!;
    expect(age).toBeGreaterThanOrEqual(59_000);
    expect(age).toBeLessThan(65_000);
    expect(await ssh.modifiedAgo(`${folder}/missing`)).toBeUndefined();
  });

  it('sees a fresh claim made by a Baton on the host as held, until that Baton lets it go', async () => {
    const directory = `${folder}/jobs/task/${randomBytes(8).toString('hex')}`;
    const onHost = new FreshClaims(new LocalConnector());
    const overSsh = new FreshClaims(ssh);
    expect(overSsh.supported).toBe(true);
    expect(await onHost.make(directory)).toBe(true);
    await writeFile(`${directory}/params.json`, '{}');
    onHost.hold(directory);
    try {
      expect(await overSsh.make(directory)).toBe(false);
      expect(await overSsh.heldElsewhere(directory, Date.now())).toBe(true);
    } finally {
      await onHost.release(directory, false);
      onHost.close();
    }
    expect(await overSsh.heldElsewhere(directory, Date.now())).toBe(false);
  });
});
