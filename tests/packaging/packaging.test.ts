// The packages as a user receives them: every publishable package is packed with pnpm,
// the tarballs are installed into a fresh project outside the repository (once with npm,
// once with pnpm) together with the registry's newest zod 4, typescript and @types/node,
// and the project then runs a TypeScript and a plain .mjs experiment through `npx baton`,
// imports @baton/core from plain node, and type-checks under the strictest flags.
// Needs the npm registry; installs take a minute or two each.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, buildPackages, packPackages, pnpmCommand, run } from './packages.mjs';
import type { PackedPackage } from './packages.mjs';

const TEMPLATE = join(dirname(fileURLToPath(import.meta.url)), 'project');
const MINUTES = 60_000;

/**
 * What a user installs beside the tarballs, newest from the registry: zod 4 (the packages'
 * peer, `^4.1`), and `typescript` / `@types/node` as `npm install -D typescript @types/node`
 * gives them (TypeScript 7, the native compiler, at the time of writing; the repository
 * builds with 5.9, so this also checks the declaration files against what users run).
 */
const REGISTRY_PACKAGES = ['zod@^4', 'typescript', '@types/node'];

// Set BATON_KEEP_PACKAGING=1 to keep the projects (their path is printed) and look inside.
const keep = process.env.BATON_KEEP_PACKAGING === '1';
const work = mkdtempSync(join(tmpdir(), 'baton-packaging-'));
let packed: PackedPackage[] = [];

beforeAll(async () => {
  await buildPackages();
  const destination = join(work, 'tarballs');
  mkdirSync(destination);
  packed = await packPackages({ destination });
}, 10 * MINUTES);

afterAll(() => {
  if (keep) console.log(`packaging test: projects kept in ${work}`);
  else rmSync(work, { recursive: true, force: true });
});

