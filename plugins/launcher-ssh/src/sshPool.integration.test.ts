// A workspace on a remote host, reached through the ssh connector, with the
// `ssh-pool` launcher running its jobs there: against the real loopback sshd of
// `bash scripts/sshd-loopback.sh start`, as its non-root user. Everything of the
// workspace is written by that user on the host, never by this process.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { experiment } from '@baton/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { echo, napper } from './__fixtures__/remoteCommandTasks.ts';
// @ts-expect-error: a plain JavaScript fixture (the job on the host imports it without tsx).
import { whoAmI } from './__fixtures__/remoteTasks.mjs';
import { SshConnector, sshConnectorSettings } from './index.ts';
import { loopbackSettings, probeLoopbackSsh, START_HINT } from './testing/loopbackSsh.ts';
import { startDriver, until } from './testing/processes.ts';

const probe = await probeLoopbackSsh();
const inCI = process.env.CI === 'true';
if (!probe.ssh && !inCI) console.warn(`SSH pool integration tests skipped: ${probe.problem}; ${START_HINT}`);

const PLUGIN_ENTRY = fileURLToPath(new URL('./index.ts', import.meta.url));
const DRIVER = fileURLToPath(new URL('./__fixtures__/poolDriver.ts', import.meta.url));
const children: ChildProcess[] = [];

/** The `baton` command as installed: built JavaScript (`pnpm test` builds first). */
const BATON = fileURLToPath(new URL('../../../packages/cli/bin/baton.js', import.meta.url));

