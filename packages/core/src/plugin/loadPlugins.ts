// Loads the plugins named in the settings file: a built-in short name (`slurm`),
// an npm package, or a path relative to the settings file. Core never imports a
// plugin statically; this is the only way plugins come in.
import { realpathSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BatonError, UserInputError, didYouMean } from '../errors.ts';
import { createLogger } from '../logger.ts';
import { importDefault } from '../util/importUserModule.ts';
import { installCommand } from '../util/installHint.ts';
import type { SettingsOrigin } from '../settings/settingsLayers.ts';
import type { Plugin } from '../types.ts';
import { isPlugin } from './definePlugin.ts';
import { isPluginPath, resolvePlugin } from './resolvePlugin.ts';

/** Short names of the plugins Baton ships. */
export const BUILTIN_PLUGINS: Readonly<Record<string, string>> = {
  local: '@baton/launcher-local',
  slurm: '@baton/launcher-slurm',
  oar: '@baton/launcher-oar',
  ssh: '@baton/launcher-ssh',
  tensorboard: '@baton/service-tensorboard',
};

/**
 * The kinds each built-in plugin provides, by role: a settings file that uses one of
 * them without the plugin is told which short name to add to `plugins:`. Each plugin's
 * tests check that its kinds are listed here.
 */
export const BUILTIN_KINDS: Readonly<Record<'launcher' | 'connector' | 'service', Readonly<Record<string, string>>>> = {
  launcher: { local: 'local', threads: 'local', slurm: 'slurm', oar: 'oar', 'ssh-pool': 'ssh' },
  connector: { ssh: 'ssh' },
  service: { tensorboard: 'tensorboard' },
};

/** Plugins loaded even when not listed: `local` is the default launcher. */
const ALWAYS_LOADED = ['local'];

export interface LoadPluginsOptions {
  /** The settings file's `plugins` list. */
  names: readonly string[];
  /** Folder paths and packages resolve from: the settings file's folder. */
  baseDir: string;
  /** The settings file, named in errors. */
  settingsFile?: string;
  /** More folders to resolve packages from after baseDir, the working directory and @baton/core (e.g. the CLI's own folder). */
  resolveFrom?: readonly string[];
  /** Environment: `npm_config_user_agent` picks the install command of hints; HOME expands "~/". */
  env?: NodeJS.ProcessEnv;
  /**
   * With layered settings (Settings.origins.plugins): the file each name was listed in, and
   * its folder, which the name resolves from first and errors name.
   */
  origins?: Readonly<Record<string, SettingsOrigin>>;
  /** More plugins to load when they are installed, skipped quietly when not (e.g. every built-in one, for `baton config schema`). */
  optional?: readonly string[];
}

const logger = createLogger('baton:plugins');

/**
 * Imports each plugin once and checks it. The always-loaded `local` plugin is
 * skipped quietly when it is not installed: a workspace that uses it then fails
 * with a hint to install it.
 */
