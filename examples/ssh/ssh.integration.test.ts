// The SSH example, run as its README says (`baton run-experiment ssh.yaml` in
// this folder), against the real loopback sshd of `bash scripts/sshd-loopback.sh
// start`. Its settings file is used as written, but for the workspace's path:
// a fresh folder of the host per test run, removed at the end.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBaton, type BatonResult } from '../../packages/cli/src/testing/runBaton.ts';
import { probeLoopbackSsh, sshShell, START_HINT, type LoopbackSsh } from '../../plugins/launcher-ssh/src/testing/loopbackSsh.ts';

const probe = await probeLoopbackSsh();
const inCI = process.env.CI === 'true';
if (!probe.ssh && !inCI) console.warn(`SSH example test skipped: ${probe.problem}; ${START_HINT}`);

const EXAMPLE = fileURLToPath(new URL('.', import.meta.url));
/** What the settings file says, and what the test puts in its place. */
const WORKSPACE_LINE = 'path: ~/baton-example-ssh';
const CONFIG_FILE = '/tmp/baton-sshd/ssh_config';

describe.skipIf(!probe.ssh && !inCI)('examples/ssh on the loopback sshd', () => {
  let ssh: LoopbackSsh;
  let configDir: string;
  let remote: string;

  beforeAll(async () => {
    if (!probe.ssh) throw new Error(`no loopback sshd: ${probe.problem}; ${START_HINT}`);
    ssh = probe.ssh;
    if (!existsSync(join(EXAMPLE, 'node_modules/@baton/launcher-ssh'))) {
      throw new Error(`${EXAMPLE}node_modules/@baton/launcher-ssh is missing: run \`npx -y pnpm@10.34.8 install\` at the repository root`);
    }
    remote = `/tmp/baton-example-ssh-it-${randomBytes(4).toString('hex')}`;
    const settings = await readFile(join(EXAMPLE, 'baton.config.yaml'), 'utf8');
    expect(settings).toContain(WORKSPACE_LINE);
    expect(settings).toContain(CONFIG_FILE);
    configDir = await mkdtemp(join(tmpdir(), 'baton-example-ssh-'));
    await writeFile(join(configDir, 'baton.config.yaml'), settings.replace(WORKSPACE_LINE, `path: ${remote}`).replaceAll(CONFIG_FILE, ssh.config));
  });

  afterAll(async () => {
    if (ssh && remote) sshShell(ssh, `rm -rf -- ${remote}`);
    if (configDir) await rm(configDir, { recursive: true, force: true });
  });

  it('runs its jobs on the host as the remote user, and nothing twice', async () => {
    const first = await runExample(configDir);
    expect(first.code, `${first.stdout}${first.stderr}`).toBe(0);
    expect(first.stderr).toBe('');
    expect(first.stdout).toContain('Finished: 10 jobs (10 done)');

    // Everything is on the host: the combined estimate, where the jobs ran, and who wrote the files.
    const pi = sshShell(ssh, `cat ${remote}/jobs/combine/*/pi.txt`);
    expect(pi.code).toBe(0);
    expect(Number(pi.stdout)).toBeCloseTo(Math.PI, 1);
    const where = sshShell(ssh, `cat ${remote}/jobs/where-am-i/*/where.txt`).stdout.trim().split(' ');
    expect(where[1]).toBe(ssh.user);
    expect(where[2]).toMatch(new RegExp(`^${remote}/jobs/where-am-i/[0-9a-f]{64}$`));
    expect(sshShell(ssh, `find ${remote} -not -user ${ssh.user}`).stdout.trim()).toBe('');

    // Run again: every job is done on the host, none runs again (each stdout keeps its one line).
    const again = await runExample(configDir);
    expect(again.code, `${again.stdout}${again.stderr}`).toBe(0);
    expect(again.stdout).toContain('Finished: 10 jobs (10 done)');
    const lines = sshShell(ssh, `cat ${remote}/jobs/simulate/*/stdout`).stdout.trim().split('\n');
    expect(lines).toHaveLength(8);
    for (const line of lines) expect(line).toMatch(/^seed \d: 3\.\d+ on /);
  });
});

/** `baton run-experiment ssh.yaml` in the example's folder, with the test's settings. */
function runExample(configDir: string): Promise<BatonResult> {
  // A settings file, workspace or ssh-agent of the machine running the tests must not leak in.
  return runBaton(['run-experiment', '--config-dir', configDir, 'ssh.yaml'], { cwd: EXAMPLE, env: { HOME: configDir, XDG_CONFIG_HOME: configDir, SSH_AUTH_SOCK: '' } });
}
