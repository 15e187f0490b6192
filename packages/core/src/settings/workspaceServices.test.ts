import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { UserInputError, ValidationError } from '../errors.ts';
import { loadPlugins } from '../plugin/loadPlugins.ts';
import { ProcessWebService } from '../service/processWebService.ts';
import { openWorkspace } from '../workspace/openWorkspace.ts';
import { makePluginProject } from './__fixtures__/pluginProject.ts';
import { loadSettings } from './loadSettings.ts';
import { createWorkspaceServices, serviceKinds, validateServiceBlocks } from './workspaceServices.ts';

const projects: string[] = [];

afterEach(async () => {
  await Promise.all(projects.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

/** A plugin with one service kind, `board`, whose settings need a `logdir`; the service records what it was given. */
const BOARD_PLUGIN = `
import { definePlugin, WebService } from '@baton/core';
import { z } from 'zod';

const settings = z.object({ logdir: z.string(), reload: z.number().default(5) });

class Board extends WebService {
  constructor(readonly given: unknown) { super({ id: (given as { name: string }).name }); }
  protected async doStart() { return { url: 'http://127.0.0.1:1/' }; }
  protected async doStop() {}
}

export default definePlugin({
  name: 'board',
  services: {
    board: { settings, create: (options: z.output<typeof settings>, context) => new Board({ ...options, name: context.name, baseDir: context.baseDir }) },
  },
});
`;

async function projectWith(settingsYaml: string) {
  const { dir, write } = await makePluginProject();
  projects.push(dir);
  await write('plugins/board.ts', BOARD_PLUGIN);
  const settingsFile = await write('baton.config.yaml', settingsYaml);
  const { settings } = await loadSettings({ cwd: dir, env: { HOME: dir, XDG_CONFIG_HOME: join(dir, 'xdg') } });
  const plugins = await loadPlugins({ names: settings.plugins, baseDir: settings.baseDir, settingsFile });
  return { dir, settings, settingsFile, plugins, workspace: settings.workspaces[0]! };
}

describe('workspace services', () => {
  it('has the built-in `process` kind besides the kinds plugins provide', async () => {
    const { plugins } = await projectWith('plugins: [./plugins/board.ts]\n');
    expect(serviceKinds(plugins).sort()).toEqual(['board', 'process']);
  });

  it('creates a declared service by name, with its validated settings, its name as id and the settings folder', async () => {
    const { dir, workspace, plugins, settingsFile } = await projectWith(
      [
        'plugins: [./plugins/board.ts]',
        'workspaces:',
        '  - id: main',
        '    path: ws',
        '    services:',
        '      tb: { use: board, logdir: runs }',
        '      docs: { use: process, command: [python3, -m, http.server, "{port}"], cwd: site, path: /docs/ }',
      ].join('\n'),
    );
    const services = createWorkspaceServices({ workspace, plugins, settingsFile, baseDir: dir });
    expect(services.names).toEqual(['tb', 'docs']);
    const tb = await services.create('tb');
    expect(tb).toMatchObject({ id: 'tb', state: 'stopped', given: { name: 'tb', logdir: 'runs', reload: 5, baseDir: dir } });
    const docs = await services.create('docs');
    expect(docs).toBeInstanceOf(ProcessWebService);
    expect(docs).toMatchObject({ id: 'docs', description: 'python3 -m http.server {port}', keep: false });
  });

  it('reports every bad block at once: unknown kinds and keys with a did-you-mean, a command without {port}', async () => {
    const { workspace, plugins, settingsFile } = await projectWith(
      [
        'plugins: [./plugins/board.ts]',
        'workspaces:',
        '  - id: main',
        '    path: ws',
        '    services:',
        '      a: { use: bord, logdir: x }',
        '      b: { use: board, logdri: x }',
        '      c: { use: process, commnd: [x] }',
        '      d: { use: process, command: [python3, -m, http.server] }',
        '      e: { use: process, command: [x, "{port}"], keep: yes-please }',
      ].join('\n'),
    );
    const error = (() => {
      try {
        validateServiceBlocks({ workspace, plugins, settingsFile });
      } catch (caught) {
        return caught;
      }
    })() as ValidationError;
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.where).toBe(settingsFile);
    expect(error.issues).toEqual([
      { path: 'workspaces[0].services.a.use', message: 'unknown service kind "bord" (did you mean "board"?); loaded kinds: process, board. Add the plugin that provides it to `plugins:` if it is not a typo' },
      { path: 'workspaces[0].services.b.logdir', message: 'missing (expected string)' },
      { path: 'workspaces[0].services.b.logdri', message: 'unknown key "logdri" (did you mean "logdir"?)' },
      { path: 'workspaces[0].services.c.command', message: 'missing (expected array)' },
      { path: 'workspaces[0].services.c.commnd', message: 'unknown key "commnd" (did you mean "command"?)' },
      {
        path: 'workspaces[0].services.d.command',
        message: 'must say where the port goes: put "{port}" in an argument (e.g. [python3, -m, http.server, "{port}"]) or in an `env` value',
      },
      { path: 'workspaces[0].services.e.keep', message: 'Invalid input: expected boolean, received string' },
    ]);
  });

  it('names the built-in plugin to add when its kind is used without it', async () => {
    const { workspace, plugins, settingsFile } = await projectWith('workspaces: [{ id: main, path: ws, services: { tb: { use: tensorboard } } }]\n');
    expect(() => validateServiceBlocks({ workspace, plugins, settingsFile })).toThrow(
      'workspaces[0].services.tb.use: service kind "tensorboard" comes with the built-in plugin @baton/service-tensorboard, which is not loaded: add tensorboard to `plugins:` (loaded kinds: process)',
    );
  });

  it('refuses a service name that cannot be part of a URL', async () => {
    await expect(projectWith('workspaces: [{ id: main, path: ws, services: { "my board": { use: process, command: [x, "{port}"] } } }]\n')).rejects.toThrow(
      /workspaces\[0\]\.services\["my board"\]: invalid name: must be letters, digits/,
    );
  });

  it('says which services exist when an unknown one is asked for', async () => {
    const { dir, workspace, plugins, settingsFile } = await projectWith('workspaces: [{ id: main, path: ws, services: { board: { use: process, command: [x, "{port}"] } } }]\n');
    const services = createWorkspaceServices({ workspace, plugins, settingsFile, baseDir: dir });
    const error = await services.create('bord').catch((caught: unknown) => caught as UserInputError);
    expect(error).toBeInstanceOf(UserInputError);
    expect((error as UserInputError).message).toBe('No service named "bord" in workspace "main" (did you mean "board"?); declared: board');
    expect((error as UserInputError).hint).toContain('services:');
  });

  it('is checked when the workspace opens, before anything runs', async () => {
    const { dir } = await projectWith('workspaces: [{ id: main, path: ws, services: { tb: { use: process, command: [x] } } }]\n');
    await expect(openWorkspace({ cwd: dir })).rejects.toThrow(/Invalid service settings in .*baton\.config\.yaml:\n {2}- workspaces\[0\]\.services\.tb\.command: must say where the port goes/);
  });
});