export async function loadPlugins(options: LoadPluginsOptions): Promise<Plugin[]> {
  const { names, baseDir, settingsFile, env = process.env } = options;
  const fallbackDirs = [process.cwd(), CORE_DIR, ...(options.resolveFrom ?? [])];
  const requests = [
    ...names.map((name, index) => {
      const origin = options.origins?.[name];
      return { name, keyPath: origin?.keyPath ?? `plugins[${index}]`, file: origin?.file ?? settingsFile, baseDir: origin?.baseDir ?? baseDir, optional: false };
    }),
    ...[...new Set([...ALWAYS_LOADED, ...(options.optional ?? [])])].filter((name) => !names.includes(name) && !names.includes(BUILTIN_PLUGINS[name] as string)).map((name) => ({
      name,
      keyPath: '',
      file: settingsFile,
      baseDir,
      optional: true,
    })),
  ];

  const loaded: { plugin: Plugin; name: string; entry: string }[] = [];
  for (const request of requests) {
    const where = request.file ? `${request.file}${request.keyPath ? ` (${request.keyPath})` : ''}` : request.keyPath || undefined;
    const specifier = BUILTIN_PLUGINS[request.name] ?? request.name;
    // The project's folder after the listing file's: a plugin the user's file names may be installed in the project.
    const found = await resolvePlugin({ specifier, baseDir: request.baseDir, fallbackDirs: [baseDir, ...fallbackDirs], where, env });
    if (!found.found) {
      if (request.optional) {
        logger.debug('plugin %s is not installed; skipped', request.name);
        continue;
      }
      throw notFound({ name: request.name, where, tried: found.tried, env });
    }
    // The same plugin listed twice, or linked from two places, loads once.
    const entry = realpathSync(found.entry);
    if (loaded.some((other) => other.entry === entry)) continue;
    logger.debug('loading plugin %s from %s', request.name, entry);
    let value: unknown;
    try {
      value = await importDefault({ path: entry });
    } catch (error) {
      throw new BatonError(`Plugin "${request.name}" failed to load (${entry}): ${(error as Error).message}`, {
        where,
        hint: 'Fix the error in the plugin, or remove it from `plugins:` in the settings file.',
        cause: error,
      });
    }
    if (!isPlugin(value)) {
      throw new UserInputError(`Plugin "${request.name}" (${entry}) does not export a Baton plugin as its default export.`, {
        where,
        hint: "Write `export default definePlugin({ name, launchers: {...} })` with definePlugin from '@baton/core'.",
      });
    }
    loaded.push({ plugin: value, name: request.name, entry });
  }
  checkLauncherKindsAreUnique({ loaded, where: settingsFile });
  return loaded.map(({ plugin }) => plugin);
}

/** Launcher kinds the plugins provide, e.g. `local`, `slurm`. */
export function launcherKinds(plugins: readonly Plugin[]): string[] {
  return plugins.flatMap((plugin) => Object.keys(plugin.launchers ?? {}));
}

const CORE_DIR = dirname(fileURLToPath(import.meta.url));

function notFound(options: { name: string; where: string | undefined; tried: readonly string[]; env: NodeJS.ProcessEnv }): UserInputError {
  const { name, where, tried, env } = options;
  if (isPluginPath(name)) {
    return new UserInputError(`Plugin file "${name}" does not exist.`, {
      where,
      hint: `Check the path: it is relative to the folder of the settings file (looked for ${tried[0]}).`,
    });
  }
  const looked = `looked in node_modules from ${tried.join(', ')}`;
  const packageName = BUILTIN_PLUGINS[name];
  if (packageName !== undefined) {
    return new UserInputError(`Plugin "${name}" (${packageName}) is not installed.`, {
      where,
      hint: `Install it with \`${installCommand({ packages: [packageName], env })}\` (${looked}).`,
    });
  }
  // A name close to a built-in one is a typo: the hint installs the real package, never the typo.
  const suggestion = name.includes('/') ? '' : didYouMean(name, Object.keys(BUILTIN_PLUGINS));
  const meant = /"([^"]+)"/.exec(suggestion)?.[1];
  return new UserInputError(`Plugin "${name}" is not installed${suggestion}.`, {
    where,
    hint:
      meant !== undefined
        ? `Write "${meant}" in \`plugins:\`: the built-in ${BUILTIN_PLUGINS[meant]}, installed if needed with \`${installCommand({ packages: [BUILTIN_PLUGINS[meant] as string], env })}\` (${looked}).`
        : `Install the package that provides it in the project (\`${installCommand({ packages: ['<package>'], env })}\`), use a built-in name (${Object.keys(BUILTIN_PLUGINS).join(', ')}), or give a path starting with "./" (${looked}).`,
  });
}

function checkLauncherKindsAreUnique(options: { loaded: readonly { plugin: Plugin; name: string; entry: string }[]; where: string | undefined }): void {
  const owners = new Map<string, string>();
  for (const { plugin, name } of options.loaded) {
    for (const kind of Object.keys(plugin.launchers ?? {})) {
      const owner = owners.get(kind);
      if (owner !== undefined) {
        throw new UserInputError(`Plugins "${owner}" and "${name}" both provide the launcher kind "${kind}".`, {
          where: options.where,
          hint: 'Keep only one of them in `plugins:`.',
        });
      }
      owners.set(kind, name);
    }
  }
}
