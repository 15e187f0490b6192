#!/usr/bin/env node
// Writes packages/core/settings.schema.json (published as @baton/core/settings.schema.json):
// the settings schema of @baton/core plus the settings of the built-in plugins' launchers,
// connectors and services found under plugins/. (`baton config schema` writes the same for
// the plugins a project has installed, third-party ones included.) With --check, compares instead and fails when the committed file is
// out of date.
//   node scripts/generate-settings-schema.mjs [--check]
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const target = join(root, 'packages', 'core', 'settings.schema.json');
const check = process.argv.includes('--check');

// tsx is a dependency of @baton/core, not of the repository root.
const requireFromCore = createRequire(join(root, 'packages', 'core', 'package.json'));
const { tsImport } = await import(pathToFileURL(requireFromCore.resolve('tsx/esm/api')).href);
const importTs = (path) => tsImport(pathToFileURL(path).href, import.meta.url);

const { settingsJsonSchema, pluginKindSettings } = await importTs(join(root, 'packages', 'core', 'src', 'settings', 'settingsJsonSchema.ts'));
const { BUILTIN_PLUGINS } = await importTs(join(root, 'packages', 'core', 'src', 'plugin', 'loadPlugins.ts'));

const plugins = [];
const builtInPackages = new Set(Object.values(BUILTIN_PLUGINS));
for (const folder of (await readdir(join(root, 'plugins'), { withFileTypes: true }).catch(() => [])).sort((a, b) => a.name.localeCompare(b.name))) {
  if (!folder.isDirectory()) continue;
  const dir = join(root, 'plugins', folder.name);
  const manifest = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8').catch(() => '{}'));
  if (!builtInPackages.has(manifest.name)) continue;
  const entry = typeof manifest.exports === 'string' ? manifest.exports : (manifest.exports?.['.']?.import ?? manifest.exports?.['.']?.default ?? manifest.exports?.['.']);
  let plugin;
  try {
    plugin = (await importTs(join(dir, entry ?? 'src/index.ts'))).default;
  } catch (error) {
    console.warn(`skipped ${manifest.name}: ${error.message.split('\n')[0]}`);
    continue;
  }
  if (plugin) plugins.push(plugin);
}
// The same kinds, with the same schemas, as `baton config schema` writes for these plugins.
const { launcherKinds, connectorKinds, serviceKinds } = pluginKindSettings(plugins);

const text = `${JSON.stringify(settingsJsonSchema({ launcherKinds, connectorKinds, serviceKinds }), null, 2)}\n`;
if (check) {
  const committed = await readFile(target, 'utf8').catch(() => '');
  if (committed !== text) {
    console.error(`${target} is out of date with the settings schema: run node scripts/generate-settings-schema.mjs`);
    process.exit(1);
  }
  console.log(`${target} is up to date (launcher kinds: ${Object.keys(launcherKinds).join(', ') || 'none'}; connector kinds: ${Object.keys(connectorKinds).join(', ') || 'none'}; service kinds: ${['process', ...Object.keys(serviceKinds)].join(', ')})`);
} else {
  await writeFile(target, text);
  console.log(`wrote ${target} (launcher kinds: ${Object.keys(launcherKinds).join(', ') || 'none'}; connector kinds: ${Object.keys(connectorKinds).join(', ') || 'none'}; service kinds: ${['process', ...Object.keys(serviceKinds)].join(', ')})`);
}
