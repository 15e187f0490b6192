// Loads the plugins named in the settings file: a built-in short name (`slurm`),
// an npm package, or a path relative to the settings file. Core never imports a
// plugin statically; this is the only way plugins come in.
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BatonError, UserInputError, didYouMean } from '../errors.ts';
import { createLogger } from '../logger.ts';
import { importDefault } from '../util/importUserModule.ts';
import type { Plugin } from '../types.ts';
import { isPlugin } from './definePlugin.ts';

/** Short names of the plugins Baton ships. */
export const BUILTIN_PLUGINS: Readonly<Record<string, string>> = {
  local: '@baton/launcher-local',
  slurm: '@baton/launcher-slurm',
  oar: '@baton/launcher-oar',
  ssh: '@baton/launcher-ssh',
  tensorboard: '@baton/service-tensorboard',
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
}

const logger = createLogger('baton:plugins');

/**
 * Imports each plugin once and checks it. The always-loaded `local` plugin is
 * skipped quietly when it is not installed: a workspace that uses it then fails
 * with a hint to install it.
 */
export async function loadPlugins(options: LoadPluginsOptions): Promise<Plugin[]> {
  const { names, baseDir, settingsFile } = options;
  const searchDirs = [...new Set([baseDir, process.cwd(), CORE_DIR, ...(options.resolveFrom ?? [])].map((dir) => resolve(dir)))];
  const requests = [
    ...names.map((name, index) => ({ name, keyPath: `plugins[${index}]`, optional: false })),
    ...ALWAYS_LOADED.filter((name) => !names.includes(name) && !names.includes(BUILTIN_PLUGINS[name] as string)).map((name) => ({
      name,
      keyPath: '',
      optional: true,
    })),
  ];

  const loaded: { plugin: Plugin; name: string; entry: string }[] = [];
  for (const request of requests) {
    const where = settingsFile ? `${settingsFile}${request.keyPath ? ` (${request.keyPath})` : ''}` : request.keyPath || undefined;
    const found = findPluginEntry({ name: request.name, baseDir, searchDirs });
    if (!found) {
      if (request.optional) {
        logger.debug('plugin %s is not installed; skipped', request.name);
        continue;
      }
      throw notFound({ name: request.name, where, searchDirs });
    }
    // The same plugin listed twice, or linked from two places, loads once.
    const entry = realpathSync(found);
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

function isPath(name: string): boolean {
  return name.startsWith('.') || name.startsWith('/') || name.startsWith('~');
}

/** The file to import for a plugin name, or undefined when it is not there. */
function findPluginEntry(options: { name: string; baseDir: string; searchDirs: readonly string[] }): string | undefined {
  const { name, baseDir, searchDirs } = options;
  if (isPath(name)) {
    const path = name.startsWith('~') ? join(process.env.HOME ?? '', name.slice(1)) : resolve(baseDir, name);
    return existsSync(path) ? path : undefined;
  }
  const packageName = BUILTIN_PLUGINS[name] ?? name;
  for (const dir of searchDirs) {
    const packageDir = findPackageDir({ packageName, from: dir });
    if (packageDir) return packageEntry({ packageDir });
  }
  return undefined;
}

// Node's lookup: <dir>/node_modules/<name>, then the same in each parent folder.
function findPackageDir(options: { packageName: string; from: string }): string | undefined {
  for (let dir = options.from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', options.packageName);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

// Reads `exports["."]` with the conditions an ESM import uses; require.resolve would
// miss packages that only export under "import".
function packageEntry(options: { packageDir: string }): string {
  const { packageDir } = options;
  const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as {
    exports?: unknown;
    module?: string;
    main?: string;
  };
  const root = isExportsMap(manifest.exports) ? manifest.exports['.'] : manifest.exports;
  const target = pickCondition(root) ?? manifest.module ?? manifest.main ?? 'index.js';
  return resolve(packageDir, target);
}

function isExportsMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).some((key) => key.startsWith('.'));
}

function pickCondition(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(pickCondition).find((target) => target !== undefined);
  if (typeof value !== 'object' || value === null) return undefined;
  for (const [condition, target] of Object.entries(value)) {
    if (['import', 'node', 'default'].includes(condition)) {
      const picked = pickCondition(target);
      if (picked !== undefined) return picked;
    }
  }
  return undefined;
}

function notFound(options: { name: string; where: string | undefined; searchDirs: readonly string[] }): UserInputError {
  const { name, where, searchDirs } = options;
  if (isPath(name)) {
    return new UserInputError(`Plugin file "${name}" does not exist.`, {
      where,
      hint: 'Check the path: it is relative to the folder of the settings file.',
    });
  }
  const packageName = BUILTIN_PLUGINS[name] ?? name;
  const builtIn = name in BUILTIN_PLUGINS;
  const suggestion = builtIn || name.includes('/') ? '' : didYouMean(name, Object.keys(BUILTIN_PLUGINS));
  return new UserInputError(`Plugin "${name}"${builtIn ? ` (${packageName})` : ''} is not installed${suggestion}.`, {
    where,
    hint: builtIn
      ? `Install it with \`pnpm add ${packageName}\` (looked in node_modules from ${searchDirs.join(', ')}).`
      : `Install it with \`pnpm add ${packageName}\` (looked in node_modules from ${searchDirs.join(', ')}), use a built-in name (${Object.keys(BUILTIN_PLUGINS).join(', ')}), or give a path starting with "./".`,
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
