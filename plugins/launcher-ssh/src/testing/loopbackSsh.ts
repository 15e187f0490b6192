// The loopback sshd servers of `bash scripts/sshd-loopback.sh start`, as the integration
// tests see them: the values of its `env` file, whether the servers answer, connector
// settings that reach them, and an ssh-agent holding the passphrase-protected key.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SshConnectorInput } from '../sshSettings.ts';

export const START_HINT = 'start it with: bash scripts/sshd-loopback.sh start';

export interface LoopbackSsh {
  host: string;
  /** The main server (MaxSessions 10). */
  port: number;
  /** A server that allows TCP forwarding: the ProxyJump host in front of the main one. */
  jumpPort: number;
  /** A server with MaxSessions 2. */
  fewPort: number;
  user: string;
  /** Authorized client key, no passphrase. */
  key: string;
  /** Authorized client key with the passphrase in `passphraseFile` (for the agent). */
  passKey: string;
  passphraseFile: string;
  /** A client key the servers do not accept. */
  wrongKey: string;
  /** Plain `[127.0.0.1]:port` entries for the three servers. */
  knownHosts: string;
  knownHostsHashed: string;
  /** Another key for the main server's address. */
  knownHostsChanged: string;
  knownHostsEmpty: string;
  /** OpenSSH client config with Host baton-loopback, baton-jump, baton-via-jump, baton-few. */
  config: string;
  directory: string;
  /** Pid files of the listening sshd of each server; sessions are its children. */
  pidFile: string;
  jumpPidFile: string;
  fewPidFile: string;
}

export type LoopbackProbe = { ssh: LoopbackSsh; problem?: undefined } | { ssh?: undefined; problem: string };

export function loopbackDirectory(): string {
  return process.env.BATON_SSHD_DIR ?? '/tmp/baton-sshd';
}

/** The servers' values, when their `env` file exists and every server answers with an SSH banner. */
export async function probeLoopbackSsh(directory = loopbackDirectory()): Promise<LoopbackProbe> {
  const envFile = join(directory, 'env');
  let values: Map<string, string>;
  try {
    values = parseEnvFile(readFileSync(envFile, 'utf8'));
  } catch {
    return { problem: `no ${envFile}` };
  }
  let ssh: LoopbackSsh;
  try {
    ssh = fromValues(values, envFile);
  } catch (error) {
    return { problem: (error as Error).message };
  }
  for (const port of [ssh.port, ssh.jumpPort, ssh.fewPort]) {
    const banner = await readBanner(ssh.host, port);
    if (!banner.startsWith('SSH-2.0-')) return { problem: `no sshd answers on ${ssh.host}:${port} (${banner || 'no banner'})` };
  }
  return { ssh };
}

/** Settings (before parsing) that reach the main server with the authorized key and no config file. */
export function loopbackSettings(ssh: LoopbackSsh, overrides: Partial<SshConnectorInput> = {}): SshConnectorInput {
  return {
    host: ssh.host,
    port: ssh.port,
    user: ssh.user,
    identityFile: ssh.key,
    knownHostsFile: ssh.knownHosts,
    configFile: false,
    ...overrides,
  };
}

