// One SSH connection to a host, shared by every command and file operation of a
// connector: commands take a channel each, files go through one SFTP session, and
// at most `maxSessions` channels are open at once (the server refuses more than its
// MaxSessions; a refusal lowers the limit). Keepalives detect a dead link; a lost
// connection fails what was in flight with a clear error, and the next call
// reconnects, with backoff.
import { readFileSync } from 'node:fs';
import { BatonError, isTransientError, type LoggerLike } from '@baton/core';
import ssh2 from 'ssh2';
import type { AuthenticationType, AuthMethod, ClientChannel, ConnectConfig, SFTPWrapper } from 'ssh2';
import { addKnownHost, checkHostKey, fingerprint, keyType, knownHostsName, readKnownHosts, type HostKeyVerdict } from './knownHosts.ts';
import { describeHost, type SshHost } from './sshConfigFile.ts';
import type { SshConnectorSettings } from './sshSettings.ts';

const { Client, utils } = ssh2;
type Client = InstanceType<typeof ssh2.Client>;

export interface SshConnectionOptions {
  host: SshHost;
  settings: SshConnectorSettings;
  env: NodeJS.ProcessEnv;
  logger: LoggerLike;
}

export interface ConnectionStats {
  /** Connections made to the host (the first one, then one per reconnect). */
  connectionsOpened: number;
  /** Most channels open at once. */
  maxChannelsOpen: number;
}

/** Thrown into the calls in flight when the connection drops: transient (core's isTransientError). */
export class ConnectionLostError extends BatonError {
  readonly transient = true;
}

interface Live {
  client: Client;
  /** Closes the jump hosts' connections too. */
  end: () => void;
  closed: Promise<void>;
  sftp?: Promise<SFTPWrapper>;
  /** Calls that fail if this connection drops. */
  inFlight: Set<(error: Error) => void>;
}

const BACKOFF_START_MS = 500;
const BACKOFF_MAX_MS = 30_000;

export class SshConnection {
  readonly stats: ConnectionStats = { connectionsOpened: 0, maxChannelsOpen: 0 };
  readonly #options: SshConnectionOptions;
  readonly #log: LoggerLike;
  #live: Promise<Live> | undefined;
  /** The connection made last, while it is up. */
  #current: Live | undefined;
  #closed = false;
  #limit: number;
  #open = 0;
  /** The SFTP session holds one channel for as long as the connection lives. */
  #sftpHeld = false;
  readonly #waiting: (() => void)[] = [];

  constructor(options: SshConnectionOptions) {
    this.#options = options;
    this.#log = options.logger;
    this.#limit = options.settings.maxSessions;
  }

  get description(): string {
    return describeHost(this.#options.host);
  }

  /** The connection, made (again) if needed; concurrent callers share one attempt. */
  connection(): Promise<Live> {
    if (this.#closed) return Promise.reject(new BatonError(`The SSH connection to ${this.description} is closed`, { where: 'ssh connector', hint: 'the connector was closed: open a new one' }));
    this.#live ??= this.#connectWithRetries().catch((error: unknown) => {
      this.#live = undefined;
      throw error;
    });
    return this.#live;
  }

  /**
   * Runs `work` on a channel of its own: waits for a free channel, fails with
   * ConnectionLostError if the connection drops meanwhile.
   */
  async withChannel<T>(work: (client: Client, lost: Promise<never>) => Promise<T>): Promise<T> {
    const live = await this.connection();
    await this.#acquire();
    try {
      return await this.#guard(live, (lost) => work(live.client, lost));
    } finally {
      this.#release();
    }
  }

  /** Runs `work` with the connection's SFTP session (one channel for all file operations). */
  async withSftp<T>(work: (sftp: SFTPWrapper) => Promise<T>): Promise<T> {
    const live = await this.connection();
    live.sftp ??= this.#openSftp(live);
    const sftp = await live.sftp;
    return this.#guard(live, () => work(sftp));
  }