describe.each(['npm', 'pnpm'] as const)('installed with %s into a fresh project', (manager) => {
  const project = join(work, `project-${manager}`);

  beforeAll(async () => {
    expect(packed.map((p) => p.name)).toEqual(expect.arrayContaining(['@baton/core', '@baton/cli', '@baton/launcher-local', '@baton/launcher-slurm']));
    createProject(project, manager);
    const specs = [...packed.map((p) => p.tarball), ...REGISTRY_PACKAGES];
    if (manager === 'npm') {
      await run('npm', ['install', '--no-audit', '--no-fund', ...specs], { cwd: project, env: userEnv(), what: 'install the tarballs with npm', timeoutMs: 8 * MINUTES });
    } else {
      const pnpm = pnpmCommand();
      await run(pnpm.command, [...pnpm.args, 'add', ...specs], { cwd: project, env: userEnv(), what: 'install the tarballs with pnpm', timeoutMs: 8 * MINUTES });
    }
    const versions = Object.fromEntries(['zod', 'typescript', '@types/node'].map((name) => [name, installedVersion(project, name)]));
    console.log(`packaging test (${manager}): ${project} with ${JSON.stringify(versions)}`);
  }, 10 * MINUTES);

  it('holds one copy of zod and of @baton/core, shared by every package (peer dependencies)', () => {
    for (const name of ['zod', '@baton/core']) {
      const copies = findPackageCopies(join(project, 'node_modules'), name);
      expect({ name, copies }).toEqual({ name, copies: [expect.any(String)] });
    }
  });

  it('installs no copy of the dependencies @baton/core vendors (the settings and configuration files are read by its own copies)', () => {
    for (const name of ['yaml', 'cosmiconfig', 'import-meta-resolve']) {
      expect({ name, copies: findPackageCopies(join(project, 'node_modules'), name) }).toEqual({ name, copies: [] });
    }
  });

  it('runs a TypeScript experiment through `npx baton`, and a second run runs nothing again', async () => {
    const words = ['ab', 'cde', 'naïve'];
    const runLog = join(project, 'runs-ts.log');
    writeFileSync(join(project, 'sweep.yaml'), `id: sweep\nfile: experiment\nwords: ${JSON.stringify(words)}\nrunLog: ${JSON.stringify(runLog)}\n`);
    const moduleLog = join(project, 'modules-ts.log');

    const first = await runExperiment(project, 'sweep.yaml', moduleLog);
    expect(first.code, first.output).toBe(0);
    const ran = readLines(runLog).sort();
    expect(ran).toEqual([...words.map((w) => `shout ${w}`), ...words.map((w) => `measure ${w}`)].sort());
    const markers = doneMarkers(join(project, 'ws'));
    expect(countByTask(markers)).toEqual({ shout: words.length, measure: words.length });
    // The function task read what the command task wrote (a job output as a parameter).
    const lengths = readdirSync(join(project, 'ws', 'jobs', 'measure')).map((hash) => JSON.parse(readFileSync(join(project, 'ws', 'jobs', 'measure', hash, 'length.json'), 'utf8')) as { word: string; length: number });
    expect(lengths.sort((a, b) => a.word.localeCompare(b.word))).toEqual(words.map((word) => ({ word, length: [...word].length })).sort((a, b) => a.word.localeCompare(b.word)));

    // Control for the .mjs test below: tsx does show in this log when it is loaded, both in
    // the baton process (experiment.ts) and in the function tasks' job processes (tasks.ts).
    const modules = readModuleLog(moduleLog);
    const experimentPid = pidsLoading(modules, 'experiment.ts');
    const jobPids = pidsLoading(modules, 'tasks.ts').filter((pid) => !experimentPid.includes(pid));
    expect(experimentPid).toHaveLength(1);
    expect(jobPids.length).toBeGreaterThan(0);
    expect(pidsLoadingTsx(modules)).toEqual(expect.arrayContaining([...experimentPid, ...jobPids]));

    const second = await runExperiment(project, 'sweep.yaml');
    expect(second.code, second.output).toBe(0);
    expect(readLines(runLog).sort()).toEqual(ran);
    expect(doneMarkers(join(project, 'ws'))).toEqual(markers);
  });

  it('runs a plain .mjs experiment through `npx baton` without loading tsx in any process', async () => {
    const words = ['plain', 'js'];
    const runLog = join(project, 'runs-js.log');
    writeFileSync(join(project, 'plain.yaml'), `id: plain\nfile: experiment.mjs\nwords: ${JSON.stringify(words)}\nrunLog: ${JSON.stringify(runLog)}\n`);
    const moduleLog = join(project, 'modules-js.log');

    const result = await runExperiment(project, 'plain.yaml', moduleLog);
    expect(result.code, result.output).toBe(0);
    expect(readLines(runLog).sort()).toEqual([...words.map((w) => `shout-js ${w}`), ...words.map((w) => `measure-js ${w}`)].sort());
    expect(countByTask(doneMarkers(join(project, 'ws')))).toMatchObject({ 'shout-js': words.length, 'measure-js': words.length });

    // The log saw the baton process and each function task's job process...
    const modules = readModuleLog(moduleLog);
    const experimentPid = pidsLoading(modules, 'experiment.mjs');
    expect(experimentPid).toHaveLength(1);
    expect(pidsLoading(modules, 'tasks.mjs').filter((pid) => !experimentPid.includes(pid)).length).toBeGreaterThan(0);
    // ...and none of them loaded a module of tsx.
    expect(modules.filter(({ url }) => isTsxModule(url))).toEqual([]);
  });

  it('imports @baton/core from plain node, uses defineTask and reads the settings JSON schema', async () => {
    const { stdout } = await run('node', ['import-core.mjs'], { cwd: project, env: userEnv(), what: 'import @baton/core from plain node' });
    const schemaId = (JSON.parse(readFileSync(join(REPO, 'packages', 'core', 'settings.schema.json'), 'utf8')) as { $id: string }).$id;
    expect(JSON.parse(stdout)).toEqual({ id: 'plain-node', isTask: true, argv: ['echo', '1'], schemaId });
  });

  it('type-checks the user’s project with tsc --strict --exactOptionalPropertyTypes --noUncheckedIndexedAccess, no skipLibCheck, no extra @types', async () => {
    expect(readdirSync(join(project, 'node_modules', '@types'))).toEqual(['node']);
    const flags = ['--noEmit', '--strict', '--exactOptionalPropertyTypes', '--noUncheckedIndexedAccess', '--module', 'nodenext', '--moduleResolution', 'nodenext'];
    const result = await run('npx', ['tsc', '-p', 'tsconfig.json', ...flags], { cwd: project, env: userEnv(), what: 'type-check the project', allowFailure: true });
    expect(result.code, `tsc found errors in the user's project:\n${result.stdout}${result.stderr}`).toBe(0);
  });
});

