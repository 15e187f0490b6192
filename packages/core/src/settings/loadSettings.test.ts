import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UserInputError, ValidationError } from '../errors.ts';
import { loadSettings } from './loadSettings.ts';

let root: string;
let env: NodeJS.ProcessEnv;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'baton-settings-'));
  // Keeps the user's real ~/.config/baton and $BATON_WORKSPACE out of the tests.
  env = { HOME: join(root, 'home'), XDG_CONFIG_HOME: join(root, 'xdg') };
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function write(path: string, content: string): Promise<string> {
  const full = join(root, path);
  await mkdir(join(full, '..'), { recursive: true });
  await writeFile(full, content);
  return full;
}

describe('loadSettings', () => {
  it('loads a YAML settings file found above the project folder and resolves its paths', async () => {
    const file = await write(
      'baton.config.yaml',
      [
        'plugins: [slurm]',
        'env: { SEED: 1, NAME: run }',
        'workspaces:',
        '  - id: main',
        '    path: ./experiments',
        '    env: { NAME: main }',
        '    triggers: ["mnist-*"]',
        '    launchers:',
        '      cpu: { use: local, maxConcurrent: 4 }',
        '    tokens: { gpu: 2 }',
        '  - id: scratch',
        '    path: ~/scratch',
      ].join('\n'),
    );
    await mkdir(join(root, 'project', 'sub'), { recursive: true });

    const { settings, filepath } = await loadSettings({ cwd: join(root, 'project', 'sub'), env });

    expect(filepath).toBe(file);
    expect(settings.plugins).toEqual(['slurm']);
    expect(settings.env).toEqual({ SEED: '1', NAME: 'run' });
    const [main, scratch] = settings.workspaces;
    expect(main).toMatchObject({
      id: 'main',
      path: join(root, 'experiments'),
      env: { SEED: '1', NAME: 'main' },
      triggers: ['mnist-*'],
      launcher: 'cpu',
      launchers: { cpu: { use: 'local', maxConcurrent: 4 } },
      tokens: { gpu: 2 },
      keyPath: 'workspaces[0]',
    });
    expect(scratch?.path).toBe(join(root, 'home', 'scratch'));
    expect(scratch?.launcher).toBe('local');
  });

  it('loads a TypeScript settings file (default export, with types) on Node 20', async () => {
    await write(
      'baton.config.ts',
      [
        'interface Workspace { id: string; path: string }',
        "const main: Workspace = { id: 'ts-main', path: 'runs' };",
        'export default { workspaces: [main] };',
      ].join('\n'),
    );
    const { settings, filepath } = await loadSettings({ cwd: root, env });
    expect(filepath).toBe(join(root, 'baton.config.ts'));
    expect(settings.workspaces.map((workspace) => [workspace.id, workspace.path])).toEqual([['ts-main', join(root, 'runs')]]);
  });

  it('reads the "baton" key of package.json', async () => {
    await write('package.json', JSON.stringify({ name: 'x', baton: { workspaces: [{ id: 'pkg', path: 'w' }] } }));
    const { settings } = await loadSettings({ cwd: root, env });
    expect(settings.workspaces[0]?.id).toBe('pkg');
  });

  it('uses the defaults without any settings file: workspace "default" at ~/baton-workspace, local launcher', async () => {
    const { settings, filepath } = await loadSettings({ cwd: root, env });
    expect(filepath).toBeUndefined();
    expect(settings.workspaces).toEqual([
      { id: 'default', path: join(root, 'home', 'baton-workspace'), env: {}, triggers: [], launcher: 'local', launchers: {}, tokens: {}, services: {}, keyPath: '' },
    ]);
  });

  it('puts the default workspace at $BATON_WORKSPACE when set', async () => {
    const { settings } = await loadSettings({ cwd: root, env: { ...env, BATON_WORKSPACE: join(root, 'ws') } });
    expect(settings.workspaces[0]?.path).toBe(join(root, 'ws'));
  });

  it('reads the user config folder ($XDG_CONFIG_HOME/baton/config.yaml) without a project file', async () => {
    const file = await write('xdg/baton/config.yaml', 'workspaces: [{ id: user, path: /tmp/user-ws }]\n');
    const { settings, filepath } = await loadSettings({ cwd: root, env });
    expect(filepath).toBe(file);
    expect(settings.workspaces[0]?.id).toBe('user');
  });

  it('--config-dir searches that folder only', async () => {
    await write('baton.config.yaml', 'workspaces: [{ id: project, path: p }]\n');
    const file = await write('elsewhere/baton.config.yml', 'workspaces: [{ id: chosen, path: c }]\n');
    const { settings, filepath } = await loadSettings({ cwd: root, configDir: join(root, 'elsewhere'), env });
    expect(filepath).toBe(file);
    expect(settings.workspaces[0]).toMatchObject({ id: 'chosen', path: join(root, 'elsewhere', 'c') });
  });

  it('--config-dir without a settings file, or missing, is an error', async () => {
    await mkdir(join(root, 'empty'));
    await expect(loadSettings({ cwd: root, configDir: join(root, 'empty'), env })).rejects.toThrow(/No settings file in .*empty/);
    await expect(loadSettings({ cwd: root, configDir: join(root, 'missing'), env })).rejects.toThrow(UserInputError);
  });

  it('reports malformed YAML with the file, line and column', async () => {
    const file = await write('baton.config.yaml', 'workspaces:\n  - id: main\n    path: w: x\n');
    const error = await loadSettings({ cwd: root, env }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UserInputError);
    expect((error as UserInputError).message).toContain(`${file}:3:11: Nested mappings are not allowed`);
    expect((error as UserInputError).where).toBe(`${file}:3:11`);
  });

  it('names where a bracket or quote left open was opened, lines above where yaml gives up', async () => {
    const file = await write('baton.config.yaml', 'workspaces:\n  - id: main\n    launchers: { gpu: { use: slurm }\n    path: /tmp/w\n');
    const error = (await loadSettings({ cwd: root, env }).catch((caught: unknown) => caught)) as UserInputError;
    expect(error.message).toContain(`${file}:4:5: Flow map in block collection must be sufficiently indented and end with a } (the { opened at line 3, column 16)`);
    // The excerpt of yaml's message follows, indented.
    expect(error.message).toContain('\n        path: /tmp/w');
  });

  it('reports malformed JSON with the file, line and column', async () => {
    const file = await write('.batonrc.json', '{\n  "workspaces": [\n    { "id": "a" "path": "x" }\n  ]\n}\n');
    const error = await loadSettings({ cwd: root, env }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UserInputError);
    expect((error as UserInputError).message).toMatch(new RegExp(`^Malformed JSON in settings file ${file}:3:\\d+`));
  });

  it('collects every problem, with key paths and did-you-mean for unknown keys', async () => {
    const file = await write(
      'baton.config.yaml',
      ['plugin: [slurm]', 'workspaces:', '  - id: main', '    path: w', '    launchrs: {}', '    tokens: { gpu: 0 }', '  - id: b'].join('\n'),
    );
    const error = (await loadSettings({ cwd: root, env }).catch((caught: unknown) => caught)) as ValidationError;
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.where).toBe(file);
    expect(error.issues).toEqual(
      expect.arrayContaining([
        { path: 'plugin', message: 'unknown key "plugin" (did you mean "plugins"?)' },
        { path: 'workspaces[0].launchrs', message: 'unknown key "launchrs" (did you mean "launchers"?)' },
        expect.objectContaining({ path: 'workspaces[0].tokens.gpu' }),
        expect.objectContaining({ path: 'workspaces[1].path', message: expect.stringContaining('missing') }),
      ]),
    );
    expect(error.message).toContain('workspaces[0].launchrs: unknown key "launchrs" (did you mean "launchers"?)');
  });

  it('rejects workspaces written as a map, saying how to write the list', async () => {
    await write('baton.config.yaml', 'workspaces:\n  main:\n    path: w\n');
    await expect(loadSettings({ cwd: root, env })).rejects.toThrow(/workspaces: must be a list, not a map keyed by id.*- id: main/);
  });

  it('checks ids are unique, the default launcher exists and triggers compile', async () => {
    await write(
      'baton.config.yaml',
      [
        'workspaces:',
        '  - { id: a, path: a, launcher: gpus, launchers: { gpu: { use: slurm } }, triggers: ["/(/"] }',
        '  - { id: a, path: $BATON_UNSET_VARIABLE/x }',
      ].join('\n'),
    );
    const error = (await loadSettings({ cwd: root, env }).catch((caught: unknown) => caught)) as ValidationError;
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.issues).toHaveLength(4);
    expect(error.issues).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: 'workspaces[0].triggers[0]', message: expect.stringContaining('invalid regular expression') }),
        { path: 'workspaces[0].launcher', message: 'no launcher named "gpus" in this workspace (did you mean "gpu"?); declared: gpu' },
        expect.objectContaining({ path: 'workspaces[1].id', message: expect.stringContaining('already the id of workspaces[0]') }),
        expect.objectContaining({ path: 'workspaces[1].path', message: expect.stringContaining('BATON_UNSET_VARIABLE is not set') }),
      ]),
    );
  });
});