  /**
   * A channel the server refused. OpenSSH frees a closed session's slot a moment
   * after the client sees it close, so a refusal at the limit is often passing;
   * one with fewer channels open than the limit means the server's MaxSessions is
   * lower: the limit comes down to what was open, never below the SFTP session
   * plus one command.
   */
  channelRefused(openAtRefusal: number): void {
    const floor = (this.#sftpHeld ? 1 : 0) + 1;
    const lowered = Math.max(floor, openAtRefusal - 1);
    if (lowered < this.#limit && openAtRefusal < this.#limit) {
      this.#log.warn('%s refused a channel with %d open: at most %d at once from now on (the server’s MaxSessions is lower than maxSessions)', this.description, openAtRefusal, lowered);
      this.#limit = lowered;
    }
  }

  /** Channels open now, this one included when asked from inside withChannel. */
  get openChannels(): number {
    return this.#open;
  }

  async close(): Promise<void> {
    this.#closed = true;
    const live = await this.#live?.catch(() => undefined);
    if (!live) return;
    live.end();
    await live.closed;
  }

  async #guard<T>(live: Live, work: (lost: Promise<never>) => Promise<T>): Promise<T> {
    let fail!: (error: Error) => void;
    const lost = new Promise<never>((_, reject) => {
      fail = reject;
    });
    lost.catch(() => undefined);
    live.inFlight.add(fail);
    try {
      return await Promise.race([work(lost), lost]);
    } finally {
      live.inFlight.delete(fail);
    }
  }

  async #acquire(): Promise<void> {
    while (this.#open >= this.#limit) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    this.#open++;
    this.stats.maxChannelsOpen = Math.max(this.stats.maxChannelsOpen, this.#open);
  }

  #release(): void {
    this.#open--;
    this.#waiting.shift()?.();
  }

