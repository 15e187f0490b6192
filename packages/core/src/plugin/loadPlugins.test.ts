import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { UserInputError } from '../errors.ts';
import { fakeLauncherPluginSource, makePluginProject } from '../settings/__fixtures__/pluginProject.ts';
import { launcherKinds, loadPlugins } from './loadPlugins.ts';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const projects: string[] = [];

async function project() {
  const made = await makePluginProject();
  projects.push(made.dir);
  return made;
}

afterEach(async () => {
  await Promise.all(projects.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function failure(promise: Promise<unknown>): Promise<UserInputError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(UserInputError);
  return error as UserInputError;
}

describe('loadPlugins', () => {
  it('loads a plugin given as a path to a .ts file relative to the settings file', async () => {
    const { dir, write } = await project();
    await write('plugins/fake.ts', fakeLauncherPluginSource({ kind: 'fake' }));
    const plugins = await loadPlugins({ names: ['./plugins/fake.ts'], baseDir: dir, settingsFile: join(dir, 'baton.config.yaml') });
    expect(plugins.map((plugin) => plugin.name)).toContain('fake-fake');
    expect(launcherKinds(plugins)).toContain('fake');
  });

  it('loads an npm package from the settings folder, also when it exports under "import" only', async () => {
    const { dir, write } = await project();
    await write('node_modules/baton-plugin-acme/package.json', JSON.stringify({ name: 'baton-plugin-acme', type: 'module', exports: { '.': { import: './src/index.ts' } } }));
    await write('node_modules/baton-plugin-acme/src/index.ts', fakeLauncherPluginSource({ kind: 'acme' }));
    const plugins = await loadPlugins({ names: ['baton-plugin-acme'], baseDir: dir });
    expect(launcherKinds(plugins)).toContain('acme');
  });

  it('always loads the local plugin (@baton/launcher-local) even when not listed', async () => {
    const { dir, write } = await project();
    await write('node_modules/@baton/launcher-local/package.json', JSON.stringify({ name: '@baton/launcher-local', type: 'module', exports: { '.': './src/index.ts' } }));
    await write('node_modules/@baton/launcher-local/src/index.ts', fakeLauncherPluginSource({ kind: 'local', pluginName: 'local' }));
    const plugins = await loadPlugins({ names: [], baseDir: dir });
    expect(plugins.map((plugin) => plugin.name)).toEqual(['local']);
  });

  it('finds the real @baton/launcher-local through resolveFrom (the CLI folder)', async () => {
    const { dir } = await project();
    const plugins = await loadPlugins({ names: [], baseDir: dir, resolveFrom: [join(REPO, 'packages', 'cli')] });
    expect(launcherKinds(plugins)).toEqual(['local', 'threads']);
  });

  it('names the plugin, the settings file and the install command when a plugin is not installed', async () => {
    const { dir } = await project();
    const settingsFile = join(dir, 'baton.config.yaml');
    const env = { npm_config_user_agent: 'pnpm/10.34.8 npm/? node/v20.19.0 linux x64' };
    // A typo of a built-in name: the hint names the real package, never the typo.
    const typo = await failure(loadPlugins({ names: ['slurmm'], baseDir: dir, settingsFile, env }));
    expect(typo.message).toBe('Plugin "slurmm" is not installed (did you mean "slurm"?).');
    expect(typo.where).toBe(`${settingsFile} (plugins[0])`);
    expect(typo.hint).toContain('Write "slurm" in `plugins:`: the built-in @baton/launcher-slurm, installed if needed with `pnpm add @baton/launcher-slurm`');
    expect(typo.hint).not.toContain('add slurmm');

    // A name Baton does not know: no package name is made up.
    const other = await failure(loadPlugins({ names: ['baton-plugin-nowhere'], baseDir: dir, settingsFile, env: {} }));
    expect(other.message).toBe('Plugin "baton-plugin-nowhere" is not installed.');
    expect(other.hint).toContain('`npm install <package>`');
    expect(other.hint).toContain(`looked in node_modules from ${dir}`);

    // A built-in short name whose package this repository's root does not install (its folder is
    // searched too, as the working directory): the TensorBoard service, in the user's package manager.
    const builtIn = await failure(loadPlugins({ names: ['tensorboard'], baseDir: dir, settingsFile, env: { npm_config_user_agent: 'yarn/1.22.22 npm/? node/v20.19.0' } }));
    expect(builtIn.message).toBe('Plugin "tensorboard" (@baton/service-tensorboard) is not installed.');
    expect(builtIn.hint).toContain('Install it with `yarn add @baton/service-tensorboard`');
  });

  it('resolves a package as Node does: from a parent folder\'s node_modules, by its "import" export', async () => {
    const { write } = await project();
    // The settings file sits two folders below the node_modules that holds the plugin.
    await write('node_modules/@lab/baton-gpu/package.json', JSON.stringify({ name: '@lab/baton-gpu', type: 'module', exports: { '.': { require: './nope.cjs', import: './lib/plugin.ts' } } }));
    await write('node_modules/@lab/baton-gpu/lib/plugin.ts', fakeLauncherPluginSource({ kind: 'gpu' }));
    const settingsFile = await write('lab/project/baton.config.yaml', 'plugins: ["@lab/baton-gpu"]\n');
    const plugins = await loadPlugins({ names: ['@lab/baton-gpu'], baseDir: dirname(settingsFile), settingsFile });
    expect(launcherKinds(plugins)).toContain('gpu');
  });

  it('loads a plugin package given as the path of its folder, by its own "." export', async () => {
    const { dir, write } = await project();
    await write('vendor/gpu-plugin/package.json', JSON.stringify({ name: 'baton-plugin-gpu', type: 'module', exports: { '.': { import: './lib/index.ts' } } }));
    await write('vendor/gpu-plugin/lib/index.ts', fakeLauncherPluginSource({ kind: 'gpu' }));
    const plugins = await loadPlugins({ names: ['./vendor/gpu-plugin'], baseDir: dir });
    expect(launcherKinds(plugins)).toContain('gpu');

    await write('vendor/nameless/index.ts', fakeLauncherPluginSource({ kind: 'other' }));
    const nameless = await failure(loadPlugins({ names: ['./vendor/nameless'], baseDir: dir }));
    expect(nameless.message).toBe('Plugin "./vendor/nameless" is a folder without a package.json that names its package.');
  });

  it('loads the plugins asked for as optional when installed, and skips the others quietly', async () => {
    const { dir, write } = await project();
    await write('node_modules/@baton/launcher-oar/package.json', JSON.stringify({ name: '@baton/launcher-oar', type: 'module', exports: './index.ts' }));
    await write('node_modules/@baton/launcher-oar/index.ts', fakeLauncherPluginSource({ kind: 'oar', pluginName: 'oar' }));
    const plugins = await loadPlugins({ names: [], baseDir: dir, optional: ['oar', 'tensorboard'] });
    expect(plugins.map((plugin) => plugin.name)).toContain('oar');
    expect(plugins.map((plugin) => plugin.name)).not.toContain('tensorboard');
  });

  it('says what is wrong with an installed package that Node cannot import', async () => {
    const { dir, write } = await project();
    await write('node_modules/baton-plugin-cjs/package.json', JSON.stringify({ name: 'baton-plugin-cjs', exports: { './sub': './sub.js' } }));
    const noRoot = await failure(loadPlugins({ names: ['baton-plugin-cjs'], baseDir: dir }));
    expect(noRoot.message).toContain('Plugin "baton-plugin-cjs" cannot be imported');
    expect(noRoot.hint).toContain('"exports" must have an import entry for "."');

    await write('node_modules/baton-plugin-unbuilt/package.json', JSON.stringify({ name: 'baton-plugin-unbuilt', type: 'module', exports: { '.': { import: './dist/index.js' } } }));
    const unbuilt = await failure(loadPlugins({ names: ['baton-plugin-unbuilt'], baseDir: dir }));
    expect(unbuilt.message).toContain('Plugin "baton-plugin-unbuilt" is installed but its entry file is missing');
    expect(unbuilt.message).toContain(join(dir, 'node_modules', 'baton-plugin-unbuilt', 'dist', 'index.js'));
  });

  it('reports a missing plugin file with a hint about relative paths', async () => {
    const { dir } = await project();
    const error = await failure(loadPlugins({ names: ['./nope.ts'], baseDir: dir, settingsFile: join(dir, 'baton.config.yaml') }));
    expect(error.message).toContain('"./nope.ts" does not exist');
    expect(error.hint).toContain('relative to the folder of the settings file');
  });

  it('rejects a module whose default export is not a plugin, pointing at definePlugin', async () => {
    const { dir, write } = await project();
    await write('not-a-plugin.ts', "export default { name: 'nope', launchers: {} };\n");
    const error = await failure(loadPlugins({ names: ['./not-a-plugin.ts'], baseDir: dir }));
    expect(error.message).toContain('does not export a Baton plugin');
    expect(error.hint).toContain('export default definePlugin(');
  });

  it('rejects two plugins that provide the same launcher kind', async () => {
    const { dir, write } = await project();
    await write('a.ts', fakeLauncherPluginSource({ kind: 'gpu', pluginName: 'a' }));
    await write('b.ts', fakeLauncherPluginSource({ kind: 'gpu', pluginName: 'b' }));
    const error = await failure(loadPlugins({ names: ['./a.ts', './b.ts'], baseDir: dir }));
    expect(error.message).toBe('Plugins "./a.ts" and "./b.ts" both provide the launcher kind "gpu".');
  });

  it('loads a plugin listed twice once', async () => {
    const { dir, write } = await project();
    await write('a.ts', fakeLauncherPluginSource({ kind: 'gpu' }));
    const plugins = await loadPlugins({ names: ['./a.ts', './sub/../a.ts'], baseDir: dir });
    expect(launcherKinds(plugins).filter((kind) => kind !== 'local' && kind !== 'threads')).toEqual(['gpu']);
  });
});