/** Runs a shell command on the main server through the real `ssh` client, independently of the connector. */
export function sshShell(ssh: LoopbackSsh, command: string, alias = 'baton-loopback'): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync('ssh', ['-F', ssh.config, alias, command], { encoding: 'utf8', timeout: 30_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The `SHA256:...` fingerprint of a server's host key, as `ssh-keygen -l` prints it. */
export function hostKeyFingerprint(ssh: LoopbackSsh, server: 'main' | 'jump' | 'few' | 'changed'): string {
  const result = spawnSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', join(ssh.directory, `host_${server}_ed25519.pub`)], { encoding: 'utf8' });
  const fingerprint = /SHA256:\S+/.exec(result.stdout)?.[0];
  if (!fingerprint) throw new Error(`ssh-keygen -l printed no fingerprint: ${result.stdout}${result.stderr}`);
  return fingerprint;
}

export interface TestAgent {
  /** SSH_AUTH_SOCK of the agent. */
  socket: string;
  stop(): Promise<void>;
}

/** A private ssh-agent holding the passphrase-protected key (ssh-add reads the passphrase through SSH_ASKPASS). */
export async function startAgentWithPassKey(ssh: LoopbackSsh): Promise<TestAgent> {
  const directory = await mkdtemp(join(tmpdir(), 'baton-ssh-agent-'));
  const socket = join(directory, 'agent.sock');
  const askpass = join(directory, 'askpass.sh');
  await writeFile(askpass, `#!/bin/sh\nexec cat ${shellQuote(ssh.passphraseFile)}\n`);
  await chmod(askpass, 0o700);
  // -D: stays in the foreground, so it is our child and we end it by its pid.
  const agent = spawn('ssh-agent', ['-D', '-a', socket], { stdio: 'ignore' });
  const stop = async () => {
    if (agent.exitCode === null && agent.signalCode === null) {
      agent.kill('SIGTERM');
      await new Promise((resolve) => agent.once('exit', resolve));
    }
    await rm(directory, { recursive: true, force: true });
  };
  try {
    await waitUntil(() => spawnSync('ssh-add', ['-l'], { env: { ...process.env, SSH_AUTH_SOCK: socket } }).status !== 2, 10_000, 'ssh-agent to listen');
    const added = spawnSync('ssh-add', [ssh.passKey], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, SSH_AUTH_SOCK: socket, SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force', DISPLAY: ':0' },
      timeout: 15_000,
    });
    if (added.status !== 0) throw new Error(`ssh-add ${ssh.passKey} failed (${added.status}): ${added.stderr}`);
  } catch (error) {
    await stop();
    throw error;
  }
  return { socket, stop };
}

function fromValues(values: Map<string, string>, envFile: string): LoopbackSsh {
  const get = (name: string) => {
    const value = values.get(name);
    if (!value) throw new Error(`${envFile} has no ${name} (written by an older scripts/sshd-loopback.sh?)`);
    return value;
  };
  return {
    host: get('BATON_SSH_HOST'),
    port: Number(get('BATON_SSH_PORT')),
    jumpPort: Number(get('BATON_SSH_JUMP_PORT')),
    fewPort: Number(get('BATON_SSH_FEW_PORT')),
    user: get('BATON_SSH_USER'),
    key: get('BATON_SSH_KEY'),
    passKey: get('BATON_SSH_PASS_KEY'),
    passphraseFile: get('BATON_SSH_PASSPHRASE_FILE'),
    wrongKey: get('BATON_SSH_WRONG_KEY'),
    knownHosts: get('BATON_SSH_KNOWN_HOSTS'),
    knownHostsHashed: get('BATON_SSH_KNOWN_HOSTS_HASHED'),
    knownHostsChanged: get('BATON_SSH_KNOWN_HOSTS_CHANGED'),
    knownHostsEmpty: get('BATON_SSH_KNOWN_HOSTS_EMPTY'),
    config: get('BATON_SSH_CONFIG'),
    directory: get('BATON_SSHD_DIR'),
    pidFile: get('BATON_SSHD_PIDFILE'),
    jumpPidFile: get('BATON_SSHD_JUMP_PIDFILE'),
    fewPidFile: get('BATON_SSHD_FEW_PIDFILE'),
  };
}

function parseEnvFile(text: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const line of text.split('\n')) {
    const equals = line.indexOf('=');
    if (equals > 0 && !line.startsWith('#')) values.set(line.slice(0, equals), line.slice(equals + 1));
  }
  return values;
}

/** The first line the server sends (`SSH-2.0-OpenSSH_...`), or '' when nothing answers within 3 s. */
function readBanner(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    let received = '';
    const done = (banner: string) => {
      socket.destroy();
      resolve(banner);
    };
    socket.setTimeout(3000, () => done(received.trim()));
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      if (received.includes('\n')) done(received.slice(0, received.indexOf('\n')).trim());
    });
    socket.on('error', (error) => done(`${(error as NodeJS.ErrnoException).code ?? error.message}`));
    socket.on('end', () => done(received.trim()));
  });
}

async function waitUntil(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}
