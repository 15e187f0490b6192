import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ValidationError } from '../errors.ts';
import { loadPlugins } from '../plugin/loadPlugins.ts';
import type { Connector } from '../types.ts';
import { fakeLauncherPluginSource, makePluginProject } from './__fixtures__/pluginProject.ts';
import { loadSettings } from './loadSettings.ts';
import { createWorkspaceLaunchers, validateLauncherBlocks } from './workspaceLaunchers.ts';
import { createWorkspaceTokens } from './workspaceTokens.ts';

// The fake launchers never touch their connector.
const connector = { kind: 'local', hostname: 'test-host' } as Connector;
const projects: string[] = [];

afterEach(async () => {
  await Promise.all(projects.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

/** A project with a settings file and plugins/fake.ts (launcher kind `fake`, settings `partition`). */
async function projectWith(settingsYaml: string) {
  const { dir, write } = await makePluginProject();
  projects.push(dir);
  await write('plugins/fake.ts', fakeLauncherPluginSource({ kind: 'fake' }));
  await write('node_modules/@baton/launcher-local/package.json', JSON.stringify({ name: '@baton/launcher-local', type: 'module', exports: './index.ts' }));
  await write('node_modules/@baton/launcher-local/index.ts', fakeLauncherPluginSource({ kind: 'local', pluginName: 'local' }).replace('z.string()', "z.string().default('none')"));
  const settingsFile = await write('baton.config.yaml', settingsYaml);
  const { settings, filepath } = await loadSettings({ cwd: dir, env: { HOME: dir, XDG_CONFIG_HOME: join(dir, 'xdg') } });
  expect(filepath).toBe(settingsFile);
  const plugins = await loadPlugins({ names: settings.plugins, baseDir: settings.baseDir, settingsFile });
  return { dir, settings, settingsFile, plugins, workspace: settings.workspaces[0]! };
}

describe('createWorkspaceLaunchers', () => {
  it('creates each declared launcher with its validated settings and picks the default', async () => {
    const { dir, workspace, plugins, settingsFile } = await projectWith(
      [
        'plugins: [./plugins/fake.ts]',
        'workspaces:',
        '  - id: main',
        '    path: ws',
        '    launcher: gpu',
        '    launchers:',
        '      cpu: { use: local, maxConcurrent: 2 }',
        '      gpu: { use: fake, partition: gpu }',
      ].join('\n'),
    );
    const { launchers, defaultLauncher } = await createWorkspaceLaunchers({ workspace, plugins, settingsFile, connector });
    expect(launchers.map((launcher) => [launcher.name, launcher.kind, launcher.maxConcurrent])).toEqual([
      ['cpu', 'local', 2],
      ['gpu', 'fake', undefined],
    ]);
    expect(defaultLauncher.name).toBe('gpu');
    expect(defaultLauncher).toMatchObject({ partition: 'gpu', workspacePath: join(dir, 'ws'), connector });
  });

  it('has a default local launcher when none is declared', async () => {
    const { workspace, plugins, settingsFile } = await projectWith('workspaces: [{ id: main, path: ws }]\n');
    const { launchers, defaultLauncher } = await createWorkspaceLaunchers({ workspace, plugins, settingsFile, connector });
    expect(launchers).toHaveLength(1);
    expect(defaultLauncher).toMatchObject({ name: 'local', kind: 'local' });
  });

  it('reports a typo in a launcher block with the file, the key path and did-you-mean, with every other problem', async () => {
    const { workspace, plugins, settingsFile } = await projectWith(
      [
        'plugins: [./plugins/fake.ts]',
        'workspaces:',
        '  - id: main',
        '    path: ws',
        '    launchers:',
        '      gpu: { use: fake, partiton: gpu }',
        '      other: { use: fak, partition: x }',
      ].join('\n'),
    );
    const error = (await createWorkspaceLaunchers({ workspace, plugins, settingsFile, connector }).catch((caught: unknown) => caught)) as ValidationError;
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.where).toBe(settingsFile);
    expect(error.message).toContain(settingsFile);
    expect(error.issues).toEqual([
      { path: 'workspaces[0].launchers.gpu.partition', message: 'missing (expected string)' },
      { path: 'workspaces[0].launchers.gpu.partiton', message: 'unknown key "partiton" (did you mean "partition"?)' },
      {
        path: 'workspaces[0].launchers.other.use',
        message: 'unknown launcher kind "fak" (did you mean "fake"?); loaded kinds: fake, local. Add the plugin that provides it to `plugins:` if it is not a typo',
      },
    ]);
  });

  it('validates without creating anything (for a settings check)', async () => {
    const { workspace, plugins } = await projectWith(
      ['plugins: [./plugins/fake.ts]', 'workspaces:', '  - id: main', '    path: ws', '    launchers: { gpu: { use: slurm } }'].join('\n'),
    );
    expect(() => validateLauncherBlocks({ workspace, plugins })).toThrow('launcher kind "slurm" comes with the built-in plugin @baton/launcher-slurm, which is not loaded: add slurm to `plugins:`');
  });

  it('without @baton/launcher-local, says how to install it with the package manager in use', () => {
    const workspace = { id: 'main', path: '/ws', env: {}, triggers: [], launcher: 'local', launchers: {}, tokens: {}, services: {}, keyPath: 'workspaces[0]' };
    const previous = process.env.npm_config_user_agent;
    process.env.npm_config_user_agent = 'yarn/1.22.22 npm/? node/v20.19.0 linux x64';
    try {
      expect(() => validateLauncherBlocks({ workspace, plugins: [], settingsFile: '/p/baton.config.yaml' })).toThrow(
        expect.objectContaining({ hint: expect.stringContaining('Install it with `yarn add @baton/launcher-local`') }),
      );
    } finally {
      if (previous === undefined) delete process.env.npm_config_user_agent;
      else process.env.npm_config_user_agent = previous;
    }
  });
});

describe('createWorkspaceTokens', () => {
  it('makes one counter token per entry, with its total, in the workspace', async () => {
    const { workspace } = await projectWith('workspaces: [{ id: main, path: ws, tokens: { gpu: 2, licence: 1 } }]\n');
    const tokens = createWorkspaceTokens({ workspace });
    expect([...tokens.values()].map((token) => [token.name, token.total])).toEqual([
      ['gpu', 2],
      ['licence', 1],
    ]);
  });
});
