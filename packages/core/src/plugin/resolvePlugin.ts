// Where a plugin named in the settings lives: a path relative to the settings file, or a
// package resolved the way Node resolves `import 'name'` (node_modules of the folder and
// its parents, `exports` with the conditions of an ESM import, then `main`), from the
// settings file's folder first and then from fallback folders (the CLI's own, for the
// plugins installed with it). Node 20's import.meta.resolve takes no parent folder, so
// its ponyfill, import-meta-resolve, does the resolving (vendored as CommonJS, so that its
// compiled code is cached between runs, and required at the first resolution: a process
// that imports @baton/core and loads no plugin never loads it).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { UserInputError } from '../errors.ts';
import { lazyModule } from '../util/lazyModule.ts';

type ModuleResolve = typeof import('import-meta-resolve').moduleResolve;
const importMetaResolve = lazyModule<typeof import('import-meta-resolve')>('import-meta-resolve', { vendored: true });

/** What resolving one plugin name found. */
export type PluginResolution =
  | { found: true; entry: string }
  /** Nowhere: `tried` are the folders searched (packages), or the file looked for (paths). */
  | { found: false; tried: readonly string[] };

export interface ResolvePluginOptions {
  /** A path ("./plugins/gpu.ts", "/abs", "~/x.ts") or a package name ("baton-plugin-acme", "@lab/baton-gpu"). */
  specifier: string;
  /** The settings file's folder: paths resolve from it, packages are looked for from it first. */
  baseDir: string;
  /** More folders packages are looked for from, in order, when not found from baseDir. */
  fallbackDirs?: readonly string[];
  /** Names the settings entry in errors. */
  where?: string;
  env?: NodeJS.ProcessEnv;
}

export function isPluginPath(name: string): boolean {
  return name.startsWith('.') || name.startsWith('/') || name.startsWith('~');
}

export async function resolvePlugin(options: ResolvePluginOptions): Promise<PluginResolution> {
  const { specifier, baseDir, fallbackDirs = [], where, env = process.env } = options;
  const moduleResolve: ModuleResolve = importMetaResolve().moduleResolve;
  if (isPluginPath(specifier)) {
    const path = specifier.startsWith('~') ? join(env.HOME ?? '', specifier.slice(1)) : resolve(baseDir, specifier);
    if (!existsSync(path)) return { found: false, tried: [path] };
    // A plugin package's folder (a checkout): its own "." export, as the package would import itself.
    if (statSync(path).isDirectory()) return { found: true, entry: packageFolderEntry({ dir: path, specifier, where, moduleResolve }) };
    return { found: true, entry: path };
  }
  const dirs = [...new Set([baseDir, ...fallbackDirs].map((dir) => resolve(dir)))];
  const conditions = importConditions();
  let missingEntry: Error | undefined;
  for (const dir of dirs) {
    // The parent need not exist: the resolver looks at its folder and the folders above.
    const parent = pathToFileURL(join(dir, 'baton.config.js'));
    try {
      return { found: true, entry: fileURLToPath(moduleResolve(specifier, parent, conditions)) };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // Not under this folder; or a package whose entry file is missing (not built): maybe a
      // usable copy further on. Any other refusal (no "." export, a broken package.json) is the package's.
      if (code === 'ERR_MODULE_NOT_FOUND') {
        if (!(error as Error).message.startsWith('Cannot find package')) missingEntry ??= error as Error;
        continue;
      }
      throw new UserInputError(`Plugin "${specifier}" cannot be imported: ${(error as Error).message}`, {
        where,
        hint: 'The package is installed but Node cannot import it: check its package.json ("exports" must have an import entry for ".").',
        cause: error,
      });
    }
  }
  if (missingEntry) {
    throw new UserInputError(`Plugin "${specifier}" is installed but its entry file is missing: ${missingEntry.message}`, {
      where,
      hint: 'Reinstall the package (a package of a workspace: build it first).',
      cause: missingEntry,
    });
  }
  return { found: false, tried: dirs };
}

function packageFolderEntry(options: { dir: string; specifier: string; where: string | undefined; moduleResolve: ModuleResolve }): string {
  const { dir, specifier, where, moduleResolve } = options;
  const manifest = join(dir, 'package.json');
  let name: unknown;
  try {
    name = (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name;
  } catch {
    name = undefined;
  }
  if (typeof name !== 'string') {
    throw new UserInputError(`Plugin "${specifier}" is a folder without a package.json that names its package.`, {
      where,
      hint: 'Give the path of the plugin\'s module file (e.g. ./plugins/gpu.ts), or of a package folder whose package.json has "name" and "exports".',
    });
  }
  try {
    return fileURLToPath(moduleResolve(name, pathToFileURL(manifest), importConditions()));
  } catch (error) {
    throw new UserInputError(`Plugin "${specifier}" (package ${name}) cannot be imported: ${(error as Error).message}`, {
      where,
      hint: 'Build the package if it is a checkout, and check its package.json ("exports" must have an import entry for ".").',
      cause: error,
    });
  }
}

/**
 * The conditions Node would use for an `import` in this process: `node`, `import`, and
 * those given with --conditions (-C), e.g. the repository's `@baton/source` in processes
 * its tests start, so plugins come from the same sources as the rest.
 */
function importConditions(): Set<string> {
  const conditions = new Set(['node', 'import']);
  const args = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/).filter(Boolean)];
  args.forEach((arg, index) => {
    const inline = /^(?:--conditions|-C)=(.+)$/.exec(arg)?.[1];
    const next = arg === '--conditions' || arg === '-C' ? args[index + 1] : undefined;
    const condition = inline ?? next;
    if (condition) conditions.add(condition);
  });
  return conditions;
}
