import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ValidationError } from '../errors.ts';
import type { Plugin } from '../types.ts';
import { fakeLauncherPluginSource, makePluginProject } from './__fixtures__/pluginProject.ts';
import { loadPlugins } from '../plugin/loadPlugins.ts';
import { loadSettings } from './loadSettings.ts';
import { validateLauncherBlocks } from './workspaceLaunchers.ts';

let root: string;
let env: NodeJS.ProcessEnv;
let userFile: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'baton-layers-'));
  env = { HOME: join(root, 'home'), XDG_CONFIG_HOME: join(root, 'xdg') };
  userFile = join(root, 'xdg', 'baton', 'config.yaml');
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function write(path: string, lines: string[]): Promise<string> {
  const full = join(root, path);
  await mkdir(join(full, '..'), { recursive: true });
  await writeFile(full, `${lines.join('\n')}\n`);
  return full;
}

const USER = [
  'plugins: [slurm, ./my-plugin.ts]',
  'env: { LAB: lab, SHARED: user }',
  'connectors:',
  '  front: { use: ssh, host: front.lab }',
  'workspaces:',
  '  - id: main',
  '    path: ws-user',
  '    env: { FROM_USER: "1" }',
  '    launchers:',
  '      cpu: { use: slurm, partition: cpu }',
  '      gpu: { use: slurm, partition: gpu }',
  '    tokens: { gpu: 2, disk: 1 }',
  '  - id: scratch',
  '    path: ~/scratch',
];

