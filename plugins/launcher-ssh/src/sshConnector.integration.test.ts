// The SSH connector against the real OpenSSH servers of `bash scripts/sshd-loopback.sh start`
// (127.0.0.1:2222, a ProxyJump host on :2223, MaxSessions 2 on :2224). The tests run as root
// on the machine that is also "the host", so some checks look at it directly (/proc, the
// servers' logs) or through the real `ssh` client, independently of the connector.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isBatonError, type Connector } from '@baton/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SshConnector, sshConnectorSettings, type SshConnectorInput } from './index.ts';
import { processesRunning, sshdAncestors } from './testing/processes.ts';
import { hostKeyFingerprint, loopbackSettings, probeLoopbackSsh, sshShell, startAgentWithPassKey, START_HINT, type LoopbackSsh } from './testing/loopbackSsh.ts';

const probe = await probeLoopbackSsh();
const inCI = process.env.CI === 'true';
if (!probe.ssh && !inCI) console.warn(`SSH integration tests skipped: ${probe.problem}; ${START_HINT}`);

const pluginDirectory = fileURLToPath(new URL('..', import.meta.url));
const indexModule = fileURLToPath(new URL('./index.ts', import.meta.url));

/** Arguments a shell would act on: each must reach the command as one word, byte for byte. */
function hostileArguments(marker: string): string[] {
  return [
    `$(touch ${marker})`,
    `\`touch ${marker}\``,
    `; touch ${marker}`,
    `&& touch ${marker}`,
    `| touch ${marker}`,
    `> ${marker}`,
    `'; touch ${marker}; '`,
    `"; touch ${marker}; "`,
    `'; rm -rf ~; $(touch ${marker}) \`touch ${marker}\` && touch ${marker}`,
    `it's "quoted" \\ back\\slash\\`,
    'line one\nline two\n',
    '*',
    '/*',
    '~',
    '$HOME ${PATH} $0 $$ $1',
    '-n',
    '--help',
    '',
    ' spaced  out ',
    'tab\there',
    '#not a comment',
    '%s %d %%',
    'héllo wörld ✓ 日本語 🚀',
    '!!',
  ];
}

