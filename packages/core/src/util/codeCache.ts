// A V8 code cache for the vendored CommonJS bundles (the YAML parser, cosmiconfig; see
// lazyModule.ts), so that a command does not compile them again each time it reads a
// settings file. Node 22 has this built in (module.enableCompileCache, which the CLI
// turns on there); Node 20 does not, so these files are compiled with node:vm and the
// code V8 made for them is kept on disk after the first run, with the functions that
// run compiled too (here the YAML parser's load and first parse: ~25 ms → ~8 ms).
//
// Where: $BATON_CODE_CACHE, else $XDG_CACHE_HOME/baton/code-cache, else
// ~/.cache/baton/code-cache, in a folder per Node version and architecture;
// BATON_CODE_CACHE=off turns it off. A cache file is named by a hash of the module's
// text, so an edited or upgraded file never meets the code of another; V8 itself
// refuses a cache made by another V8 or with other flags. Code is only read from a
// folder the user owns that nobody else can write to: what is read there runs.
// Anything that goes wrong (no home, a read-only disk, a refused cache) falls back to
// compiling, as without a cache: the cache only ever saves time.
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { Script } from 'node:vm';

/** The environment variable that names the cache folder, or turns the cache off (`off`, `0`, `false`). */
export const CODE_CACHE_ENV = 'BATON_CODE_CACHE';

type CommonJsWrapper = (exports: unknown, require: NodeJS.Require, module: { exports: unknown }, filename: string, dirname: string) => void;

/** How a file was loaded: with code from the cache, compiled (its code then kept), or by plain require (cache off). */
export type CodeCacheUse = 'cached' | 'compiled' | 'plain';

/** Modules loaded through the cache, by path: one instance per process, as require gives. */
const loaded = new Map<string, { exports: unknown; use: CodeCacheUse }>();
/** Scripts compiled without a usable cache: their code is written at the process's end. */
const toWrite = new Map<string, Script>();
let writeOnExit = false;

/**
 * The folder of this Node's cache files, or undefined when the cache is off. Not created here.
 * `env` and `home` are parameters for tests.
 */
export function codeCacheDir(env: NodeJS.ProcessEnv = process.env, home: () => string = homedir): string | undefined {
  const setting = env[CODE_CACHE_ENV];
  if (setting !== undefined && ['off', '0', 'false', 'no'].includes(setting.toLowerCase())) return undefined;
  let base = setting;
  if (!base) {
    const homeDir = home();
    const cacheHome = env.XDG_CACHE_HOME || (homeDir ? join(homeDir, '.cache') : undefined);
    if (!cacheHome) return undefined;
    base = join(cacheHome, 'baton', 'code-cache');
  }
  return join(base, `${process.version}-${process.arch}`);
}

/**
 * Requires a self-contained CommonJS file (its `require`s resolve from its own folder)
 * with V8's code cache. The same object for the same path, as `require` gives.
 */
export function requireWithCodeCache(path: string, requireFrom: NodeJS.Require): unknown {
  const known = loaded.get(path);
  if (known) return known.exports;
  const dir = codeCacheDir();
  if (!dir) return remember(path, requireFrom(path), 'plain');
  let source: string;
  try {
    source = readFileSync(path, 'utf8');
  } catch {
    return remember(path, requireFrom(path), 'plain');
  }
  // Taken here, not imported: a process (or worker thread) that needs no vendored file never loads node:vm.
  const { createHash } = process.getBuiltinModule('node:crypto');
  const vm = process.getBuiltinModule('node:vm');
  const cacheFile = join(dir, `${basename(path)}-${createHash('sha1').update(source).digest('hex').slice(0, 20)}.v8`);
  const cachedData = readTrusted(dir, cacheFile);
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: path,
    ...(cachedData ? { cachedData } : {}),
    // A dynamic import() in the file works as in a module Node loaded itself.
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  const cached = cachedData !== undefined && script.cachedDataRejected === false;
  if (!cached) scheduleWrite(cacheFile, script);
  const module = { exports: {} as unknown };
  (script.runInThisContext() as CommonJsWrapper).call(module.exports, module.exports, requireFrom, module, path, dirname(path));
  return remember(path, module.exports, cached ? 'cached' : 'compiled');
}

/** How the file at `path` was loaded in this process, if it was (for tests and --debug). */
export function codeCacheUse(path: string): CodeCacheUse | undefined {
  return loaded.get(path)?.use;
}

function remember(path: string, exports: unknown, use: CodeCacheUse): unknown {
  loaded.set(path, { exports, use });
  return exports;
}

/** The cache file's bytes, if the folder is the user's own and closed to others (what is read there runs). */
function readTrusted(dir: string, file: string): Buffer | undefined {
  try {
    const folder = statSync(dir);
    if (!folder.isDirectory() || (process.getuid && folder.uid !== process.getuid()) || (folder.mode & 0o022) !== 0) return undefined;
    return readFileSync(file);
  } catch {
    return undefined;
  }
}

/**
 * The code is taken at the process's end, so that it holds the functions that ran (V8
 * compiles a function when it is first called); written to a temporary name, then
 * renamed: a process reading it at the same time sees the whole file or none.
 */
function scheduleWrite(file: string, script: Script): void {
  toWrite.set(file, script);
  if (writeOnExit) return;
  writeOnExit = true;
  process.once('exit', writeCodeCaches);
}

/** Writes the cache files of the scripts compiled without one (at exit; exported for tests). */
export function writeCodeCaches(): void {
  for (const [file, script] of toWrite) {
    try {
      mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
      const temporary = `${file}.${process.pid}.tmp`;
      writeFileSync(temporary, script.createCachedData(), { mode: 0o600 });
      renameSync(temporary, file);
    } catch {
      // Only time is lost: the next run compiles again.
    }
  }
  toWrite.clear();
}
