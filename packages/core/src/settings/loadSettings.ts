// Finds and loads the settings: the user's file (in $XDG_CONFIG_HOME/baton or
// ~/.config/baton) and the project's (from the project folder upward), both read and
// merged, the project's winning (settingsLayers.ts); --config-dir replaces both. No
// settings file at all is fine: the defaults apply.
import { stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { Loaders } from 'cosmiconfig';
import { lazyModule } from '../util/lazyModule.ts';
import { UserInputError, isBatonError } from '../errors.ts';
import { createLogger } from '../logger.ts';
import { loadDataSettings, loadScriptSettings } from './settingsLoaders.ts';
import { validateLayeredSettings, type Settings } from './validateSettings.ts';

// Searched for only when settings are read (a job process never reads them).
const cosmiconfig = lazyModule<typeof import('cosmiconfig')>('cosmiconfig', { vendored: true });

const MODULE_NAME = 'baton';
const SCRIPT_EXTENSIONS = ['ts', 'mts', 'cts', 'js', 'mjs', 'cjs'];

/** File names looked for in each folder, first found wins. */
export const SETTINGS_FILE_NAMES: readonly string[] = [
  'package.json',
  ...['yaml', 'yml', 'json', ...SCRIPT_EXTENSIONS].map((extension) => `${MODULE_NAME}.config.${extension}`),
  `.${MODULE_NAME}rc`,
  ...['yaml', 'yml', 'json', ...SCRIPT_EXTENSIONS].map((extension) => `.${MODULE_NAME}rc.${extension}`),
  ...['', ...['.yaml', '.yml', '.json', ...SCRIPT_EXTENSIONS.map((extension) => `.${extension}`)]].map((suffix) => `.config/${MODULE_NAME}rc${suffix}`),
];

/** Also accepted in the user's config folder and in --config-dir (e.g. ~/.config/baton/config.yaml). */
const CONFIG_DIR_FILE_NAMES: readonly string[] = [
  ...['yaml', 'yml', 'json', ...SCRIPT_EXTENSIONS].map((extension) => `config.${extension}`),
  ...SETTINGS_FILE_NAMES.filter((name) => name !== 'package.json'),
];

export interface LoadSettingsOptions {
  /** Project folder the search starts from (default: the working directory). */
  cwd?: string;
  /** --config-dir: look for the settings file there only. */
  configDir?: string;
  /** Environment ($XDG_CONFIG_HOME, $HOME, $BATON_WORKSPACE, $VARS in paths); default process.env. */
  env?: NodeJS.ProcessEnv;
}

export interface LoadedSettings {
  settings: Settings;
  /** The settings file that wins (the project's, else the user's), or undefined when none was found and defaults apply. */
  filepath: string | undefined;
  /** Every settings file read, in the order they were merged: the user's, then the project's. */
  filepaths: string[];
}

const logger = createLogger('baton:settings');

export async function loadSettings(options: LoadSettingsOptions = {}): Promise<LoadedSettings> {
  const { env = process.env } = options;
  const cwd = resolve(options.cwd ?? process.cwd());
  const found = options.configDir === undefined ? await searchDefaultPlaces({ cwd, env }) : [await searchConfigDir({ configDir: resolve(cwd, options.configDir) })];
  if (found.length === 0) logger.debug('no settings file found from %s; using the defaults', cwd);
  else logger.debug('settings files: %s', found.map((file) => file.filepath).join(', '));
  const settings = validateLayeredSettings({
    layers: found.map(({ filepath, config }) => ({ raw: config, filepath, baseDir: dirname(filepath) })),
    cwd,
    env,
  });
  return { settings, filepath: found.at(-1)?.filepath, filepaths: found.map((file) => file.filepath) };
}

/** The user's config folder: `$XDG_CONFIG_HOME/baton`, else `~/.config/baton`. */
export function userConfigDir(options: { env?: NodeJS.ProcessEnv } = {}): string {
  const { env = process.env } = options;
  return env.XDG_CONFIG_HOME ? join(env.XDG_CONFIG_HOME, MODULE_NAME) : join(env.HOME || homedir(), '.config', MODULE_NAME);
}

interface FoundSettings {
  filepath: string;
  config: unknown;
}

/** The user's file, then the project's (the nearest from `cwd` upward); the same file once. */
async function searchDefaultPlaces(options: { cwd: string; env: NodeJS.ProcessEnv }): Promise<FoundSettings[]> {
  const user = await searchFolder({ dir: userConfigDir({ env: options.env }), names: CONFIG_DIR_FILE_NAMES });
  let project: FoundSettings | undefined;
  for (let dir = options.cwd; ; dir = dirname(dir)) {
    project = await searchFolder({ dir, names: SETTINGS_FILE_NAMES });
    if (project || dirname(dir) === dir) break;
  }
  return [user, project].filter((found, index, all): found is FoundSettings => found !== undefined && all.findIndex((other) => other?.filepath === found.filepath) === index);
}

async function searchConfigDir(options: { configDir: string }): Promise<FoundSettings> {
  const { configDir } = options;
  const isDirectory = await stat(configDir).then(
    (stats) => stats.isDirectory(),
    () => false,
  );
  if (!isDirectory) {
    throw new UserInputError(`The settings folder ${configDir} does not exist or is not a folder.`, {
      where: '--config-dir',
      hint: 'Pass an existing folder that holds baton.config.yaml (or config.yaml), or leave --config-dir out to search from the project folder.',
    });
  }
  const found = await searchFolder({ dir: configDir, names: CONFIG_DIR_FILE_NAMES });
  if (!found) {
    throw new UserInputError(`No settings file in ${configDir}.`, {
      where: '--config-dir',
      hint: `Create ${join(configDir, 'baton.config.yaml')} (also accepted: config.yaml, .batonrc, baton.config.ts...).`,
    });
  }
  return found;
}

async function searchFolder(options: { dir: string; names: readonly string[] }): Promise<FoundSettings | undefined> {
  try {
    const result = await explorerFor(options.names).search(options.dir);
    return result ? { filepath: result.filepath, config: result.config } : undefined;
  } catch (error) {
    if (isBatonError(error)) throw error;
    const filepath = (error as { filepath?: string }).filepath ?? options.dir;
    throw new UserInputError(`Cannot read the settings file ${filepath}: ${(error as Error).message}`, {
      where: filepath,
      hint: 'Fix the syntax error above, or move the file away to use the defaults.',
      cause: error,
    });
  }
}

/**
 * One explorer per list of names, searching only the folder it is given: a search from
 * the project folder upward looks at several folders, and each new explorer looks for
 * cosmiconfig's own meta configuration in the working directory again.
 */
const explorers = new Map<readonly string[], ReturnType<typeof import('cosmiconfig').cosmiconfig>>();

function explorerFor(names: readonly string[]): ReturnType<typeof import('cosmiconfig').cosmiconfig> {
  let explorer = explorers.get(names);
  if (!explorer) {
    explorer = cosmiconfig().cosmiconfig(MODULE_NAME, {
      searchPlaces: [...names],
      searchStrategy: 'none',
      loaders: settingsLoaders(),
      ignoreEmptySearchPlaces: false,
      // Read again at every search: a long-lived process (tests, the monitor) sees edits.
      cache: false,
    });
    explorers.set(names, explorer);
  }
  return explorer;
}

function settingsLoaders(): Loaders {
  const loaders: Loaders = { '.yaml': loadDataSettings, '.yml': loadDataSettings, '.json': loadDataSettings, noExt: loadDataSettings };
  for (const extension of SCRIPT_EXTENSIONS) loaders[`.${extension}`] = loadScriptSettings;
  return loaders;
}
