// `baton config show|schema`: the settings in force and where each part came from, and the
// JSON schema of the settings file for the plugins installed. The command line is declared
// in configCommand.ts; this module is loaded when one of them runs.
import { stat, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { BUILTIN_PLUGINS, UserInputError, loadPlugins, loadSettings, pluginKindSettings, settingsJsonSchema, userConfigDir } from '@baton/core';
import { CLI_PACKAGE_DIR } from '../workspaceOptions.ts';
import type { ConfigSchemaCommandOptions, ShowConfigCommandOptions } from './configCommand.ts';
import { describeSettings, formatConfigView } from './configView.ts';

export async function showConfigCommand(options: ShowConfigCommandOptions): Promise<void> {
  const loaded = await loadSettings({ configDir: options.configDir });
  const view = describeSettings({ loaded, userConfigDir: userConfigDir(), configDir: options.configDir });
  process.stdout.write(options.json ? `${JSON.stringify(view, null, 2)}\n` : formatConfigView(view));
}

export async function configSchemaCommand(options: ConfigSchemaCommandOptions): Promise<void> {
  const output = options.output === undefined ? undefined : resolve(options.output);
  // Told before anything is loaded: a typo in the folder should not cost a plugin import.
  if (output !== undefined && !(await stat(dirname(output)).catch(() => undefined))?.isDirectory()) {
    throw new UserInputError(`Cannot write ${output}: no folder ${dirname(output)}`, { where: '--output', hint: 'create the folder first, or give --output a path in an existing folder' });
  }
  const { settings, filepath } = await loadSettings({ configDir: options.configDir });
  // The settings' plugins must load; the built-in ones count when they are installed.
  const plugins = await loadPlugins({
    names: settings.plugins,
    baseDir: settings.baseDir,
    settingsFile: filepath,
    origins: settings.origins?.plugins,
    optional: Object.keys(BUILTIN_PLUGINS),
    resolveFrom: [CLI_PACKAGE_DIR],
  });
  const text = `${JSON.stringify(settingsJsonSchema(pluginKindSettings(plugins)), null, 2)}\n`;
  if (output === undefined) process.stdout.write(text);
  else {
    await writeFile(output, text);
    const kinds = pluginKindSettings(plugins);
    process.stdout.write(`wrote ${output} (launcher kinds: ${Object.keys(kinds.launcherKinds).join(', ') || 'none'}; connector kinds: ${Object.keys(kinds.connectorKinds).join(', ') || 'none'}; service kinds: ${['process', ...Object.keys(kinds.serviceKinds)].join(', ')})\n`);
  }
}
