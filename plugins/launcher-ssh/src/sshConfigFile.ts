// Where a `use: ssh` connector goes: the host block of the settings, completed by
// the user's OpenSSH client config (~/.ssh/config) the way `ssh` completes it:
// HostName, User, Port, IdentityFile, IdentitiesOnly, ProxyJump. Parsed by the
// ssh-config package; `Match exec` blocks are not run.
import { readFileSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import { BatonError } from '@baton/core';
import SSHConfig from 'ssh-config';
import type { SshConnectorSettings } from './sshSettings.ts';

/** One host to connect to, and the hops before it (ProxyJump), each resolved the same way. */
export interface SshHost {
  /** As the user wrote it (an alias, or a name). */
  alias: string;
  hostname: string;
  port: number;
  user: string;
  identityFiles: string[];
  /** Offer only the identity files, not every key of the agent. */
  identitiesOnly: boolean;
  /** known_hosts file the host's key is checked against (and a new one added to). */
  knownHostsFile: string;
  /** `StrictHostKeyChecking accept-new` in the config file, or acceptNewHostKey in the settings. */
  acceptNewHostKey: boolean;
  /** Hosts to go through first, in order (`ssh -J a,b`). */
  jumps: SshHost[];
}

export interface ResolveHostOptions {
  env: NodeJS.ProcessEnv;
}

const DEFAULT_IDENTITY_FILES = ['id_ed25519', 'id_ecdsa', 'id_rsa'];

export function resolveSshHost(settings: SshConnectorSettings, options: ResolveHostOptions): SshHost {
  const home = options.env.HOME ?? homedir();
  const config = readConfig(settings.configFile, home);
  const host = resolveOne(settings.host, config, home, options.env, 0);
  // The settings' host-key choices hold for every hop.
  const apply = (hop: SshHost) => {
    if (settings.knownHostsFile) hop.knownHostsFile = expandHome(settings.knownHostsFile, home);
    if (settings.acceptNewHostKey) hop.acceptNewHostKey = true;
    hop.jumps.forEach(apply);
  };
  if (settings.user) host.user = settings.user;
  if (settings.port) host.port = settings.port;
  if (settings.identityFile) {
    host.identityFiles = (Array.isArray(settings.identityFile) ? settings.identityFile : [settings.identityFile]).map((file) => expandHome(file, home));
  }
  if (settings.proxyJump) host.jumps = parseJumps(settings.proxyJump, config, home, options.env, 0);
  apply(host);
  return host;
}

/** `[user@]host[:port]` or `ssh://[user@]host[:port]`, or an alias of the config file. */
function resolveOne(spec: string, config: SSHConfig | undefined, home: string, env: NodeJS.ProcessEnv, depth: number): SshHost {
  if (depth > 8) {
    throw new BatonError(`ProxyJump of ${spec} goes through more than 8 hosts`, { where: 'ssh connector settings', hint: 'check the ProxyJump lines of your ssh config for a loop' });
  }
  const { user, name, port } = splitSpec(spec);
  const computed = config?.compute(name, { ignoreCase: true, matchExec: false }) ?? {};
  const value = (key: string): string | undefined => {
    const found = computed[key];
    return Array.isArray(found) ? found[0] : found;
  };
  const hostname = (value('hostname') ?? name).replace(/%h/g, name);
  const identity = computed.identityfile;
  const identityFiles = (identity === undefined ? [] : Array.isArray(identity) ? identity : [identity]).map((file) => expandHome(file, home));
  const jumpSpec = value('proxyjump');
  // UserKnownHostsFile may list several files; the first is the one ssh adds keys to.
  const knownHostsFile = value('userknownhostsfile')?.split(/\s+/)[0];
  return {
    alias: name,
    hostname,
    port: port ?? parsePort(value('port'), spec) ?? 22,
    user: user ?? value('user') ?? env.USER ?? userInfo().username,
    identityFiles: identityFiles.length > 0 ? identityFiles : DEFAULT_IDENTITY_FILES.map((file) => join(home, '.ssh', file)),
    identitiesOnly: value('identitiesonly')?.toLowerCase() === 'yes',
    knownHostsFile: expandHome(knownHostsFile ?? '~/.ssh/known_hosts', home),
    // `no`/`off` would accept any key, changed ones included: never followed.
    acceptNewHostKey: value('stricthostkeychecking')?.toLowerCase() === 'accept-new',
    jumps: jumpSpec && jumpSpec.toLowerCase() !== 'none' ? parseJumps(jumpSpec, config, home, env, depth + 1) : [],
  };
}

function parseJumps(spec: string, config: SSHConfig | undefined, home: string, env: NodeJS.ProcessEnv, depth: number): SshHost[] {
  return spec
    .split(',')
    .map((hop) => hop.trim())
    .filter((hop) => hop !== '')
    .map((hop) => resolveOne(hop, config, home, env, depth + 1));
}

function splitSpec(spec: string): { user?: string; name: string; port?: number } {
  const match = /^(?:ssh:\/\/)?(?:([^@]+)@)?(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(spec.trim());
  if (!match) throw new BatonError(`Not a host: "${spec}"`, { where: 'ssh connector settings', hint: 'write host, user@host, user@host:port, or a Host alias of ~/.ssh/config' });
  const name = match[2]!.replace(/^\[(.*)\]$/, '$1');
  return { ...(match[1] ? { user: match[1] } : {}), name, ...(match[3] ? { port: Number(match[3]) } : {}) };
}

function parsePort(value: string | undefined, spec: string): number | undefined {
  if (value === undefined) return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new BatonError(`Port "${value}" of host ${spec} in your ssh config is not a port number`, { where: 'ssh config', hint: 'fix the Port line of that Host block' });
  }
  return port;
}

function readConfig(configFile: string | false | undefined, home: string): SSHConfig | undefined {
  if (configFile === false) return undefined;
  const path = expandHome(configFile ?? '~/.ssh/config', home);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' && configFile === undefined) return undefined;
    throw new BatonError(`Could not read the ssh config ${path}: ${(error as Error).message}`, { where: 'configFile of the ssh connector', hint: 'give the path of an OpenSSH client config, or configFile: false' });
  }
  try {
    return SSHConfig.parse(text);
  } catch (error) {
    throw new BatonError(`Could not parse the ssh config ${path}: ${(error as Error).message}`, { where: path, hint: 'check it with `ssh -G <host>`' });
  }
}

export function expandHome(path: string, home: string): string {
  if (path === '~') return home;
  if (path.startsWith('~/')) return join(home, path.slice(2));
  return path;
}

/** user@host:port, as messages show a host. */
export function describeHost(host: Pick<SshHost, 'user' | 'hostname' | 'port'>): string {
  return `${host.user}@${host.hostname}${host.port === 22 ? '' : `:${host.port}`}`;
}
