// A workspace on a remote host, reached through the ssh connector, with the
// `ssh-pool` launcher running its jobs there: against the real loopback sshd of
// `bash scripts/sshd-loopback.sh start`, as its non-root user. Everything of the
// workspace is written by that user on the host, never by this process.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineTask, experiment } from '@baton/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { SshConnector, sshConnectorSettings } from './index.ts';
import { loopbackSettings, probeLoopbackSsh, START_HINT } from './testing/loopbackSsh.ts';

const probe = await probeLoopbackSsh();
const inCI = process.env.CI === 'true';
if (!probe.ssh && !inCI) console.warn(`SSH pool integration tests skipped: ${probe.problem}; ${START_HINT}`);

const PLUGIN_ENTRY = fileURLToPath(new URL('./index.ts', import.meta.url));
/** The `baton` command as installed: built JavaScript (`pnpm test` builds first). */
const BATON = fileURLToPath(new URL('../../../packages/cli/bin/baton.js', import.meta.url));

const echo = defineTask({
  id: 'remote-echo',
  params: z.object({ word: z.string(), code: z.number().int().default(0) }),
  command: (p) => ['/bin/sh', '-c', 'printf "%s|%s|%s\\n" "$1" "$(id -un)" "$(pwd)"; exit "$2"', 'sh', p.word, String(p.code)],
});

describe.skipIf(!probe.ssh && !inCI)('a workspace on a remote host, jobs on its ssh-pool', () => {
  let local: string;
  let remote: string;
  let connector: SshConnector;

  beforeAll(async () => {
    if (!probe.ssh) throw new Error(`no loopback sshd: ${probe.problem}; ${START_HINT}`);
    const ssh = probe.ssh;
    local = await mkdtemp(join(tmpdir(), 'baton-ssh-pool-'));
    remote = `/tmp/baton-ssh-pool-it-${randomBytes(4).toString('hex')}`;
    const settings = loopbackSettings(ssh);
    await writeFile(
      join(local, 'baton.config.yaml'),
      [
        `plugins: [${JSON.stringify(PLUGIN_ENTRY)}]`,
        'connectors:',
        `  box: ${JSON.stringify({ use: 'ssh', ...settings })}`,
        'workspaces:',
        '  - id: remote',
        `    path: ${remote}`,
        '    connector: box',
        '    launcher: pool',
        '    launchers:',
        '      pool: { use: ssh-pool, maxConcurrent: 2, pollInterval: 200 }',
        '',
      ].join('\n'),
    );
    connector = await SshConnector.connect(sshConnectorSettings.parse(settings));
  });

  afterAll(async () => {
    await connector?.remove(remote).catch(() => undefined);
    await connector?.close();
    if (local) await rm(local, { recursive: true, force: true });
  });

  it('runs command jobs on the host as its user, records them there, and runs nothing twice', async () => {
    const words = ['plain', "it's $(touch /tmp/baton-pwned) `id`", 'a b\nc'];
    {
      await using xp = await experiment({ name: 'remote-run', cwd: local });
      const jobs = words.map((word) => xp.submit(echo, { word }));
      const failing = xp.submit(echo, { word: 'fails', code: 3 });
      const summary = await xp.wait();
      expect(summary.counts).toMatchObject({ done: 3, failed: 1 });
      for (const [index, job] of jobs.entries()) {
        expect(job.directory.startsWith(`${remote}/jobs/remote-echo/`)).toBe(true);
        expect(await connector.readFile(`${job.directory}/stdout`)).toBe(`${words[index]}|batontest|${job.directory}\n`);
        const handle = JSON.parse(await connector.readFile(`${job.directory}/process.json`));
        expect(handle).toMatchObject({ launcher: 'pool', kind: 'ssh-pool', host: connector.hostname });
      }
      expect(JSON.parse(await connector.readFile(`${failing.directory}/failed`))).toMatchObject({ code: 3, reason: 'failed' });
    }
    // Nothing of the workspace belongs to anyone but the host's user: it was all made through the connector.
    const owners = (await connector.run(['find', remote, '-not', '-user', 'batontest'])).stdout.trim();
    expect(owners).toBe('');
    expect(execFileSync('sh', ['-c', 'ls /tmp/baton-pwned 2>/dev/null || true'], { encoding: 'utf8' })).toBe('');
    // The run's index is on the host too.
    const runs = await connector.readdir(`${remote}/experiments/remote-run`);
    expect(runs.filter((name) => name !== 'current')).toHaveLength(1);

    // A second run finds every job from its markers on the host: nothing runs again.
    await using again = await experiment({ name: 'remote-run', cwd: local });
    const jobs = words.map((word) => again.submit(echo, { word }));
    const summary = await again.wait();
    expect(summary.counts.done).toBe(3);
    for (const [index, job] of jobs.entries()) expect(await connector.readFile(`${job.directory}/stdout`)).toBe(`${words[index]}|batontest|${job.directory}\n`);

    // `baton jobs list`, as a user runs it on the laptop: the jobs on the host, read over SSH.
    const listed = JSON.parse(
      execFileSync(process.execPath, [BATON, 'jobs', 'list', '--json'], { cwd: local, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', HOME: local, XDG_CONFIG_HOME: local, BATON_WORKSPACE: '' } }),
    ) as { directory: string; state: string; failure?: { code: number | null } }[];
    expect(listed.map((job) => job.state).sort()).toEqual(['done', 'done', 'done', 'failed']);
    expect(listed.every((job) => job.directory.startsWith(`${remote}/jobs/remote-echo/`))).toBe(true);
    expect(listed.find((job) => job.state === 'failed')?.failure).toMatchObject({ code: 3 });
  });
});
