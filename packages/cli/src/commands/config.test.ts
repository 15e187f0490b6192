// `baton config show|schema` through the real command (bin/baton.js, built dist/), with a
// fake HOME and XDG_CONFIG_HOME holding a user settings file, and a project file.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runBaton } from '../testing/runBaton.ts';
import type { ConfigView } from './configView.ts';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
/** A third-party plugin, given by path: the example plugin's module. */
const ECHO_PLUGIN = join(REPO, 'examples', 'plugin-echo', 'src', 'index.ts');

let root: string;
let project: string;
let userFile: string;
let projectFile: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'baton-cli-config-'));
  project = join(root, 'project');
  userFile = join(root, 'xdg', 'baton', 'config.yaml');
  projectFile = join(project, 'baton.config.yaml');
  await write(userFile, [
    'plugins: [slurm]',
    'env: { LAB: lab }',
    'workspaces:',
    '  - id: main',
    '    path: ws-user',
    '    launchers:',
    '      cpu: { use: slurm, partition: cpu }',
    '    tokens: { gpu: 2 }',
    '  - id: scratch',
    '    path: ~/scratch',
  ]);
  await write(projectFile, [
    `plugins: [${JSON.stringify(ECHO_PLUGIN)}]`,
    'workspaces:',
    '  - id: main',
    '    launcher: echo',
    '    launchers:',
    '      echo: { use: echo-local, tag: mine }',
    '    services:',
    '      web: { use: echo-http }',
    '    tokens: { gpu: 4 }',
  ]);
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function write(path: string, lines: string[]): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${lines.join('\n')}\n`);
}

function baton(args: string[], options: { cwd?: string } = {}) {
  return runBaton(args, { cwd: options.cwd ?? project, env: { HOME: join(root, 'home'), XDG_CONFIG_HOME: join(root, 'xdg') } });
}

describe('baton config show', () => {
  it('prints the files read in order, and each workspace, launcher, token and plugin with the file it came from', async () => {
    const result = await baton(['config', 'show']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines.slice(0, 3)).toEqual(['Settings files (in the order read; a later file wins):', `  1. ${userFile}  [user]`, `  2. ${projectFile}  [project]`]);
    expect(result.stdout).toMatch(new RegExp(`slurm +${escape(`${userFile} (plugins[0])`)}`));
    expect(result.stdout).toMatch(new RegExp(`${escape(ECHO_PLUGIN)} +${escape(`${projectFile} (plugins[0])`)}`));
    expect(result.stdout).toContain(`Workspace main: ${join(root, 'xdg', 'baton', 'ws-user')}`);
    expect(result.stdout).toContain('  default launcher: echo');
    expect(result.stdout).toMatch(new RegExp(`launcher +cpu +slurm +${escape(`${userFile} (workspaces[0].launchers.cpu)`)}`));
    expect(result.stdout).toMatch(new RegExp(`launcher +echo +echo-local +${escape(`${projectFile} (workspaces[0].launchers.echo)`)}`));
    expect(result.stdout).toMatch(new RegExp(`service +web +echo-http +${escape(projectFile)}`));
    // The project's total wins.
    expect(result.stdout).toMatch(new RegExp(`token +gpu +4 +${escape(`${projectFile} (workspaces[0].tokens.gpu)`)}`));
    expect(result.stdout).toContain(`Workspace scratch: ${join(root, 'home', 'scratch')}`);
  });

  it('--json gives the same for scripts', async () => {
    const result = await baton(['config', 'show', '--json']);
    expect(result.code).toBe(0);
    const view = JSON.parse(result.stdout) as ConfigView;
    expect(view.files).toEqual([
      { path: userFile, role: 'user' },
      { path: projectFile, role: 'project' },
    ]);
    expect(view.env).toEqual([{ name: 'LAB', value: 'lab', from: { file: userFile, keyPath: 'env.LAB' } }]);
    const main = view.workspaces.find((workspace) => workspace.id === 'main');
    expect(main).toMatchObject({
      launcher: 'echo',
      from: [
        { file: userFile, keyPath: 'workspaces[0]' },
        { file: projectFile, keyPath: 'workspaces[0]' },
      ],
      launchers: [
        { name: 'cpu', kind: 'slurm', from: { file: userFile, keyPath: 'workspaces[0].launchers.cpu' } },
        { name: 'echo', kind: 'echo-local', from: { file: projectFile, keyPath: 'workspaces[0].launchers.echo' } },
      ],
      tokens: [{ name: 'gpu', total: 4, from: { file: projectFile, keyPath: 'workspaces[0].tokens.gpu' } }],
    });
  });

  it('--config-dir replaces both files; without any file, the defaults are shown as such', async () => {
    const elsewhere = join(root, 'elsewhere', 'baton.config.yaml');
    await write(elsewhere, ['workspaces: [{ id: chosen, path: c }]']);
    const replaced = JSON.parse((await baton(['config', 'show', '--json', '--config-dir', dirname(elsewhere)])).stdout) as ConfigView;
    expect(replaced.files).toEqual([{ path: elsewhere, role: 'config-dir' }]);
    expect(replaced.workspaces.map((workspace) => workspace.id)).toEqual(['chosen']);

    await rm(userFile);
    await rm(projectFile);
    const none = await baton(['config', 'show']);
    expect(none.code).toBe(0);
    expect(none.stdout).toContain('Settings files: none found; the defaults apply.');
    expect(none.stdout).toMatch(/launcher +local +local +\(default\)/);
  });

  it('names the file and key path of a bad value, whichever file wrote it', async () => {
    await write(userFile, ['workspaces:', '  - id: main', '    path: ws', '    triggers: ["/(/"]']);
    const result = await baton(['config', 'show']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`Invalid settings in ${userFile}:`);
    expect(result.stderr).toContain('workspaces[0].triggers[0]: invalid regular expression');
  });
});

describe('baton config schema', () => {
  it("writes the JSON schema with the keys of the plugins installed: a third-party one's and the built-in ones'", async () => {
    const result = await baton(['config', 'schema']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const schema = JSON.parse(result.stdout) as { $defs: Record<string, { anyOf?: { properties?: Record<string, unknown> }[] }> };
    const kinds = (definition: string) => (schema.$defs[definition]?.anyOf ?? []).map((block) => block.properties?.use).filter((use) => use !== undefined);
    const echo = schema.$defs.LauncherBlock?.anyOf?.find((block) => (block.properties?.use as { const?: string } | undefined)?.const === 'echo-local');
    expect(echo?.properties).toMatchObject({ tag: { description: expect.stringContaining('launched-by') }, maxConcurrent: expect.any(Object) });
    expect(kinds('LauncherBlock')).toEqual(expect.arrayContaining([{ const: 'slurm', description: 'Launcher kind "slurm"' }, { const: 'local', description: 'Launcher kind "local"' }]));
    expect(kinds('ServiceBlock')).toEqual(expect.arrayContaining([{ const: 'echo-http', description: 'Service kind "echo-http"' }]));
  });

  it('--output writes it to a file; a folder that does not exist is a user error', async () => {
    const output = join(root, 'settings.schema.json');
    const result = await baton(['config', 'schema', '--output', output]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`wrote ${output}`);
    expect(await readFile(output, 'utf8')).toContain('"echo-local"');

    const missing = await baton(['config', 'schema', '--output', join(root, 'nowhere', 'schema.json')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`no folder ${join(root, 'nowhere')}`);
  });

  it('fails with the install hint when a plugin of the settings is not installed', async () => {
    await write(projectFile, ['plugins: [slurmm]']);
    const result = await baton(['config', 'schema']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Plugin "slurmm" is not installed (did you mean "slurm"?).');
    expect(result.stderr).toContain(`${projectFile} (plugins[0])`);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
