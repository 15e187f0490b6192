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
//
// Vendored dependencies: a package's `imports` entries `#vendor/<name>` name dependencies
// it ships inside dist/vendor/, one file each with everything they require (their licences
// in dist/vendor/LICENSES.md), instead of depending on them. For packages made of many
// small files, loading is the cost: yaml (84 CommonJS files) took ~40 ms of every command
// that reads a settings file, cosmiconfig with its dependencies ~15, import-meta-resolve
// ~19; one file each, a few ms (docs/benchmarks.md). Their code imports them on first use
// through lazyModule / importVendored (src/util/lazyModule.ts), from the package itself
// when run from the sources. The file's extension gives its format: .cjs or .js (ESM).
//   node scripts/bundle-packages.mjs [package directory...]   (default: all of packages/ and plugins/)
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
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

/** `bin/x.js` imports `../dist/y.js` (statically or not): its source, src/y.ts, is an entry point. */
function binEntries(dir, manifest) {
  return binPaths(manifest).flatMap((bin) =>
    // `from '../dist/x.js'`, `import '../dist/x.js'` and `import('../dist/x.js')`.
    [...readFileSync(join(dir, bin), 'utf8').matchAll(/(?:from\s+|import\s*\(?\s*)['"]\.\.\/dist\/(.+?)\.js['"]/g)].map((match) => `src/${match[1]}.ts`),
  );
}

async function bundlePackage(dir) {
  const manifest = readManifest(dir);
  const entries = [...new Set([...sourceEntries(manifest), ...binEntries(dir, manifest), ...(STARTED_BY_PATH[manifest.name] ?? [])])];
  const outdir = join(dir, 'dist');
  removeJavaScript(outdir);
  rmSync(join(outdir, 'vendor'), { recursive: true, force: true });
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
  checkBinTargets(dir, manifest);
  const vendored = await vendorDependencies(dir, manifest);
  process.stdout.write(
    `bundled ${manifest.name}: ${entries.length} entry points, ${Object.keys(result.metafile.outputs).length} files${vendored.length > 0 ? `, vendored ${vendored.join(', ')}` : ''}\n`,
  );
}

/** Every `../dist/*.js` a bin names, however it imports it, was written: a form binEntries missed fails the build, not the command. */
function checkBinTargets(dir, manifest) {
  for (const bin of binPaths(manifest)) {
    for (const [, target] of readFileSync(join(dir, bin), 'utf8').matchAll(/['"]\.\.\/(dist\/[^'"]+\.js)['"]/g)) {
      if (!existsSync(join(dir, target))) throw new Error(`${manifest.name}: ${bin} imports ../${target}, which the build did not write (an import form binEntries does not read?)`);
    }
  }
}

/** The files the manifest's `bin` names. */
function binPaths(manifest) {
  return typeof manifest.bin === 'string' ? [manifest.bin] : Object.values(manifest.bin ?? {});
}

/** `#vendor/<name>` imports of the manifest: the dependency bundled into the file it names. */
function vendorEntries(manifest) {
  return Object.entries(manifest.imports ?? {})
    .filter(([key]) => key.startsWith('#vendor/'))
    .map(([key, target]) => {
      if (typeof target !== 'string' || !/^\.\/dist\/vendor\/[^/]+\.c?js$/.test(target)) {
        throw new Error(`${manifest.name}: imports["${key}"] must be "./dist/vendor/<file>.cjs" (CommonJS) or ".js" (ESM), not ${JSON.stringify(target)}`);
      }
      return { name: key.slice('#vendor/'.length), target };
    });
}

/** Bundles each vendored dependency into dist/vendor/, and writes the licences of all the packages bundled there. */
async function vendorDependencies(dir, manifest) {
  const vendors = vendorEntries(manifest);
  if (vendors.length === 0) return [];
  const requireHere = createRequire(join(dir, 'package.json'));
  const bundled = new Map();
  for (const { name, target } of vendors) {
    const result = await build({
      absWorkingDir: dir,
      entryPoints: [requireHere.resolve(name)],
      outfile: target,
      bundle: true,
      format: target.endsWith('.cjs') ? 'cjs' : 'esm',
      platform: 'node',
      target: 'node20.19',
      // cosmiconfig's own TypeScript loader (never used: core gives its loaders) requires it lazily.
      external: ['typescript'],
      metafile: true,
      logLevel: 'warning',
    });
    for (const input of Object.keys(result.metafile.inputs)) {
      const root = packageRootOf(join(dir, input));
      if (root) bundled.set(root, JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')));
    }
  }
  writeFileSync(join(dir, 'dist', 'vendor', 'LICENSES.md'), licensesText(manifest.name, bundled));
  return vendors.map((vendor) => vendor.name);
}

/** The folder of the package a bundled file belongs to: the one right under its last node_modules. */
function packageRootOf(file) {
  const match = /^(.*\/node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(file);
  return match?.[1];
}

function licensesText(owner, bundled) {
  const sections = [...bundled.entries()]
    .sort(([, a], [, b]) => a.name.localeCompare(b.name))
    .map(([root, pkg]) => {
      const file = readdirSync(root).find((entry) => /^(licen[sc]e|copying)(\.|$)/i.test(entry));
      if (!file) throw new Error(`${pkg.name}@${pkg.version} is bundled into ${owner}'s dist/vendor/ but has no licence file to ship with it`);
      return `## ${pkg.name}@${pkg.version} (${pkg.license})\n\n${readFileSync(join(root, file), 'utf8').trim()}\n`;
    });
  return `# Packages bundled in ${owner}'s dist/vendor/\n\nThese packages are shipped inside this package (see the \`imports\` of its package.json); their licences follow.\n\n${sections.join('\n')}`;
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
