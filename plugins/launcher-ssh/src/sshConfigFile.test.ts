import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveSshHost } from './sshConfigFile.ts';
import { sshConnectorSettings } from './sshSettings.ts';

let home: string;
beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'baton-ssh-config-'));
});
afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

const env = () => ({ HOME: home, USER: 'me' });

describe('resolveSshHost', () => {
  it('completes a host alias from the config file as ssh does, settings winning', async () => {
    const configFile = join(home, 'config');
    await writeFile(
      configFile,
      ['Host gpu1', '  HostName gpu1.lab.example', '  User alice', '  Port 2200', '  IdentityFile ~/.ssh/lab_key', '  ProxyJump bastion', '', 'Host bastion', '  HostName bastion.example', '  User bob', '', 'Host *', '  IdentitiesOnly yes', ''].join('\n'),
    );
    const host = resolveSshHost(sshConnectorSettings.parse({ host: 'gpu1', configFile }), { env: env() });
    expect(host).toMatchObject({ alias: 'gpu1', hostname: 'gpu1.lab.example', user: 'alice', port: 2200, identityFiles: [join(home, '.ssh/lab_key')], identitiesOnly: true });
    expect(host.jumps).toMatchObject([{ hostname: 'bastion.example', user: 'bob', port: 22 }]);
    const overridden = resolveSshHost(sshConnectorSettings.parse({ host: 'gpu1', configFile, user: 'carol', port: 22, proxyJump: 'dave@hop:2022' }), { env: env() });
    expect(overridden).toMatchObject({ user: 'carol', port: 22 });
    expect(overridden.jumps).toMatchObject([{ hostname: 'hop', user: 'dave', port: 2022 }]);
  });

  it('checks host keys where the config file says, settings winning for every hop', async () => {
    const configFile = join(home, 'config');
    await writeFile(configFile, ['Host lab', '  UserKnownHostsFile ~/lab_hosts /etc/other', '  StrictHostKeyChecking accept-new', '  ProxyJump hop', 'Host hop', '  StrictHostKeyChecking no', ''].join('\n'));
    const host = resolveSshHost(sshConnectorSettings.parse({ host: 'lab', configFile }), { env: env() });
    expect(host).toMatchObject({ knownHostsFile: join(home, 'lab_hosts'), acceptNewHostKey: true });
    // `no` would accept changed keys: not followed.
    expect(host.jumps[0]).toMatchObject({ knownHostsFile: join(home, '.ssh/known_hosts'), acceptNewHostKey: false });
    const given = resolveSshHost(sshConnectorSettings.parse({ host: 'lab', configFile, knownHostsFile: '~/mine' }), { env: env() });
    expect([given.knownHostsFile, given.jumps[0]!.knownHostsFile]).toEqual([join(home, 'mine'), join(home, 'mine')]);
  });

  it('takes user@host:port without a config file, and the default keys', () => {
    const host = resolveSshHost(sshConnectorSettings.parse({ host: 'eve@10.0.0.5:2222', configFile: false }), { env: env() });
    expect(host).toMatchObject({ hostname: '10.0.0.5', user: 'eve', port: 2222, jumps: [] });
    expect(host.identityFiles).toEqual(['id_ed25519', 'id_ecdsa', 'id_rsa'].map((name) => join(home, '.ssh', name)));
  });

  it('reads no config file when ~/.ssh/config is missing, and fails clearly on a named one that is', () => {
    expect(resolveSshHost(sshConnectorSettings.parse({ host: 'plain' }), { env: env() })).toMatchObject({ hostname: 'plain', user: 'me', port: 22 });
    expect(() => resolveSshHost(sshConnectorSettings.parse({ host: 'plain', configFile: join(home, 'nope') }), { env: env() })).toThrow(/Could not read the ssh config/);
  });

  it('refuses a ProxyJump loop', async () => {
    const configFile = join(home, 'config');
    await writeFile(configFile, 'Host a\n  ProxyJump b\nHost b\n  ProxyJump a\n');
    expect(() => resolveSshHost(sshConnectorSettings.parse({ host: 'a', configFile }), { env: env() })).toThrow(/more than 8 hosts/);
  });
});