  async #openSftp(live: Live): Promise<SFTPWrapper> {
    // The SFTP session holds a channel for as long as the connection lives.
    await this.#acquire();
    try {
      const sftp = await new Promise<SFTPWrapper>((resolve, reject) => live.client.sftp((error, session) => (error ? reject(error) : resolve(session))));
      this.#sftpHeld = true;
      // Its channel is freed when the connection ends.
      void live.closed.then(() => {
        this.#sftpHeld = false;
        this.#release();
      });
      return sftp;
    } catch (error) {
      this.#release();
      live.sftp = undefined;
      throw new BatonError(`Could not open an SFTP session on ${this.description}: ${(error as Error).message}`, {
        where: 'ssh connector',
        hint: 'the server must offer the sftp subsystem (OpenSSH: `Subsystem sftp internal-sftp` in sshd_config)',
        cause: error,
      });
    }
  }

  async #connectWithRetries(): Promise<Live> {
    const attempts = this.stats.connectionsOpened === 0 ? 1 : this.#options.settings.reconnectAttempts + 1;
    let delay = BACKOFF_START_MS;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#connect();
      } catch (error) {
        // A refused host key or login does not get better by trying again.
        if (attempt >= attempts || !isTransient(error) || this.#closed) throw error;
        const wait = delay / 2 + Math.random() * (delay / 2);
        this.#log.warn('reconnecting to %s in %d ms (attempt %d of %d): %s', this.description, Math.round(wait), attempt + 1, attempts, (error as Error).message);
        await new Promise((resolve) => setTimeout(resolve, wait));
        delay = Math.min(delay * 2, BACKOFF_MAX_MS);
      }
    }
  }

  async #connect(): Promise<Live> {
    const { host } = this.#options;
    const jumps: Client[] = [];
    try {
      let sock: NodeJS.ReadableStream | undefined;
      for (const [index, jump] of host.jumps.entries()) {
        const client = await this.#handshake(jump, sock, `jump host ${index + 1} of ${host.jumps.length}`);
        jumps.push(client);
        const next = host.jumps[index + 1] ?? host;
        sock = await new Promise((resolve, reject) =>
          client.forwardOut('127.0.0.1', 0, next.hostname, next.port, (error, stream) =>
            error
              ? reject(new BatonError(`Jump host ${describeHost(jump)} could not reach ${next.hostname}:${next.port}: ${error.message}`, { where: 'ProxyJump of the ssh connector', hint: 'the jump host must allow TCP forwarding (AllowTcpForwarding) and reach that host' }))
              : resolve(stream),
          ),
        );
      }
      const client = await this.#handshake(host, sock, undefined);
      this.stats.connectionsOpened++;
      const live: Live = {
        client,
        inFlight: new Set(),
        end: () => {
          client.end();
          for (const jump of jumps) jump.end();
        },
        closed: new Promise((resolve) => client.once('close', () => resolve())),
      };
      const dropped = (reason: string) => {
        if (this.#current === live) {
          this.#current = undefined;
          this.#live = undefined;
        }
        const error = new ConnectionLostError(`Lost the SSH connection to ${this.description}${this.#closed ? '' : ` (${reason})`}`, {
          where: 'ssh connector',
          hint: 'the command may or may not have run on the host; Baton reconnects on the next call and finds jobs from their markers',
        });
        for (const fail of live.inFlight) fail(error);
        live.inFlight.clear();
        for (const jump of jumps) jump.end();
      };
      let lastError = 'connection closed';
      client.on('error', (error: Error) => {
        lastError = error.message;
        this.#log.warn('ssh connection to %s: %s', this.description, error.message);
      });
      client.once('close', () => dropped(lastError));
      this.#current = live;
      return live;
    } catch (error) {
      for (const jump of jumps) jump.end();
      throw error;
    }
  }

  /** One SSH handshake (TCP or through `sock`), host key checked, user authenticated. */
  #handshake(host: SshHost, sock: NodeJS.ReadableStream | undefined, role: string | undefined): Promise<Client> {
    const { settings, env } = this.#options;
    const { knownHostsFile } = host;
    const name = knownHostsName(host.hostname, host.port);
    const where = role ? `${role} (${describeHost(host)})` : describeHost(host);
    let verdict: { verdict: HostKeyVerdict; key: Buffer } | undefined;
    const tried: string[] = [];
    return new Promise<Client>((resolve, reject) => {
      const client = new Client();
      let settled = false;
      const finish = (error?: Error) => {
        if (settled) return;
        settled = true;
        if (error) {
          client.end();
          reject(error);
        } else resolve(client);
      };
      client.once('ready', () => finish());
      client.once('error', (error: Error & { level?: string }) => finish(this.#explain(error, { host, where, name, verdict, tried, knownHostsFile })));
      client.once('close', () => finish(transient(new BatonError(`The SSH connection to ${where} closed during the handshake`, { where: 'ssh connector', hint: 'check that the host runs an SSH server on that port' }))));
      const methods = authMethods(host, env, tried);
      const config: ConnectConfig = {
        host: host.hostname,
        port: host.port,
        username: host.user,
        readyTimeout: settings.connectTimeoutMs,
        keepaliveInterval: settings.keepaliveIntervalMs,
        keepaliveCountMax: settings.keepaliveCountMax,
        ...(sock ? { sock: sock as never } : {}),
        hostVerifier: (key: Buffer) => {
          const found = checkHostKey(readKnownHosts(knownHostsFile), name, key);
          verdict = { verdict: found, key };
          if (found === 'known') return true;
          if (found === 'unknown' && host.acceptNewHostKey) {
            addKnownHost(knownHostsFile, name, key);
            this.#log.info('added the %s key of %s (%s) to %s', found, name, fingerprint(key), knownHostsFile);
            verdict = { verdict: 'known', key };
            return true;
          }
          return false;
        },
        authHandler: (_methodsLeft, _partial, next) => {
          const method = methods.shift();
          if (!method) return next(false as never);
          tried.push(method.label);
          next(method.method as never);
        },
      };
      try {
        client.connect(config);
        // Commands and their answers are small packets: without this, Nagle's algorithm
        // holds each for the peer's delayed ACK (~40 ms a round trip), as OpenSSH avoids too.
        client.setNoDelay(true);
      } catch (error) {
        finish(error as Error);
      }
    });
  }

  #explain(
    error: Error & { level?: string },
    context: { host: SshHost; where: string; name: string; verdict: { verdict: HostKeyVerdict; key: Buffer } | undefined; tried: string[]; knownHostsFile: string },
  ): Error {
    const { verdict, where, name, knownHostsFile, tried, host } = context;
    if (verdict && verdict.verdict !== 'known') {
      const print = fingerprint(verdict.key);
      if (verdict.verdict === 'unknown') {
        return new BatonError(`The host key of ${where} is unknown: ${name} is not in ${knownHostsFile} (its ${keyType(verdict.key)} key's fingerprint is ${print})`, {
          where: knownHostsFile,
          hint: `check the fingerprint with the host's administrator, then accept it once: \`ssh -p ${host.port} ${host.user}@${host.hostname}\` (answer yes), or set acceptNewHostKey: true on this connector to add it`,
        });
      }
      return new BatonError(
        verdict.verdict === 'revoked'
          ? `The host key of ${where} (${print}) is marked @revoked in ${knownHostsFile}`
          : `The host key of ${where} has CHANGED: it offered ${print}, which ${knownHostsFile} does not list for ${name}. Someone may be intercepting the connection, or the host was reinstalled`,
        {
          where: knownHostsFile,
          hint: `if the host's administrator confirms the new key, remove the old one with \`ssh-keygen -R '${name}' -f ${knownHostsFile}\` and connect again`,
        },
      );
    }
    if (error.level === 'client-authentication') {
      return new BatonError(`SSH authentication failed for ${describeHost(host)} (tried: ${tried.join(', ') || 'nothing: no agent and no key file found'})`, {
        where: context.where,
        hint: 'add your public key to ~/.ssh/authorized_keys on the host, load a key into ssh-agent (ssh-add), or set identityFile / IdentityFile; a key with a passphrase must be in the agent',
      });
    }
    if (error.level === 'client-timeout') {
      return transient(new BatonError(`Timed out connecting to ${where} (${this.#options.settings.connectTimeoutMs} ms)`, { where: 'ssh connector', hint: 'check the host name and port, and that the network reaches the host' }));
    }
    const code = (error as NodeJS.ErrnoException).code;
    const failure = new BatonError(`Could not connect to ${where}: ${error.message}`, {
      where: 'ssh connector',
      hint: code === 'ENOTFOUND' ? 'the host name does not resolve: check `host` (or HostName in your ssh config)' : 'check the host name and port, and that an SSH server answers there',
      cause: error,
    });
    return code === 'ENOTFOUND' ? failure : transient(failure);
  }
}

