// Dependencies that only some paths need (the YAML parser, the settings file search, the
// plugin resolver) are loaded on first use, so that importing @baton/core stays quick:
// every function task's job process imports it through the user's task module. CommonJS
// ones are required synchronously, so that callers need not be async. node:module itself
// is taken on first use too: a worker thread that never needs one of these packages does
// not compile it (Node's startup snapshot has it for the main thread only).
//
// Some dependencies are vendored: the build bundles each into one file of dist/vendor/,
// named by the `#vendor/<name>` entry of package.json's `imports`
// (scripts/bundle-packages.mjs says why). Built, they are loaded from there; run from the
// sources (tests in the repository), from the package in node_modules. Built, a vendored
// CommonJS file is compiled with V8's code cache (codeCache.ts).

import { requireWithCodeCache } from './codeCache.ts';

let require: NodeJS.Require | undefined;

/** This module's extension: `.ts` when run from the sources, `.js` once built. */
const FROM_SOURCES = import.meta.url.endsWith('.ts');

/** The specifier of a dependency: its vendored copy once built, the package itself from the sources. */
function specifierOf(name: string, vendored: boolean): string {
  return vendored && !FROM_SOURCES ? `#vendor/${name}` : name;
}

/** A getter that requires `name` (a CommonJS package) the first time it is called; `vendored`: see above. */
export function lazyModule<T>(name: string, options: { vendored?: boolean } = {}): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= load(specifierOf(name, options.vendored ?? false)) as T);
}

/** Requires a dependency: a vendored CommonJS file with V8's code cache, unless Node's own compile cache is on (Node 22). */
function load(specifier: string): unknown {
  const nodeModule = process.getBuiltinModule('node:module');
  require ??= nodeModule.createRequire(import.meta.url);
  if (!specifier.startsWith('#vendor/')) return require(specifier);
  const path = require.resolve(specifier);
  const nodeCompileCache = (nodeModule as { getCompileCacheDir?: () => string | undefined }).getCompileCacheDir?.();
  return path.endsWith('.cjs') && !nodeCompileCache ? requireWithCodeCache(path, nodeModule.createRequire(path)) : require(path);
}
