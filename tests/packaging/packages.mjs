// The packages as a user receives them: build, pack with pnpm (which turns `workspace:^`
// into the real `^0.x` ranges; `npm pack` would publish the `workspace:` protocol as is),
// and lint each tarball with publint and Are The Types Wrong. Shared by
// scripts/check-packages.mjs (CI) and tests/packaging/packaging.test.ts.
// Plain Node ESM: it runs before anything is built. Types: packages.d.mts.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';

/** The resolutions `attw --profile esm-only` leaves out (CommonJS consumers and pre-exports node10). */
const ESM_ONLY_IGNORED = ['node10', 'node16-cjs'];

const SOURCE_EXTENSIONS = ['.ts', '.mts', '.tsx', '.js', '.mjs'];

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The pnpm this repository pins (`packageManager`), run through npx as the README does. */
export function pnpmCommand() {
  const { packageManager } = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8'));
  if (typeof packageManager !== 'string' || !packageManager.startsWith('pnpm@')) {
    throw new Error(`package.json at ${REPO} has no "packageManager": "pnpm@<version>"; the packaging check runs that pnpm`);
  }
  return { command: 'npx', args: ['-y', packageManager] };
}

/** Every publishable package: the directories under packages/ and plugins/ whose package.json is not private. */
export function publishablePackages() {
  const found = [];
  for (const group of ['packages', 'plugins']) {
    for (const entry of readdirSync(join(REPO, group), { withFileTypes: true })) {
      const dir = join(REPO, group, entry.name);
      if (!entry.isDirectory() || !existsSync(join(dir, 'package.json'))) continue;
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      if (!manifest.private) found.push({ name: manifest.name, version: manifest.version, dir });
    }
  }
  return found;
}

/** `pnpm run build` at the root: every package to its dist/. */
export async function buildPackages() {
  const pnpm = pnpmCommand();
  await run(pnpm.command, [...pnpm.args, 'run', 'build'], { cwd: REPO, what: 'build the packages (pnpm run build)' });
}

/**
 * Packs every publishable package into `destination` with one `pnpm -r pack`, filtered to
 * their directories (pnpm rewrites `workspace:^` to the real range). Returns one entry per
 * package with the tarball's path and the files it holds.
 */
export async function packPackages({ destination }) {
  const pnpm = pnpmCommand();
  const packages = publishablePackages();
  // One pnpm process for all: its start is most of the time of a pack.
  const filters = packages.flatMap((pkg) => ['--filter', `./${relative(REPO, pkg.dir)}`]);
  const { stdout } = await run(pnpm.command, [...pnpm.args, '--recursive', ...filters, 'pack', '--json', '--pack-destination', destination], {
    cwd: REPO,
    what: `pack ${packages.map((pkg) => pkg.name).join(', ')} (pnpm pack)`,
  });
  const reports = [parseJson(stdout, 'pnpm pack --json')].flat();
  return packages.map((pkg) => {
    const report = reports.find((entry) => entry.name === pkg.name);
    if (!report || typeof report.filename !== 'string' || !existsSync(report.filename)) {
      throw new Error(`pnpm pack made no tarball for ${pkg.name} (${pkg.dir}); it reported:\n${stdout.slice(0, 2000)}`);
    }
    return { ...pkg, tarball: report.filename, files: report.files.map((file) => file.path) };
  });
}

/**
 * publint and Are The Types Wrong on one packed tarball. Returns the problems as readable
 * lines (empty when the tarball is clean) and the notes that are only suggestions.
 */