/** Marks an error that another attempt may not meet (network, timeout), as opposed to a refusal. */
function transient<E extends Error>(error: E): E {
  return Object.assign(error, { transient: true });
}

function isTransient(error: unknown): boolean {
  return isTransientError(error);
}

interface LabelledMethod {
  label: string;
  method: AuthMethod & Record<string, unknown>;
}

/** What `ssh` would offer: the agent's keys (unless IdentitiesOnly), then each readable key file without a passphrase. */
function authMethods(host: SshHost, env: NodeJS.ProcessEnv, tried: string[]): LabelledMethod[] {
  const methods: LabelledMethod[] = [];
  const agent = env.SSH_AUTH_SOCK;
  if (agent && !host.identitiesOnly) methods.push({ label: 'ssh-agent', method: { type: 'agent' as AuthenticationType, username: host.user, agent } });
  for (const file of host.identityFiles) {
    let text: Buffer;
    try {
      text = readFileSync(file);
    } catch {
      continue;
    }
    const parsed = utils.parseKey(text);
    if (parsed instanceof Error) {
      tried.push(`${file} (skipped: ${/passphrase/i.test(parsed.message) ? 'has a passphrase; load it with ssh-add' : parsed.message})`);
      continue;
    }
    methods.push({ label: `key ${file}`, method: { type: 'publickey' as AuthenticationType, username: host.user, key: text } });
  }
  // IdentitiesOnly with keys in the agent: the agent still signs for the listed keys in ssh; offer it last.
  if (agent && host.identitiesOnly) methods.push({ label: 'ssh-agent', method: { type: 'agent' as AuthenticationType, username: host.user, agent } });
  return methods;
}

export type { ClientChannel };