describe('layered settings: the user file, then the project file', () => {
  it('merges the project file over the user file, key by key, workspaces by id and their entries by name', async () => {
    await write('xdg/baton/config.yaml', USER);
    const projectFile = await write('project/baton.config.yaml', [
      'plugins: [oar, slurm]',
      'env: { SHARED: project }',
      'workspaces:',
      '  - id: main',
      '    launcher: gpu',
      '    launchers:',
      '      gpu: { use: slurm, partition: a100 }',
      '      here: { use: local }',
      '    tokens: { gpu: 4 }',
      '  - id: local',
      '    path: ws',
    ]);
    const { settings, filepath, filepaths } = await loadSettings({ cwd: join(root, 'project'), env });
    expect(filepaths).toEqual([userFile, projectFile]);
    expect(filepath).toBe(projectFile);
    expect(settings.files).toEqual([userFile, projectFile]);
    // United, in order; a path from the user file resolved from the user's folder.
    expect(settings.plugins).toEqual(['slurm', join(root, 'xdg', 'baton', 'my-plugin.ts'), 'oar']);
    expect(settings.origins?.plugins).toMatchObject({ slurm: { file: userFile, keyPath: 'plugins[0]' }, oar: { file: projectFile, keyPath: 'plugins[0]' } });
    expect(settings.env).toEqual({ LAB: 'lab', SHARED: 'project' });
    expect(settings.connectors).toEqual({ front: { use: 'ssh', host: 'front.lab' } });
    expect(settings.workspaces.map((workspace) => workspace.id)).toEqual(['main', 'scratch', 'local']);
    const [main, scratch, local] = settings.workspaces;
    // The path written in the user file, resolved from the user's folder.
    expect(main).toMatchObject({
      path: join(root, 'xdg', 'baton', 'ws-user'),
      launcher: 'gpu',
      launchers: { cpu: { use: 'slurm', partition: 'cpu' }, gpu: { use: 'slurm', partition: 'a100' }, here: { use: 'local' } },
      tokens: { gpu: 4, disk: 1 },
      env: { LAB: 'lab', SHARED: 'project', FROM_USER: '1' },
    });
    expect(main?.origins?.launchers).toMatchObject({
      cpu: { file: userFile, keyPath: 'workspaces[0].launchers.cpu' },
      gpu: { file: projectFile, keyPath: 'workspaces[0].launchers.gpu' },
      here: { file: projectFile },
    });
    expect(main?.origins?.declared.map((origin) => origin.file)).toEqual([userFile, projectFile]);
    expect(scratch?.path).toBe(join(root, 'home', 'scratch'));
    expect(local?.path).toBe(join(root, 'project', 'ws'));
  });

  it('reads the user file alone without a project file, and --config-dir replaces both', async () => {
    await write('xdg/baton/config.yaml', USER);
    await write('project/baton.config.yaml', ['workspaces: [{ id: project, path: p }]']);
    const alone = await loadSettings({ cwd: root, env });
    expect(alone.filepaths).toEqual([userFile]);
    const chosen = await write('elsewhere/baton.config.yaml', ['workspaces: [{ id: chosen, path: c }]']);
    const replaced = await loadSettings({ cwd: join(root, 'project'), configDir: join(root, 'elsewhere'), env });
    expect(replaced.filepaths).toEqual([chosen]);
    expect(replaced.settings.workspaces.map((workspace) => workspace.id)).toEqual(['chosen']);
  });

  it('lets a project file add launchers to a workspace of the user file without repeating its path', async () => {
    await write('xdg/baton/config.yaml', USER);
    await write('project/baton.config.yaml', ['workspaces: [{ id: scratch, launchers: { big: { use: slurm } } }]']);
    const { settings } = await loadSettings({ cwd: join(root, 'project'), env });
    expect(settings.workspaces.find((workspace) => workspace.id === 'scratch')).toMatchObject({ path: join(root, 'home', 'scratch'), launchers: { big: { use: 'slurm' } } });
  });

  it('names the file and key path a bad value came from', async () => {
    await write('xdg/baton/config.yaml', USER);
    const projectFile = await write('project/baton.config.yaml', ['workspaces:', '  - id: main', '    launcher: gpus', '  - id: nopath']);
    // A workspace without a path in either file.
    const missing = (await loadSettings({ cwd: join(root, 'project'), env }).catch((caught: unknown) => caught)) as ValidationError;
    expect(missing).toBeInstanceOf(ValidationError);
    expect(missing.where).toBe(projectFile);
    expect(missing.issues).toContainEqual({ path: 'workspaces[1].path', message: expect.stringContaining('missing (expected string)') });
    expect(missing.issues.filter((issue) => issue.path === 'workspaces[1].path')).toHaveLength(1);

    await write('project/baton.config.yaml', ['workspaces:', '  - id: main', '    launcher: gpus', '    connector: frnt']);
    const merged = (await loadSettings({ cwd: join(root, 'project'), env }).catch((caught: unknown) => caught)) as ValidationError;
    expect(merged.where).toBe(projectFile);
    expect(merged.issues).toEqual(
      expect.arrayContaining([
        { path: 'workspaces[0].launcher', message: 'no launcher named "gpus" in this workspace (did you mean "gpu"?); declared: cpu, gpu' },
        expect.objectContaining({ path: 'workspaces[0].connector', message: expect.stringContaining('no connector named "frnt" (did you mean "front"?)') }),
      ]),
    );

    // A bad value in the user file is told in the user file, even once merged.
    await write('xdg/baton/config.yaml', [...USER, '    triggers: ["/(/"]']);
    await write('project/baton.config.yaml', ['workspaces: [{ id: scratch, launcher: nope }]']);
    const both = (await loadSettings({ cwd: join(root, 'project'), env }).catch((caught: unknown) => caught)) as ValidationError;
    expect(both.where).toBe(`${userFile} and ${join(root, 'project', 'baton.config.yaml')}`);
    expect(both.message).toContain(`${userFile}: workspaces[1].triggers[0]: invalid regular expression`);
    expect(both.message).toContain(`${join(root, 'project', 'baton.config.yaml')}: workspaces[0].launcher: no launcher named "nope"`);
  });

  it('tells a plugin that is not installed in the file that lists it, and resolves its path from there', async () => {
    await write('xdg/baton/config.yaml', ['plugins: [slurmm, ./mine.ts]']);
    const projectFile = await write('project/baton.config.yaml', ['plugins: [oar]']);
    const { settings, filepath } = await loadSettings({ cwd: join(root, 'project'), env });
    expect(filepath).toBe(projectFile);
    const missing = await loadPlugins({ names: settings.plugins, baseDir: settings.baseDir, settingsFile: filepath, origins: settings.origins?.plugins }).catch((caught: unknown) => caught as Error & { where?: string });
    expect(missing).toMatchObject({ message: 'Plugin "slurmm" is not installed (did you mean "slurm"?).', where: `${userFile} (plugins[0])` });

    await write('xdg/baton/config.yaml', ['plugins: [./mine.ts]']);
    const again = await loadSettings({ cwd: join(root, 'project'), env });
    const file = await loadPlugins({ names: again.settings.plugins, baseDir: again.settings.baseDir, settingsFile: filepath, origins: again.settings.origins?.plugins }).catch((caught: unknown) => caught as Error & { where?: string; hint?: string });
    expect(file).toMatchObject({ where: `${userFile} (plugins[0])`, hint: expect.stringContaining(join(root, 'xdg', 'baton', 'mine.ts')) });
  });

  it("tells a launcher block's problem in the file that wrote it", async () => {
    const { dir, write: writeInProject } = await makePluginProject();
    try {
      await writeInProject('plugins/fake.ts', fakeLauncherPluginSource({ kind: 'fake' }));
      const user = await writeInProject('xdg/baton/config.yaml', 'workspaces: [{ id: main, path: ws, launchers: { cpu: { use: fake, partiton: x } } }]\n');
      await writeInProject('baton.config.yaml', 'plugins: [./plugins/fake.ts]\nworkspaces: [{ id: main, launchers: { gpu: { use: fake, partition: g } } }]\n');
      const { settings } = await loadSettings({ cwd: dir, env: { HOME: dir, XDG_CONFIG_HOME: join(dir, 'xdg') } });
      const plugins: Plugin[] = await loadPlugins({ names: settings.plugins, baseDir: settings.baseDir });
      const error = (() => {
        try {
          validateLauncherBlocks({ workspace: settings.workspaces[0]!, plugins, settingsFile: join(dir, 'baton.config.yaml') });
        } catch (caught) {
          return caught as ValidationError;
        }
      })();
      expect(error).toBeInstanceOf(ValidationError);
      expect(error?.where).toBe(user);
      expect(error?.issues).toContainEqual({ path: 'workspaces[0].launchers.cpu.partiton', message: expect.stringContaining('unknown key "partiton" (did you mean "partition"?)') });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
