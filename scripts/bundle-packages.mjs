#!/usr/bin/env node
// The JavaScript half of `pnpm run build`: after `tsc -b` has written each package's
// declaration files (.d.ts) to dist/, esbuild writes its JavaScript there, one file per
// entry point (the `exports` of package.json, the files `bin/` imports, the files started
// by path), with the modules they share in chunk files beside them.
//
// Why bundle: a process pays for every module file Node resolves, reads and links. A
// 1-job `baton run-experiment` opened ~320 JavaScript files, 120 of them Baton's own;
// bundling each package's own modules (dependencies stay separate packages, `external`)
// made that run and a 10,000-job resume ~130 ms quicker here (docs/benchmarks.md).
//
// Rules the bundle keeps:
//   - every `@baton/*` package and every dependency stays an import (one @baton/core per
//     process, whoever imports it: the CLI, a plugin, the user's experiment);
//   - entry points keep the paths `exports` names (dist/<path under src>.js);
//   - a module that finds a file relative to itself (`new URL('./x', import.meta.url)`,
//     `createRequire(import.meta.url)('../package.json')`) must land in an output file in
//     the same folder under dist/ as its source under src/: checked below, the build fails
//     otherwise (chunks are written to dist/ itself).
// Every .js of dist/ is rewritten by each build (the old ones are removed first), so no
// module removed from src/ lingers in a published package.
//   node scripts/bundle-packages.mjs [package directory...]   (default: all of packages/ and plugins/)
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');
const SOURCE_CONDITION = '@baton/source';

/** Files a package starts by path (a worker thread's module), not imported by name: entry points too. */
const STARTED_BY_PATH = {
  '@baton/launcher-local': ['src/threadWorker.ts'],
};

/** A relative path taken from the module's own location: `new URL('./x', import.meta.url)` or `createRequire(import.meta.url)('../x')`. */
const RELATIVE_TO_MODULE = /new URL\(\s*['"`]\.|createRequire\(import\.meta\.url\)\(\s*['"`]\./;

const requested = process.argv.slice(2).map((dir) => resolve(dir));
const packages = requested.length > 0 ? requested : workspacePackages();
for (const dir of packages) await bundlePackage(dir);

/** The directories under packages/ and plugins/ whose exports point at sources through the source condition. */
function workspacePackages() {
  const found = [];
  for (const group of ['packages', 'plugins']) {
    for (const entry of readdirSync(join(REPO, group), { withFileTypes: true })) {
      const dir = join(REPO, group, entry.name);
      if (entry.isDirectory() && existsSync(join(dir, 'package.json')) && sourceEntries(readManifest(dir)).length > 0) found.push(dir);
    }
  }
  return found;
}

function readManifest(dir) {
  return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
}

/** The `@baton/source` targets of a manifest's exports that are TypeScript modules. */
function sourceEntries(manifest) {
  return Object.values(manifest.exports ?? {})
    .map((target) => (typeof target === 'object' && target !== null ? target[SOURCE_CONDITION] : undefined))
    .filter((path) => typeof path === 'string' && path.endsWith('.ts'));
}

/** `bin/x.js` imports `../dist/y.js`: its source, src/y.ts, is an entry point. */
function binEntries(dir, manifest) {
  const bins = typeof manifest.bin === 'string' ? [manifest.bin] : Object.values(manifest.bin ?? {});
  return bins.flatMap((bin) =>
    [...readFileSync(join(dir, bin), 'utf8').matchAll(/from\s+['"]\.\.\/dist\/(.+?)\.js['"]|import\s+['"]\.\.\/dist\/(.+?)\.js['"]/g)].map(
      (match) => `src/${match[1] ?? match[2]}.ts`,
    ),
  );
}

async function bundlePackage(dir) {
  const manifest = readManifest(dir);
  const entries = [...new Set([...sourceEntries(manifest), ...binEntries(dir, manifest), ...(STARTED_BY_PATH[manifest.name] ?? [])])];
  const outdir = join(dir, 'dist');
  removeJavaScript(outdir);
  const result = await build({
    absWorkingDir: dir,
    entryPoints: entries,
    outbase: 'src',
    outdir: 'dist',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20.19',
    packages: 'external',
    // No keepNames: its helper would wrap every function defined in a function body, per call
    // (~6 ms of a 10,000-job resume). Error classes set their `name` themselves.
    chunkNames: 'chunk-[hash]',
    metafile: true,
    logLevel: 'warning',
  });
  checkModuleDepths(dir, result.metafile);
  process.stdout.write(`bundled ${manifest.name}: ${entries.length} entry points, ${Object.keys(result.metafile.outputs).length} files\n`);
}

/** Removes every .js file under dist/ (declarations, written by tsc, stay). */
function removeJavaScript(dir) {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith('.js')) rmSync(join(entry.parentPath, entry.name));
  }
}

/** Fails when a module that finds files relative to itself was bundled into another folder than its source's. */
function checkModuleDepths(dir, metafile) {
  const problems = [];
  for (const [output, { inputs }] of Object.entries(metafile.outputs)) {
    const outputDir = dirname(relative('dist', output));
    for (const input of Object.keys(inputs)) {
      if (!input.startsWith('src/') || !RELATIVE_TO_MODULE.test(readFileSync(join(dir, input), 'utf8'))) continue;
      const inputDir = dirname(relative('src', input));
      if (inputDir !== outputDir) problems.push(`${input} (finds files relative to itself, in src/${inputDir}) was bundled into ${output} (in dist/${outputDir})`);
    }
  }
  if (problems.length > 0) {
    throw new Error(
      `${relative(REPO, dir)}: paths relative to a module would point elsewhere once bundled:\n  ${problems.join('\n  ')}\n` +
        'Find the file from the package instead (import.meta.resolve of a package export), or move the module to match.',
    );
  }
}