/** A fresh project: package.json and the experiment files of ./project (the README's example, in TS and in JS). */
function createProject(project: string, manager: 'npm' | 'pnpm'): void {
  mkdirSync(project);
  cpSync(TEMPLATE, project, { recursive: true });
  const manifest: Record<string, unknown> = { name: `baton-packaging-${manager}`, private: true, type: 'module' };
  if (manager === 'pnpm') {
    // The CLI's dependency on @baton/core and @baton/launcher-local (^0.1.0) would come from
    // the registry: point every Baton package at its tarball, as a published release would be.
    manifest.pnpm = { overrides: Object.fromEntries(packed.map((p) => [p.name, `file:${p.tarball}`])) };
  }
  writeFileSync(join(project, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  // The machine's own settings file (~/.config/baton) must not reach the experiments.
  mkdirSync(join(project, 'xdg-config'));
}

/** The environment of a user's shell: nothing from the test runner or from a pnpm script of this repository. */
function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    // npm_config_local_prefix and friends, set when the tests run through `pnpm test`, would
    // send npm to the repository; the registry, proxy and certificate settings stay.
    if (/^(npm|pnpm)_/i.test(name) && !/^npm_config_(registry|cafile|ca|userconfig|cache|(https?_)?proxy|noproxy|strict_ssl)$/i.test(name)) continue;
    if (/^(VITEST|TSX_|BATON_)|^NODE_OPTIONS$|^NODE_ENV$|^DEBUG$/.test(name)) continue;
    env[name] = value;
  }
  return { ...env, ...extra };
}

async function runExperiment(project: string, yamlFile: string, moduleLog?: string): Promise<{ code: number | string; output: string }> {
  const extra: Record<string, string> = { XDG_CONFIG_HOME: join(project, 'xdg-config') };
  if (moduleLog) {
    extra.BATON_PACKAGING_MODULE_LOG = moduleLog;
    extra.NODE_OPTIONS = `--import=${pathToFileURL(join(project, 'module-log.mjs')).href}`;
  }
  const result = await run('npx', ['baton', 'run-experiment', '--workdir', 'ws', '--port', '-1', yamlFile], {
    cwd: project,
    env: userEnv(extra),
    allowFailure: true,
    timeoutMs: 5 * MINUTES,
  });
  return { code: result.code, output: `npx baton run-experiment ${yamlFile} in ${project}:\n${result.stdout}${result.stderr}` };
}

/** Every `done` marker of a workspace, by `<task>/<hash>`, with its content. */
function doneMarkers(workspace: string): Record<string, string> {
  const markers: Record<string, string> = {};
  const jobs = join(workspace, 'jobs');
  for (const task of existsSync(jobs) ? readdirSync(jobs) : []) {
    for (const hash of readdirSync(join(jobs, task))) {
      const done = join(jobs, task, hash, 'done');
      if (existsSync(done)) markers[`${task}/${hash}`] = readFileSync(done, 'utf8');
    }
  }
  return markers;
}

function countByTask(markers: Record<string, string>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const key of Object.keys(markers)) {
    const task = key.slice(0, key.indexOf('/'));
    counts[task] = (counts[task] ?? 0) + 1;
  }
  return counts;
}

function readLines(file: string): string[] {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter((line) => line !== '') : [];
}

/** Lines `<pid> <url>` written by module-log.mjs: every ES module each process loaded. */
function readModuleLog(file: string): { pid: string; url: string }[] {
  return readLines(file).map((line) => {
    const space = line.indexOf(' ');
    return { pid: line.slice(0, space), url: line.slice(space + 1) };
  });
}

/** The processes that loaded the project's file `name`. */
function pidsLoading(modules: { pid: string; url: string }[], name: string): string[] {
  return [...new Set(modules.filter(({ url }) => url.split('?')[0]!.endsWith(`/${name}`)).map(({ pid }) => pid))];
}

function pidsLoadingTsx(modules: { pid: string; url: string }[]): string[] {
  return [...new Set(modules.filter(({ url }) => isTsxModule(url)).map(({ pid }) => pid))];
}

/** A module of the tsx package (npm: node_modules/tsx/..., pnpm: node_modules/.pnpm/tsx@x/node_modules/tsx/...). */
function isTsxModule(url: string): boolean {
  return /\/node_modules\/tsx\//.test(url);
}

/** Every installed copy of a package under a node_modules tree (symlinks, as pnpm makes them, counted once). */
function findPackageCopies(nodeModules: string, name: string): string[] {
  const copies = new Set<string>();
  const visit = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (path.endsWith(`/node_modules/${name}`) && existsSync(join(path, 'package.json'))) copies.add(realpathSync(path));
      if (!entry.isDirectory()) continue;
      if (entry.name === '.pnpm') {
        for (const stored of readdirSync(path)) if (existsSync(join(path, stored, 'node_modules'))) visit(join(path, stored, 'node_modules'));
      } else if (entry.name.startsWith('@')) {
        visit(path);
      } else if (existsSync(join(path, 'node_modules'))) {
        visit(join(path, 'node_modules'));
      }
    }
  };
  visit(nodeModules);
  return [...copies];
}

function installedVersion(project: string, name: string): string {
  return (JSON.parse(readFileSync(join(project, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
}
