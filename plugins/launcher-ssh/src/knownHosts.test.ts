import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addKnownHost, checkHostKey, fingerprint, keyType, knownHostsName } from './knownHosts.ts';

// Real keys from ssh-keygen, so that blobs, types and fingerprints are OpenSSH's own.
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'baton-known-hosts-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function newKey(name: string, type = 'ed25519'): Promise<{ line: string; blob: Buffer; printed: string }> {
  const path = join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-f', path]);
  const line = (await readFile(`${path}.pub`, 'utf8')).trim();
  const printed = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${path}.pub`], { encoding: 'utf8' }).split(' ')[1]!;
  return { line, blob: Buffer.from(line.split(' ')[1]!, 'base64'), printed };
}

describe('known_hosts', () => {
  it('names hosts as OpenSSH does, and prints fingerprints as ssh-keygen -l', async () => {
    const key = await newKey('a');
    expect(knownHostsName('gpu1.lab', 22)).toBe('gpu1.lab');
    expect(knownHostsName('127.0.0.1', 2222)).toBe('[127.0.0.1]:2222');
    expect(fingerprint(key.blob)).toBe(key.printed);
    expect(keyType(key.blob)).toBe('ssh-ed25519');
  });

  it('knows a listed key, and tells an unknown host from a changed key', async () => {
    const [listed, other, rsa] = [await newKey('a'), await newKey('b'), await newKey('c', 'rsa')];
    const text = `# comment\n[127.0.0.1]:2222 ${listed.line}\ngpu1.lab,10.0.0.1 ${listed.line}\n`;
    expect(checkHostKey(text, '[127.0.0.1]:2222', listed.blob)).toBe('known');
    expect(checkHostKey(text, '10.0.0.1', listed.blob)).toBe('known');
    expect(checkHostKey(text, '127.0.0.1', listed.blob)).toBe('unknown'); // port 22 is another entry
    expect(checkHostKey(text, '[127.0.0.1]:2222', other.blob)).toBe('changed');
    // Only a key of another type is listed: not a change, an unknown key of this type.
    expect(checkHostKey(text, '[127.0.0.1]:2222', rsa.blob)).toBe('unknown');
  });

  it('reads entries hashed by ssh-keygen -H, wildcards, negations and @revoked', async () => {
    const [key, revoked] = [await newKey('a'), await newKey('r')];
    const file = join(dir, 'known_hosts');
    await writeFile(file, `[127.0.0.1]:2222 ${key.line}\n`);
    execFileSync('ssh-keygen', ['-q', '-H', '-f', file]);
    const hashed = await readFile(file, 'utf8');
    expect(hashed).toMatch(/^\|1\|/);
    expect(checkHostKey(hashed, '[127.0.0.1]:2222', key.blob)).toBe('known');
    expect(checkHostKey(hashed, '[127.0.0.2]:2222', key.blob)).toBe('unknown');
    const patterns = `*.lab,!bad.lab ${key.line}\n@revoked * ${revoked.line}\n`;
    expect(checkHostKey(patterns, 'gpu1.lab', key.blob)).toBe('known');
    expect(checkHostKey(patterns, 'bad.lab', key.blob)).toBe('unknown');
    expect(checkHostKey(patterns, 'gpu1.lab', revoked.blob)).toBe('revoked');
  });

  it('adds a hashed line that OpenSSH itself then finds, in a file only its owner reads', async () => {
    const key = await newKey('a');
    const file = join(dir, 'sub', 'known_hosts');
    addKnownHost(file, '[127.0.0.1]:2222', key.blob);
    const text = await readFile(file, 'utf8');
    expect(checkHostKey(text, '[127.0.0.1]:2222', key.blob)).toBe('known');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    // ssh-keygen -F looks the host up the way ssh does.
    expect(execFileSync('ssh-keygen', ['-F', '[127.0.0.1]:2222', '-f', file], { encoding: 'utf8' })).toContain('ssh-ed25519');
  });
});