describe.skipIf(!probe.ssh && !inCI)('a workspace on a remote host, jobs on its ssh-pool', () => {
  let local: string;
  let remote: string;
  let connector: SshConnector;

  /**
   * The job's launch record on the host, once whole: the experiment says a job is running
   * as soon as the launcher has it, and writes its process.json there right after (one
   * more round trip), so a read at once may meet it still empty.
   */
  async function launchRecord(directory: string): Promise<{ pid: number }> {
    let record: { pid: number } | undefined;
    await until(
      async () => (record = await connector.readFile(`${directory}/process.json`).then((text) => JSON.parse(text) as { pid: number }, () => undefined)) !== undefined,
      30_000,
      `the launch record in ${directory}`,
    );
    return record!;
  }

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
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
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

  it('runs function tasks on the host with its Node, from the same module path', async () => {
    await using xp = await experiment({ name: 'remote-functions', cwd: local });
    const jobs = ['one', "two's $(id)"].map((word) => xp.submit(whoAmI, { word }));
    const summary = await xp.wait();
    expect(summary.counts).toMatchObject({ done: 2, failed: 0 });
    expect(xp.workspace.functionTasks?.version).toMatch(/^v\d+\./);
    for (const [index, job] of jobs.entries()) {
      const report = JSON.parse(await connector.readFile(`${job.directory}/report`));
      expect(report).toMatchObject({ word: ['one', "two's $(id)"][index], user: 'batontest', host: connector.hostname });
    }
    // job.sh runs the host's Node on the runner its @baton/core has there.
    expect(await connector.readFile(`${jobs[0]!.directory}/job.sh`)).toContain('runner.js');
  });

  it('refuses function tasks at submit, with one clear error, on a host without a suitable Node; command tasks still run', async () => {
    const settingsFile = join(local, 'baton.config.yaml');
    const original = await readFile(settingsFile, 'utf8');
    await writeFile(settingsFile, original.replace('    connector: box\n', '    connector: box\n    node: /nonexistent/node\n'));
    try {
      await using xp = await experiment({ name: 'no-node', cwd: local });
      expect(() => xp.submit(whoAmI, { word: 'never' })).toThrow(/Function task "who-am-i" cannot run on the workspace's host: `\/nonexistent\/node --version` failed/);
      const job = xp.submit(echo, { word: 'still' });
      await xp.wait();
      expect(job.state).toBe('done');
    } finally {
      await writeFile(settingsFile, original);
    }
  });

  it('re-attaches to a job still running on the host after the experiment process is killed: it runs once', async () => {
    const first = startDriver(DRIVER, { cwd: local, name: 'remote-reattach', seconds: 8 }, children);
    await until(() => first.output().includes('state running'), 60_000, 'the job to start');
    const directory = /^job (.+)$/m.exec(first.output())![1]!;
    const { pid } = await launchRecord(directory);
    first.child.kill('SIGKILL');
    await first.exited;
    // The laptop is gone; the job goes on on the host.
    expect(await connector.isProcessAlive(pid, directory)).toBe(true);
    const second = startDriver(DRIVER, { cwd: local, name: 'remote-reattach', seconds: 8 }, children);
    expect(await second.exited, second.output()).toBe(0);
    expect(second.output()).toContain('"done":1');
    expect(JSON.parse(await connector.readFile(`${directory}/process.json`)).pid).toBe(pid);
    expect(await connector.readFile(`${directory}/stdout`)).toBe('started\nslept\n');
  });

  it('baton jobs log --follow and baton jobs kill reach a job on the host', async () => {
    const driver = startDriver(DRIVER, { cwd: local, name: 'remote-kill', seconds: 120 }, children);
    await until(() => driver.output().includes('state running'), 60_000, 'the job to start');
    const directory = /^job (.+)$/m.exec(driver.output())![1]!;
    const hash = directory.split('/').pop()!.slice(0, 12);
    const { pid } = await launchRecord(directory);
    const env = { ...process.env, NO_COLOR: '1', HOME: local, XDG_CONFIG_HOME: local, BATON_WORKSPACE: '' };
    const follow = spawn(process.execPath, [BATON, 'jobs', 'log', '--follow', hash], { cwd: local, env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(follow);
    let followed = '';
    follow.stdout!.on('data', (chunk) => (followed += chunk));
    follow.stderr!.on('data', (chunk) => (followed += chunk));
    const followEnded = new Promise<number | null>((resolve) => follow.on('exit', resolve));
    await until(() => followed.includes('started'), 30_000, 'baton jobs log --follow to print the output');
    execFileSync(process.execPath, [BATON, 'jobs', 'kill', hash], { cwd: local, env, encoding: 'utf8' });
    // The job's group is gone on the host, its marker says cancelled, and the follower stops.
    expect(await connector.isProcessGroupAlive(pid)).toBe(false);
    expect(JSON.parse(await connector.readFile(`${directory}/failed`))).toMatchObject({ reason: 'cancelled' });
    expect(await followEnded).toBe(0);
    expect(followed).toBe('started\n');
    expect(await driver.exited).toBe(1);
    expect(driver.output()).toMatch(/summary .*"failed":1/);
  });

  it('carries on when the SSH connection drops mid-run: running jobs are not lost, none runs twice', async () => {
    await using xp = await experiment({ name: 'remote-cut', cwd: local });
    const jobs = ['a', 'b'].map((label) => xp.submit(napper, { seconds: 6, label }));
    const started = async () => (await Promise.all(jobs.map((job) => connector.readFileIfExists(`${job.directory}/stdout`)))).every((text) => text === 'started\n');
    await until(started, 30_000, 'the jobs to start');
    // Every SSH session of the server ends at once (this test's own connection too: it reconnects).
    const cut = await cutAllSessions(probe.ssh!.pidFile);
    expect(cut).toBeGreaterThanOrEqual(2);
    const summary = await xp.wait();
    expect(summary.counts).toMatchObject({ done: 2, failed: 0 });
    for (const job of jobs) expect(await connector.readFile(`${job.directory}/stdout`)).toBe('started\nslept\n');
    expect((xp.workspace.connector as SshConnector).stats.connectionsOpened).toBeGreaterThanOrEqual(2);
  });
});

/** SIGKILLs every sshd process below the server's listener (each session's monitor and its process); returns how many. */
async function cutAllSessions(pidFile: string): Promise<number> {
  const listener = Number((await readFile(pidFile, 'utf8')).trim());
  const parents = new Map<number, number>();
  const sshd = new Set<number>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    if (!stat) continue;
    parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    if (stat.includes('(sshd)')) sshd.add(Number(entry));
  }
  const below = (pid: number): boolean => {
    for (let current = parents.get(pid); current !== undefined && current > 1; current = parents.get(current)) if (current === listener) return true;
    return false;
  };
  const victims = [...sshd].filter((pid) => pid !== listener && below(pid));
  for (const pid of victims) process.kill(pid, 'SIGKILL');
  return victims.length;
}
