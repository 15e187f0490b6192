// Host keys, checked against OpenSSH's known_hosts: plain and hashed (`|1|salt|hash`)
// host patterns, `[host]:port` for other ports than 22, wildcards and negations,
// `@revoked` lines. A key is accepted only when a line lists it for the host; a host
// listed with another key of the same type has changed and is refused.
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';

export type HostKeyVerdict = 'known' | 'unknown' | 'changed' | 'revoked';

/** The name known_hosts lists a host under: `host`, or `[host]:port` for another port than 22. */
export function knownHostsName(hostname: string, port: number): string {
  return port === 22 ? hostname : `[${hostname}]:${port}`;
}

/** `SHA256:…`, as `ssh-keygen -l` prints a key's fingerprint. */
export function fingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/** The key type written first in an SSH public key blob (e.g. `ssh-ed25519`). */
export function keyType(key: Buffer): string {
  if (key.length < 4) return 'unknown';
  const length = key.readUInt32BE(0);
  return key.subarray(4, 4 + length).toString('latin1');
}

interface KnownHostLine {
  marker?: '@revoked' | '@cert-authority';
  patterns: string;
  type: string;
  key: string;
}

export function checkHostKey(text: string, hostName: string, key: Buffer): HostKeyVerdict {
  const blob = key.toString('base64');
  const type = keyType(key);
  let sameTypeOther = false;
  let known = false;
  for (const line of parseLines(text)) {
    if (line.marker === '@cert-authority') continue;
    if (line.marker === '@revoked') {
      if (line.key === blob) return 'revoked';
      continue;
    }
    if (!matchesHost(line.patterns, hostName)) continue;
    if (line.key === blob) known = true;
    else if (line.type === type) sameTypeOther = true;
  }
  if (known) return 'known';
  return sameTypeOther ? 'changed' : 'unknown';
}

export function readKnownHosts(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw error;
  }
}

/** Adds a hashed line for the host's key (as OpenSSH does with HashKnownHosts), creating the file 0600. */
export function addKnownHost(path: string, hostName: string, key: Buffer): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const salt = randomBytes(20);
  const hash = createHmac('sha1', salt).update(hostName).digest('base64');
  const existing = readKnownHosts(path);
  const separator = existing === '' || existing.endsWith('\n') ? '' : '\n';
  appendFileSync(path, `${separator}|1|${salt.toString('base64')}|${hash} ${keyType(key)} ${key.toString('base64')}\n`, { mode: 0o600 });
}

function parseLines(text: string): KnownHostLine[] {
  const lines: KnownHostLine[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const fields = line.split(/\s+/);
    let marker: KnownHostLine['marker'];
    if (fields[0] === '@revoked' || fields[0] === '@cert-authority') marker = fields.shift() as KnownHostLine['marker'];
    if (fields.length < 3) continue;
    lines.push({ ...(marker ? { marker } : {}), patterns: fields[0]!, type: fields[1]!, key: fields[2]! });
  }
  return lines;
}

/** OpenSSH's rule: some pattern matches and no negated pattern does. */
function matchesHost(patterns: string, hostName: string): boolean {
  if (patterns.startsWith('|1|')) return matchesHashed(patterns, hostName);
  let matched = false;
  for (const pattern of patterns.split(',')) {
    const negated = pattern.startsWith('!');
    if (globMatch(negated ? pattern.slice(1) : pattern, hostName)) {
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
}

function matchesHashed(entry: string, hostName: string): boolean {
  const [, , salt, hash] = entry.split('|');
  if (!salt || !hash) return false;
  return createHmac('sha1', Buffer.from(salt, 'base64')).update(hostName).digest('base64') === hash;
}

function globMatch(pattern: string, name: string): boolean {
  const regex = new RegExp(`^${pattern.toLowerCase().replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  return regex.test(name.toLowerCase());
}