describe.skipIf(!probe.ssh && !inCI)('SshConnector against a real sshd', () => {
  let ssh: LoopbackSsh;
  /** HOME without keys, config or known_hosts, and no agent: only what a test gives counts. */
  let isolatedEnv: NodeJS.ProcessEnv;
  let scratch: string;
  let shared: SshConnector;
  const connectors: SshConnector[] = [];
  const remoteDirectories: string[] = [];
  const detachedGroups: number[] = [];
  const children: ChildProcess[] = [];

  async function open(overrides: Partial<SshConnectorInput> = {}, env: NodeJS.ProcessEnv = isolatedEnv): Promise<SshConnector> {
    const connector = await SshConnector.connect(sshConnectorSettings.parse(loopbackSettings(ssh, overrides)), { env });
    connectors.push(connector);
    return connector;
  }

  /** The error `promise` rejects with (fails the test when it resolves). */
  async function failure(promise: Promise<unknown>): Promise<Error & { hint?: string }> {
    const outcome = await promise.then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    );
    if (!('error' in outcome)) throw new Error(`expected a rejection, got ${JSON.stringify(outcome.value)}`);
    return outcome.error as Error & { hint?: string };
  }

  /** A fresh folder on the host, made and removed through the connector. */
  async function remoteDirectory(connector: Connector = shared): Promise<string> {
    const path = `/tmp/baton-ssh-it-${randomBytes(6).toString('hex')}`;
    await connector.mkdir(path);
    remoteDirectories.push(path);
    return path;
  }

  async function copyOf(file: string): Promise<string> {
    const copy = join(scratch, `${randomBytes(4).toString('hex')}-known_hosts`);
    await copyFile(file, copy);
    return copy;
  }

  beforeAll(async () => {
    if (!probe.ssh) throw new Error(`CI=true but the loopback sshd does not answer (${probe.problem}): the SSH integration suite cannot run; ${START_HINT}`);
    ssh = probe.ssh;
    scratch = await mkdtemp(join(tmpdir(), 'baton-ssh-it-local-'));
    const home = join(scratch, 'home');
    await rm(home, { recursive: true, force: true });
    isolatedEnv = { ...process.env, HOME: home };
    delete isolatedEnv.SSH_AUTH_SOCK;
    shared = await open();
  });

  afterEach(async () => {
    for (const pgid of detachedGroups.splice(0)) {
      try {
        process.kill(-pgid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
    for (const connector of connectors.splice(1)) await connector.close().catch(() => undefined);
    for (const path of remoteDirectories.splice(0)) {
      await shared.remove(path).catch(() => rm(path, { recursive: true, force: true }));
    }
  });

  afterAll(async () => {
    for (const connector of connectors.splice(0)) await connector.close().catch(() => undefined);
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  describe('run', () => {
    it('returns exit codes and captures stdout and stderr separately', async () => {
      expect(shared.kind).toBe('ssh');
      // `uname -n` on the host, which is this machine: what job markers will record.
      expect(shared.hostname).toBe(hostname());
      expect(await shared.run(['sh', '-c', 'echo out; echo err >&2'])).toEqual({ code: 0, signal: null, stdout: 'out\n', stderr: 'err\n' });
      expect(await shared.run(['sh', '-c', 'echo out; echo err >&2; exit 3'])).toEqual({ code: 3, signal: null, stdout: 'out\n', stderr: 'err\n' });
      expect((await shared.run(['false'])).code).toBe(1);
    });

    it('captures a large output whole, and a program that reads stdin gets its end when no input is given', async () => {
      const big = await shared.run(['sh', '-c', 'head -c 3000000 /dev/zero | tr "\\0" a; echo; head -c 500000 /dev/zero | tr "\\0" b >&2']);
      expect(big.code).toBe(0);
      expect(big.stdout.length).toBe(3_000_001);
      expect(big.stdout).toMatch(/^a+\n$/);
      expect(big.stderr).toMatch(/^b{500000}$/);
      expect(await shared.run(['cat'], { timeoutMs: 10_000 })).toMatchObject({ code: 0, stdout: '' });
    });

    it('runs in cwd, with env added, and feeds input on stdin', async () => {
      const base = await remoteDirectory();
      const directory = `${base}/with space 'and' "quotes"`;
      await shared.mkdir(directory);
      const value = `over lay $HOME $(touch ${base}/pwned-env) 'q' "d"`;
      const result = await shared.run(['sh', '-c', 'cat; printf " [%s] " "$BATON_TEST_VAR"; pwd'], {
        input: 'from stdin',
        env: { BATON_TEST_VAR: value },
        cwd: directory,
      });
      expect(result).toMatchObject({ code: 0, stdout: `from stdin [${value}] ${directory}\n` });
      expect(await shared.exists(`${base}/pwned-env`)).toBe(false);
      // An input larger than a channel window arrives whole.
      const input = `${'x'.repeat(199_999)}\n`;
      expect((await shared.run(['wc', '-c'], { input })).stdout.trim()).toBe('200000');
    });

    it('ends a command that outlives timeoutMs, on the host too', async () => {
      const started = Date.now();
      const outcome = await shared.run(['sleep', '37'], { timeoutMs: 1500 }).then(
        (result) => result,
        (error: Error) => error,
      );
      const elapsed = Date.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(1400);
      expect(elapsed).toBeLessThan(10_000);
      if (outcome instanceof Error) expect(outcome.message).toMatch(/time/i);
      else expect(outcome).toMatchObject({ code: null, signal: expect.any(String) });
      // Not left running on the host after the caller gave up on it.
      await until(async () => sshShell(ssh, "pgrep -u batontest -fx 'sleep 37' || true").stdout.trim() === '', 10_000, 'the timed-out sleep to end on the host');
    });

    it('passes hostile arguments as data, byte for byte, and runs none of them', async () => {
      const directory = await remoteDirectory();
      const marker = `${directory}/pwned`;
      const words = hostileArguments(marker);
      const result = await shared.run(['printf', '%s\\n', ...words]);
      expect(result).toMatchObject({ code: 0, stderr: '' });
      expect(result.stdout).toBe(words.map((word) => `${word}\n`).join(''));
      // One word each: the command sees exactly as many arguments as it was given.
      const counted = await shared.run(['sh', '-c', 'echo $#', 'sh', ...words]);
      expect(counted.stdout).toBe(`${words.length}\n`);
      // A hostile program name and cwd are data too.
      await expect(shared.run([`touch ${marker}; true`])).resolves.toMatchObject({ code: 127 });
      const weirdName = "$(touch pwned) `touch pwned`; touch pwned 'q'";
      const weird = `${directory}/${weirdName}`;
      await shared.mkdir(weird);
      expect((await shared.run(['pwd'], { cwd: weird })).stdout).toBe(`${weird}\n`);
      expect(await shared.readdir(directory)).toEqual([weirdName]);
      expect(await shared.readdir(weird)).toEqual([]);
      expect(await shared.exists(marker)).toBe(false);
    });
  });

  describe('files over SFTP', () => {
    it('makes the same missing folders from many calls at once (the jobs of one task prepared together)', async () => {
      const directory = await remoteDirectory();
      for (let round = 0; round < 6; round++) {
        // Folders at every depth, asked for together, some sharing missing parents made by the others.
        const paths = Array.from({ length: 24 }, (_, index) => `${directory}/r${round}/jobs/${index % 3 === 0 ? '' : `task${index % 2}/`}${index.toString(16).padStart(8, '0')}`);
        await Promise.all(paths.map((path) => shared.mkdir(path)));
        for (const path of paths) expect(await shared.exists(path)).toBe(true);
      }
    });

    it('writes, reads, appends, makes folders, lists, renames, links and removes', async () => {
      const directory = await remoteDirectory();
      const nested = `${directory}/a/b/c`;
      await shared.mkdir(nested);
      await shared.mkdir(nested);
      expect(await shared.exists(nested)).toBe(true);
      const log = `${nested}/log`;
      expect(await shared.exists(log)).toBe(false);
      expect(await shared.readFileIfExists(log)).toBeUndefined();
      expect(await shared.readFileIfExists(`${directory}/missing/deeper/file`)).toBeUndefined();
      await expect(shared.readFile(log)).rejects.toMatchObject({ code: 'ENOENT' });
      await shared.appendFile(log, 'one\n');
      await shared.appendFile(log, 'two ✓\n');
      expect(await shared.readFile(log)).toBe('one\ntwo ✓\n');
      await shared.writeFile(`${nested}/params.json`, '{"x":"é"}');
      expect(await shared.readFile(`${nested}/params.json`)).toBe('{"x":"é"}');
      expect((await shared.readdir(nested)).sort()).toEqual(['log', 'params.json']);
      await shared.rename(log, `${directory}/moved`);
      expect(await shared.exists(log)).toBe(false);
      await shared.symlink(`${directory}/moved`, `${directory}/link`);
      expect(await shared.readFile(`${directory}/link`)).toBe('one\ntwo ✓\n');
      expect((await shared.run(['readlink', `${directory}/link`])).stdout).toBe(`${directory}/moved\n`);
      // The host sees the same bytes.
      expect(sshShell(ssh, `cat '${directory}/moved'`).stdout).toBe('one\ntwo ✓\n');
      expect((await shared.readdir(directory)).sort()).toEqual(['a', 'link', 'moved']);
      await expect(shared.readdir(`${directory}/nope`)).rejects.toMatchObject({ code: 'ENOENT' });
      await shared.remove(`${directory}/a`);
      await shared.remove(`${directory}/a`);
      expect(await shared.exists(`${directory}/a`)).toBe(false);
      expect(shared.resolve('/some/absolute/path')).toBe('/some/absolute/path');
    });

    it('writes atomically: a reader never sees a partial file, and no temporary file is left', async () => {
      const directory = await remoteDirectory();
      const path = `${directory}/state.json`;
      const versions = [`${'a'.repeat(2_000_000)}\n`, `${'b'.repeat(1_500_000)}\n`];
      await shared.writeFile(path, versions[0]!);
      let writing = true;
      const seen = new Set<number>();
      const bad: string[] = [];
      // This machine is the host: read the file directly, as fast as it goes, while it is rewritten.
      const reader = (async () => {
        while (writing) {
          const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => `error ${error.code}`);
          const index = versions.indexOf(text);
          if (index === -1) bad.push(`${text.length} bytes: ${text.slice(0, 20)}...${text.slice(-20)}`);
          else seen.add(index);
        }
      })();
      for (let round = 1; round <= 8; round += 1) await shared.writeFile(path, versions[round % 2]!);
      writing = false;
      await reader;
      expect(bad).toEqual([]);
      expect(seen.size).toBe(2);
      expect(await shared.readdir(directory)).toEqual(['state.json']);
    });

    it('gives a written file the mode asked for', async () => {
      const directory = await remoteDirectory();
      const script = `${directory}/job.sh`;
      await shared.writeFile(script, '#!/bin/sh\necho "ran $0"\n', { mode: 0o755 });
      expect((await shared.run(['stat', '-c', '%a', script])).stdout).toBe('755\n');
      expect((await shared.run([script])).stdout).toBe(`ran ${script}\n`);
      await shared.writeFile(script, 'secret\n', { mode: 0o600 });
      expect((await shared.run(['stat', '-c', '%a', script])).stdout).toBe('600\n');
    });

    it('keeps hostile file names as data', async () => {
      const directory = await remoteDirectory();
      const marker = `${directory}/pwned`;
      const name = `it's $(touch ${marker.replaceAll('/', '_')}) "x"; touch ${marker.replaceAll('/', '_')} ✓`;
      await shared.writeFile(`${directory}/${name}`, 'data');
      await shared.mkdir(`${directory}/dir ${name}`);
      await shared.appendFile(`${directory}/dir ${name}/log`, 'appended');
      expect((await shared.readdir(directory)).sort()).toEqual([`dir ${name}`, name].sort());
      expect(await shared.readFile(`${directory}/${name}`)).toBe('data');
      await shared.remove(`${directory}/dir ${name}`);
      expect(await shared.readdir(directory)).toEqual([name]);
      expect(await readdir(directory)).toEqual([name]);
    });
  });

  describe('locks', () => {
    it('are exclusive between two connections: the second waits until the first releases', async () => {
      const other = await open();
      const directory = await remoteDirectory();
      const path = `${directory}/tokens/gpu/state`;
      const release = await shared.lock(path, { staleMs: 10_000, waitMs: 0 });
      const refused = await failure(other.lock(path, { waitMs: 0 }));
      expect(isBatonError(refused)).toBe(true);
      expect(refused.message).toContain(path);
      expect(`${refused.message} ${refused.hint ?? ''}`).toMatch(/holds|held|locked/i);
      let acquiredAt: number | undefined;
      const waiting = other.lock(path, { staleMs: 10_000, waitMs: 30_000 }).then((releaseOther) => {
        acquiredAt = Date.now();
        return releaseOther;
      });
      await sleep(1500);
      expect(acquiredAt).toBeUndefined();
      const releasedAt = Date.now();
      await release();
      await release();
      const releaseOther = await waiting;
      expect(acquiredAt).toBeGreaterThanOrEqual(releasedAt);
      expect(acquiredAt! - releasedAt).toBeLessThan(5000);
      await releaseOther();
      expect(shared.stats.connectionsOpened).toBe(1);
      expect(other.stats.connectionsOpened).toBe(1);
    });

    it('protect a read-modify-write from two connections at once', async () => {
      const other = await open();
      const directory = await remoteDirectory();
      const counter = `${directory}/counter`;
      const increment = async (connector: Connector) => {
        for (let round = 0; round < 6; round += 1) {
          const release = await connector.lock(counter, { staleMs: 10_000, waitMs: 60_000 });
          const value = Number((await connector.readFileIfExists(counter)) ?? '0');
          await connector.writeFile(counter, String(value + 1));
          await release();
        }
      };
      await Promise.all([increment(shared), increment(other)]);
      expect(await shared.readFile(counter)).toBe('12');
    });

    it('a live holder keeps its lock past staleMs (it refreshes it)', async () => {
      const other = await open();
      const directory = await remoteDirectory();
      const path = `${directory}/claim`;
      const release = await shared.lock(path, { staleMs: 2000, waitMs: 0 });
      await expect(other.lock(path, { staleMs: 2000, waitMs: 5000 })).rejects.toThrow(/holds|held|locked/i);
      await release();
    });

    it('takes over a lock whose holder died, once it is stale', async () => {
      const directory = await remoteDirectory();
      const path = `${directory}/claim`;
      // Another process takes the lock over its own connection, then is killed without releasing it.
      const holder = startLockHolder(path);
      children.push(holder.child);
      await holder.locked;
      const lockedAt = Date.now();
      holder.child.kill('SIGKILL');
      await new Promise((resolve) => holder.child.once('exit', resolve));
      await expect(shared.lock(path, { staleMs: 2000, waitMs: 0 })).rejects.toThrow(/holds|held|locked/i);
      const release = await shared.lock(path, { staleMs: 2000, waitMs: 20_000 });
      expect(Date.now() - lockedAt).toBeGreaterThanOrEqual(1900);
      expect(Date.now() - lockedAt).toBeLessThan(15_000);
      await release();
    });
  });

  describe('detached processes', () => {
    it('start in their own process group, append their output, and outlive the connector', async () => {
      const connector = await open();
      const directory = await remoteDirectory();
      const stdoutPath = `${directory}/stdout`;
      const stderrPath = `${directory}/stderr`;
      await connector.writeFile(stdoutPath, 'earlier attempt\n');
      const marker = `${directory}/pwned`;
      const words = hostileArguments(marker);
      const { pid } = await connector.spawnDetached(
        ['sh', '-c', 'printf "%s\\n" "$@"; echo "cwd $(pwd) var $BATON_TEST_VAR"; echo err >&2; exec sleep 1003', 'sh', ...words],
        { cwd: directory, stdoutPath, stderrPath, env: { BATON_TEST_VAR: 'v $(x)' } },
      );
      detachedGroups.push(pid);
      expect(pid).toBeGreaterThan(1);
      await until(async () => (await connector.readFile(stderrPath).catch(() => '')) === 'err\n', 10_000, 'the detached process to write');
      expect(await connector.readFile(stdoutPath)).toBe(`earlier attempt\n${words.map((word) => `${word}\n`).join('')}cwd ${directory} var v $(x)\n`);
      expect(await connector.exists(marker)).toBe(false);
      await until(() => connector.isProcessAlive(pid, 'sleep'), 10_000, 'the process to exec sleep');
      // Leads its own process group (pgid = pid), as the host sees it.
      expect((await connector.run(['ps', '-o', 'pgid=', '-p', String(pid)])).stdout.trim()).toBe(String(pid));
      await connector.close();
      const after = await open();
      expect(await after.isProcessAlive(pid)).toBe(true);
      expect(await after.isProcessAlive(pid, '1003')).toBe(true);
      expect(await after.isProcessAlive(pid, 'wrong')).toBe(false);
      expect(await after.isProcessGroupAlive(pid)).toBe(true);
      expect(await after.isProcessAlive(999_999_999)).toBe(false);
    });

    it('killProcessGroup ends the whole group, children included', async () => {
      const directory = await remoteDirectory();
      const { pid } = await shared.spawnDetached(['sh', '-c', 'sleep 1004 & echo $! > child.pid; wait'], {
        cwd: directory,
        stdoutPath: `${directory}/stdout`,
        stderrPath: `${directory}/stderr`,
      });
      detachedGroups.push(pid);
      await until(async () => /^\d+\n$/.test((await shared.readFileIfExists(`${directory}/child.pid`)) ?? ''), 10_000, 'child.pid');
      const child = Number((await shared.readFile(`${directory}/child.pid`)).trim());
      expect(await shared.isProcessAlive(child, 'sleep')).toBe(true);
      await shared.killProcessGroup(pid);
      await until(async () => !(await shared.isProcessGroupAlive(pid)), 10_000, `process group ${pid} to end`);
      expect(await shared.isProcessAlive(pid)).toBe(false);
      expect(await shared.isProcessAlive(child)).toBe(false);
      // A group that is already gone is not an error.
      await expect(shared.killProcessGroup(pid)).resolves.toBeUndefined();
      await expect(shared.killProcessGroup(1)).rejects.toThrow(/Refusing/);
    });
  });

  describe('host keys', () => {
    it('refuses an unknown host, naming its fingerprint and how to accept it', async () => {
      const knownHostsFile = await copyOf(ssh.knownHostsEmpty);
      const error = await failure(open({ knownHostsFile }));
      expect(isBatonError(error)).toBe(true);
      expect(error.message).toContain(hostKeyFingerprint(ssh, 'main'));
      expect(`${error.message}\n${error.hint ?? ''}`).toMatch(/acceptNewHostKey|ssh-keyscan|ssh /);
      expect(await readFile(knownHostsFile, 'utf8')).toBe('');
    });

    it('with acceptNewHostKey, connects to an unknown host and records its key', async () => {
      const knownHostsFile = await copyOf(ssh.knownHostsEmpty);
      const first = await open({ knownHostsFile, acceptNewHostKey: true });
      expect((await first.run(['true'])).code).toBe(0);
      const mainKey = (await readFile(join(ssh.directory, 'host_main_ed25519.pub'), 'utf8')).split(' ')[1]!;
      expect(await readFile(knownHostsFile, 'utf8')).toContain(mainKey);
      const second = await open({ knownHostsFile, acceptNewHostKey: false });
      expect((await second.run(['true'])).code).toBe(0);
      // OpenSSH reads the entry too.
      const openssh = spawnSync('ssh', ['-F', ssh.config, '-o', `UserKnownHostsFile=${knownHostsFile}`, 'baton-loopback', 'true'], { encoding: 'utf8' });
      expect(openssh.stderr).toBe('');
      expect(openssh.status).toBe(0);
    });

    it('refuses a host whose key changed, even with acceptNewHostKey', async () => {
      const knownHostsFile = await copyOf(ssh.knownHostsChanged);
      const before = await readFile(knownHostsFile, 'utf8');
      for (const acceptNewHostKey of [false, true]) {
        const error = await failure(open({ knownHostsFile, acceptNewHostKey }));
        expect(isBatonError(error)).toBe(true);
        expect(`${error.message}\n${error.hint ?? ''}`).toMatch(/chang|does not match|mismatch/i);
        expect(error.message).toContain(hostKeyFingerprint(ssh, 'main'));
      }
      expect(await readFile(knownHostsFile, 'utf8')).toBe(before);
    });

    it('accepts a hashed known_hosts file', async () => {
      const connector = await open({ knownHostsFile: ssh.knownHostsHashed });
      expect((await connector.run(['true'])).code).toBe(0);
    });
  });

  describe('authentication', () => {
    it('a key the server does not accept fails with an error naming user and host', async () => {
      const error = await failure(open({ identityFile: ssh.wrongKey }));
      expect(isBatonError(error)).toBe(true);
      expect(error.message).toMatch(/auth/i);
      expect(error.message).toContain(ssh.user);
      expect(error.message).toContain(ssh.host);
    });

    it('a passphrase-protected key without an agent fails with an error that says so', async () => {
      const error = await failure(open({ identityFile: ssh.passKey }));
      expect(isBatonError(error)).toBe(true);
      expect(`${error.message}\n${error.hint ?? ''}`).toMatch(/passphrase|agent/i);
    });

    it('uses the keys of ssh-agent (SSH_AUTH_SOCK) when no identity file is given', async () => {
      const agent = await startAgentWithPassKey(ssh);
      try {
        const connector = await open({ identityFile: undefined }, { ...isolatedEnv, SSH_AUTH_SOCK: agent.socket });
        expect((await connector.run(['id', '-un'])).stdout).toBe(`${ssh.user}\n`);
      } finally {
        await agent.stop();
      }
    });
  });

  describe('OpenSSH client config', () => {
    // HOME has no ~/.ssh: the key and the known_hosts file can only come from the config file.
    it('reaches a Host alias of the config file (HostName, Port, User, IdentityFile, UserKnownHostsFile)', async () => {
      const connector = await SshConnector.connect(sshConnectorSettings.parse({ host: 'baton-loopback', configFile: ssh.config }), { env: isolatedEnv });
      connectors.push(connector);
      expect((await connector.run(['sh', '-c', 'id -un; echo "$SSH_CONNECTION"'])).stdout).toMatch(new RegExp(`^${ssh.user}\\n127\\.0\\.0\\.1 \\d+ 127\\.0\\.0\\.1 ${ssh.port}\\n$`));
    });

    it('goes through a ProxyJump host: an alias with ProxyJump, and the proxyJump setting', async () => {
      const jumpLog = join(ssh.directory, 'sshd-jump.log');
      const logins = async () => ((await readFile(jumpLog, 'utf8')).match(/Accepted publickey for /g) ?? []).length;
      const before = await logins();
      const viaAlias = await SshConnector.connect(sshConnectorSettings.parse({ host: 'baton-via-jump', configFile: ssh.config }), { env: isolatedEnv });
      connectors.push(viaAlias);
      expect((await viaAlias.run(['sh', '-c', 'echo "$SSH_CONNECTION"'])).stdout).toMatch(new RegExp(` ${ssh.port}\\n$`));
      expect(await logins()).toBe(before + 1);
      // As with `ssh -J`, identityFile is the target's key; the jump host is reached with the
      // default key of ~/.ssh (here a HOME whose ~/.ssh/id_ed25519 is the authorized key).
      const home = join(scratch, 'home-with-key');
      await mkdir(join(home, '.ssh'), { recursive: true, mode: 0o700 });
      await copyFile(ssh.key, join(home, '.ssh', 'id_ed25519'));
      const viaSetting = await open({ proxyJump: `${ssh.user}@${ssh.host}:${ssh.jumpPort}` }, { ...isolatedEnv, HOME: home });
      expect((await viaSetting.run(['id', '-un'])).stdout).toBe(`${ssh.user}\n`);
      expect(await logins()).toBe(before + 2);
    });
  });

  describe('one connection, many channels', () => {
    it('runs 40 commands at once on a server with MaxSessions 2, over one connection', async () => {
      const connector = await open({ port: ssh.fewPort, maxSessions: 2 });
      const results = await Promise.all(
        Array.from({ length: 40 }, (_, index) => connector.run(['sh', '-c', 'sleep 0.1; printf %s "$1"', 'sh', String(index)])),
      );
      expect(results.map((result) => result.stdout)).toEqual(Array.from({ length: 40 }, (_, index) => String(index)));
      expect(results.every((result) => result.code === 0)).toBe(true);
      expect(connector.stats.connectionsOpened).toBe(1);
      expect(connector.stats.maxChannelsOpen).toBeLessThanOrEqual(2);
    }, 60_000);

    it('mixes commands and file calls on a server with MaxSessions 2', async () => {
      const connector = await open({ port: ssh.fewPort, maxSessions: 2 });
      const directory = await remoteDirectory(connector);
      const calls = Array.from({ length: 30 }, (_, index) =>
        index % 2 === 0
          ? connector.run(['printf', '%s', String(index)]).then((result) => result.stdout)
          : connector.writeFile(`${directory}/${index}`, String(index)).then(() => connector.readFile(`${directory}/${index}`)),
      );
      expect(await Promise.all(calls)).toEqual(Array.from({ length: 30 }, (_, index) => String(index)));
      expect(connector.stats.connectionsOpened).toBe(1);
    }, 60_000);

    it('answers a hundred concurrent calls over exactly one connection', async () => {
      const connector = await open();
      const directory = await remoteDirectory(connector);
      await connector.writeFile(`${directory}/present`, '');
      const calls = Array.from({ length: 100 }, (_, index) =>
        index % 2 === 0
          ? connector.exists(`${directory}/${index % 4 === 0 ? 'present' : 'absent'}`).then(String)
          : connector.run(['printf', '%s', String(index)]).then((result) => result.stdout),
      );
      expect(await Promise.all(calls)).toEqual(
        Array.from({ length: 100 }, (_, index) => (index % 2 === 0 ? String(index % 4 === 0) : String(index))),
      );
      expect(connector.stats.connectionsOpened).toBe(1);
      expect(connector.stats.maxChannelsOpen).toBeLessThanOrEqual(8);
    });
  });

  describe('connection loss', () => {
    it('fails the command in flight, reconnects for the next one, and leaves detached processes running', async () => {
      const connector = await open();
      const directory = await remoteDirectory(connector);
      const { pid: detached } = await connector.spawnDetached(['sleep', '1005'], { cwd: directory, stdoutPath: `${directory}/out`, stderrPath: `${directory}/err` });
      detachedGroups.push(detached);
      const inFlight = failure(connector.run(['sleep', '5.0271']));
      await until(async () => (await processesRunning('sleep\u00005.0271\u0000')).length === 1, 10_000, 'the remote sleep to start');
      // Kill the sshd processes that serve this connection (and only it): the
      // privileged monitor and the session process that holds the socket.
      const [sleepPid] = await processesRunning('sleep\u00005.0271\u0000');
      const listener = Number((await readFile(ssh.pidFile, 'utf8')).trim());
      const served = await sshdAncestors(sleepPid!, listener);
      expect(served.length).toBeGreaterThanOrEqual(2);
      const cutAt = Date.now();
      for (const pid of served) process.kill(pid, 'SIGKILL');
      const error = await inFlight;
      expect(Date.now() - cutAt).toBeLessThan(4000);
      expect(error.message).toMatch(/connection|lost|closed/i);
      const after = await connector.run(['echo', 'back']);
      expect(after.stdout).toBe('back\n');
      expect(connector.stats.connectionsOpened).toBe(2);
      expect(await connector.isProcessAlive(detached, '1005')).toBe(true);
    });
  });

  /** A separate node process that connects, takes the lock, and holds it until killed. */
  function startLockHolder(path: string): { child: ChildProcess; locked: Promise<void> } {
    const script = `
      import { SshConnector, sshConnectorSettings } from ${JSON.stringify(indexModule)};
      const connector = await SshConnector.connect(sshConnectorSettings.parse(${JSON.stringify(loopbackSettings(ssh))}), { env: { ...process.env, HOME: ${JSON.stringify(isolatedEnv.HOME)} } });
      await connector.lock(${JSON.stringify(path)}, { staleMs: 2000, waitMs: 0 });
      process.stdout.write('locked\\n');
      setInterval(() => {}, 1000);
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@baton/source', '--input-type=module', '-e', script], {
      cwd: pluginDirectory,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const locked = new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('locked') && resolve());
      child.once('exit', (code) => reject(new Error(`lock holder exited with ${code}: ${stderr}`)));
    });
    return { child, locked };
  }
});

async function until(condition: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