export async function lintTarball(tarball) {
  const problems = [];
  const notes = [];

  // publint with `strict`: warnings count as errors. Suggestions are reported, not failed on.
  const data = await readFile(tarball);
  const buffer = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength);
  const { messages, pkg } = await publint({ pack: { tarball: buffer }, level: 'suggestion', strict: true });
  for (const message of messages) {
    // A vendored dependency (dist/vendor/, see scripts/bundle-packages.mjs) is a private import that
    // the package's own code requires: how an ESM default import of it would behave concerns nobody.
    if (message.code === 'CJS_WITH_ESMODULE_DEFAULT_EXPORT' && message.path?.[0] === 'imports' && String(message.path[1]).startsWith('#vendor/')) continue;
    const line = `publint ${message.type} ${message.code}: ${formatMessage(message, pkg, { color: false }) ?? JSON.stringify(message)}`;
    (message.type === 'suggestion' ? notes : problems).push(line);
  }

  // `--profile esm-only`: the packages are ESM only (`"type": "module"`, an `import`
  // condition and no `require`), as the design card asks; the default profile would also
  // resolve them as CommonJS (node16 from a .cts file) and report that no `require`
  // entry exists, which is the intended shape, not a mistake. Everything an ESM user
  // meets (node16/nodenext from ESM, bundler) is still checked.
  const attw = await run(join(REPO, 'node_modules', '.bin', 'attw'), [tarball, '--profile', 'esm-only', '--format', 'json'], {
    cwd: REPO,
    what: `attw ${basename(tarball)}`,
    allowFailure: true,
  });
  // The JSON lists every problem; the profile only decides the exit code, so the same
  // resolutions are left out here to name what made it fail.
  const result = parseJson(attw.stdout, `attw --format json of ${basename(tarball)}`);
  const counted = (result.analysis?.problems ?? []).filter((problem) => !ESM_ONLY_IGNORED.includes(problem.resolutionKind ?? problem.resolutionOption));
  if (result.analysis?.types === false) problems.push('attw: the package has no type declarations (no `types` condition or .d.ts that TypeScript finds)');
  if (attw.code !== 0) {
    for (const problem of counted) problems.push(`attw ${problem.kind}: ${describeAttwProblem(problem)}`);
    if (counted.length === 0) problems.push(`attw exited with ${attw.code}:\n${attw.stderr || attw.stdout.slice(0, 2000)}`);
  }
  return { problems, notes };
}

/**
 * Files of a packed package's dist/ that no source file produces any more: `tsc -b` does not
 * delete the declarations of a renamed or removed source, and `files: ["dist"]` would publish
 * them. (The JavaScript of dist/ is rewritten whole by each build, scripts/bundle-packages.mjs:
 * entry points and the chunks they share, none left over.) Returns their paths inside the
 * tarball (empty when dist/ matches src/).
 */
export function staleBuildOutputs(pkg) {
  const vendored = vendoredFiles(pkg.dir);
  return pkg.files.filter((path) => {
    if (!path.startsWith('dist/') || path.endsWith('.tsbuildinfo') || /^dist\/.+\.js$/.test(path) || vendored.has(path)) return false;
    const match = /^dist\/(.+?)\.d\.(ts|mts)(\.map)?$/.exec(path);
    if (!match) return true;
    return !SOURCE_EXTENSIONS.some((extension) => existsSync(join(pkg.dir, 'src', `${match[1]}${extension}`)));
  });
}

/** The files of dist/vendor/ the build writes for the package's `#vendor/` imports (scripts/bundle-packages.mjs), with their licences. */
function vendoredFiles(dir) {
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const targets = Object.entries(manifest.imports ?? {})
    .filter(([key, target]) => key.startsWith('#vendor/') && typeof target === 'string')
    .map(([, target]) => target.replace(/^\.\//, ''));
  return new Set(targets.length > 0 ? [...targets, 'dist/vendor/LICENSES.md'] : []);
}

/**
 * Runs a program (no shell). Resolves with its output; rejects with an error that says what
 * was being done, the command, the exit code and the output, unless `allowFailure`.
 */
export function run(command, args, { cwd, env, what, allowFailure = false, timeoutMs } = {}) {
  return new Promise((resolvePromise, rejectPromise) => {
    execFile(command, args, { cwd, env, maxBuffer: 64 * 1024 * 1024, timeout: timeoutMs }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : error.signal ?? error.code ?? 1) : 0;
      if (error && !allowFailure) {
        const output = [stdout && `stdout:\n${stdout.trimEnd()}`, stderr && `stderr:\n${stderr.trimEnd()}`].filter(Boolean).join('\n');
        rejectPromise(new Error(`Could not ${what ?? 'run a command'}: \`${[command, ...args].join(' ')}\` in ${cwd ?? process.cwd()} ended with ${code}\n${output}`));
        return;
      }
      resolvePromise({ code, stdout, stderr });
    });
  });
}

function describeAttwProblem(problem) {
  const where = [problem.entrypoint && `entrypoint ${problem.entrypoint}`, problem.resolutionKind && `resolution ${problem.resolutionKind}`, problem.fileName && `file ${problem.fileName}`, problem.typesFileName && `types ${problem.typesFileName}`, problem.implementationFileName && `implementation ${problem.implementationFileName}`, problem.moduleSpecifier && `specifier ${problem.moduleSpecifier}`]
    .filter(Boolean)
    .join(', ');
  return where || JSON.stringify(problem);
}

function parseJson(text, what) {
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`Expected JSON from ${what}, got:\n${text.slice(0, 2000)}`);
  }
}
