import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalConnector } from '../connector/localConnector.ts';
import { ValidationError } from '../errors.ts';
import { loadPlugins } from '../plugin/loadPlugins.ts';
import { openWorkspace } from '../workspace/openWorkspace.ts';
import { fakeLauncherPluginSource, makePluginProject } from './__fixtures__/pluginProject.ts';
import { loadSettings } from './loadSettings.ts';
import { createWorkspaceConnector } from './workspaceConnector.ts';

const projects: string[] = [];
afterEach(async () => {
  await Promise.all(projects.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

/** A connector kind `fakehost` (settings: host, optional port) whose connector records what it was made with; it resolves `~` to /remote/home. */
const FAKE_CONNECTOR_PLUGIN = `
import { definePlugin, LocalConnector } from '@baton/core';
import { z } from 'zod';

const settings = z.object({ host: z.string(), port: z.number().optional() });

export default definePlugin({
  name: 'fake-host',
  connectors: {
    fakehost: {
      settings,
      create(options: z.output<typeof settings>) {
        const connector = new LocalConnector();
        return Object.assign(connector, {
          kind: 'fakehost',
          made: options,
          closed: false,
          resolve: (path: string) => (path.startsWith('~/') ? '/remote/home/' + path.slice(2) : path),
          close: async () => { (connector as unknown as { closed: boolean }).closed = true; },
        });
      },
    },
  },
});
`;

async function projectWith(settingsYaml: string) {
  const { dir, write } = await makePluginProject();
  projects.push(dir);
  await write('plugins/host.ts', FAKE_CONNECTOR_PLUGIN);
  await write('plugins/fake.ts', fakeLauncherPluginSource({ kind: 'fake' }));
  await write('node_modules/@baton/launcher-local/package.json', JSON.stringify({ name: '@baton/launcher-local', type: 'module', exports: './index.ts' }));
  await write('node_modules/@baton/launcher-local/index.ts', fakeLauncherPluginSource({ kind: 'local', pluginName: 'local' }).replace('z.string()', "z.string().default('none')"));
  await write('baton.config.yaml', settingsYaml);
  return { dir, env: { HOME: dir, XDG_CONFIG_HOME: join(dir, 'xdg') } };
}

const HEADER = ['plugins: [./plugins/host.ts, ./plugins/fake.ts]', 'connectors:', '  gpu1: { use: fakehost, host: gpu1.lab }', '  login: { use: fakehost, host: login.lab, port: 2222 }'];

describe('a workspace behind a connector', () => {
  it('lives on the host its connector reaches: path resolved there, launchers given that connector', async () => {
    const { dir, env } = await projectWith(
      [...HEADER, 'workspaces:', '  - id: remote', '    path: ~/runs', '    connector: gpu1', '    launchers:', '      cluster: { use: fake, partition: gpu, connector: gpu1 }'].join('\n'),
    );
    const { settings } = await loadSettings({ cwd: dir, env });
    // Not expanded with this machine's home: the host resolves it.
    expect(settings.workspaces[0]).toMatchObject({ path: '~/runs', connector: 'gpu1' });
    const workspace = await openWorkspace({ cwd: dir, settings: await loadSettings({ cwd: dir, env }) });
    try {
      expect(workspace.path).toBe('/remote/home/runs');
      expect(workspace.connector).toMatchObject({ kind: 'fakehost', made: { host: 'gpu1.lab' } });
      expect(workspace.launchers.get('cluster')).toMatchObject({ connector: workspace.connector, workspacePath: '/remote/home/runs' });
    } finally {
      await workspace.close();
    }
    expect(workspace.connector).toMatchObject({ closed: true });
  });

  it('takes the host its launchers name when the workspace names none', async () => {
    const { dir, env } = await projectWith([...HEADER, 'workspaces:', '  - id: remote', '    path: /scratch/me', '    launchers:', '      cluster: { use: fake, partition: gpu, connector: login }'].join('\n'));
    const { settings } = await loadSettings({ cwd: dir, env });
    expect(settings.workspaces[0]).toMatchObject({ path: '/scratch/me', connector: 'login' });
  });

  it('reports unknown connector names with a did-you-mean, and launchers reaching another host than the workspace', async () => {
    const { dir, env } = await projectWith(
      [
        ...HEADER,
        'workspaces:',
        '  - id: remote',
        '    path: /scratch/me',
        '    connector: gpu',
        '    launchers:',
        '      a: { use: fake, partition: x, connector: login }',
        '      b: { use: fake, partition: x, connector: logn }',
        '  - id: mixed',
        '    path: /scratch/me',
        '    connector: gpu1',
        '    launchers:',
        '      c: { use: fake, partition: x, connector: login }',
      ].join('\n'),
    );
    const error = await loadSettings({ cwd: dir, env }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues).toEqual([
      { path: 'workspaces[0].connector', message: 'no connector named "gpu" (did you mean "gpu1"?); declared under `connectors:`: gpu1, login' },
      { path: 'workspaces[0].launchers.b.connector', message: 'no connector named "logn" (did you mean "login"?); declared under `connectors:`: gpu1, login' },
      {
        path: 'workspaces[1].launchers.c.connector',
        message: 'launcher "c" reaches "login" but the workspace lives on "gpu1": a workspace\'s launchers run jobs on the host its files are on; declare a workspace per host',
      },
    ]);
  });

  it('validates a connector block with its plugin’s schema: unknown keys with a did-you-mean, unknown kinds with the loaded ones', async () => {
    const { dir, env } = await projectWith(
      ['plugins: [./plugins/host.ts]', 'connectors:', '  gpu1: { use: fakehost, hots: gpu1.lab }', '  other: { use: fakhost, host: x }', 'workspaces:', '  - { id: a, path: /a, connector: gpu1 }', '  - { id: b, path: /b, connector: other }'].join('\n'),
    );
    const { settings, filepath } = await loadSettings({ cwd: dir, env });
    const plugins = await loadPlugins({ names: settings.plugins, baseDir: settings.baseDir, settingsFile: filepath });
    const make = (index: number) =>
      createWorkspaceConnector({ workspace: settings.workspaces[index]!, connectors: settings.connectors, plugins, settingsFile: filepath, logger: console }).catch((caught: unknown) => caught);
    const [typo, unknownKind] = [await make(0), await make(1)];
    expect((typo as ValidationError).issues).toEqual(
      expect.arrayContaining([
        { path: 'connectors.gpu1.hots', message: 'unknown key "hots" (did you mean "host"?)' },
        expect.objectContaining({ path: 'connectors.gpu1.host' }),
      ]),
    );
    expect((unknownKind as ValidationError).issues).toEqual([
      { path: 'connectors.other.use', message: 'unknown connector kind "fakhost" (did you mean "fakehost"?); loaded kinds: fakehost. Add the plugin that provides it to `plugins:` if it is not a typo' },
    ]);
  });

  it('takes `node:` only for a workspace on another host', async () => {
    const { dir, env } = await projectWith([...HEADER, 'workspaces:', '  - { id: here, path: ws, node: /opt/node/bin/node }', '  - { id: there, path: /x, connector: gpu1, node: /opt/node/bin/node }'].join('\n'));
    const error = await loadSettings({ cwd: dir, env }).catch((caught: unknown) => caught);
    expect((error as ValidationError).issues).toEqual([
      { path: 'workspaces[0].node', message: 'only for a workspace on another host (with `connector:`): here, function tasks run with the Node that runs Baton' },
    ]);
  });

  it('is this machine’s without a connector', async () => {
    const { dir, env } = await projectWith([...HEADER, 'workspaces:', '  - { id: here, path: ws }'].join('\n'));
    const { settings } = await loadSettings({ cwd: dir, env });
    expect(settings.workspaces[0]).toMatchObject({ path: join(dir, 'ws') });
    expect(settings.workspaces[0]!.connector).toBeUndefined();
    const connector = await createWorkspaceConnector({ workspace: settings.workspaces[0]!, connectors: settings.connectors, plugins: [], logger: console });
    expect(connector).toBeInstanceOf(LocalConnector);
  });
});
