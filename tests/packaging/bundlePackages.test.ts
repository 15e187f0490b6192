// The JavaScript half of the build (scripts/bundle-packages.mjs), on scratch packages in the
// OS temp folder: entry points where `exports` says, dependencies left as imports, modules
// shared by two entry points written once, no stale .js left behind, the guard that
// fails the build when a module that finds files relative to itself would move folders,
// and vendored dependencies (`#vendor/<name>` imports) bundled into dist/vendor/ with their licences.
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO, run } from './packages.mjs';

const BUNDLE = join(REPO, 'scripts', 'bundle-packages.mjs');
const work = mkdtempSync(join(tmpdir(), 'baton-bundle-'));

afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A package under `work` with the given source files and the two exports `.` and `./extra`. */
function scratchPackage(name: string, files: Record<string, string>): string {
  const dir = join(work, name);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  const manifest = {
    name: `@scratch/${name}`,
    type: 'module',
    exports: {
      '.': { '@baton/source': './src/index.ts', import: './dist/index.js' },
      './extra': { '@baton/source': './src/extra/extraApi.ts', import: './dist/extra/extraApi.js' },
    },
  };
  writeFileSync(join(dir, 'package.json'), JSON.stringify(manifest));
  return dir;
}

function bundle(dir: string) {
  return run(process.execPath, [BUNDLE, dir], { cwd: REPO, allowFailure: true, what: `bundle ${dir}` });
}

describe('scripts/bundle-packages.mjs', () => {
  it('writes an entry point per export, keeps dependencies as imports, and shares a module two entries use', async () => {
    const dir = scratchPackage('plain', {
      'src/index.ts': "import { z } from 'zod';\nimport { shared } from './shared.ts';\nexport const schema = z.object({});\nexport const fromIndex = (): string => shared('index');\n",
      'src/extra/extraApi.ts': "import { shared } from '../shared.ts';\nexport const fromExtra = (): string => shared('extra');\n",
      'src/shared.ts': "export function shared(who: string): string { return `shared with ${who}`; }\n",
    });
    // A module removed from src/ since the last build: its .js must not survive.
    mkdirSync(join(dir, 'dist'), { recursive: true });
    writeFileSync(join(dir, 'dist', 'removed.js'), 'export {};\n');
    writeFileSync(join(dir, 'dist', 'index.d.ts'), 'export {};\n');

    const result = await bundle(dir);
    expect(result.code, result.stderr).toBe(0);
    expect(existsSync(join(dir, 'dist', 'index.js'))).toBe(true);
    expect(existsSync(join(dir, 'dist', 'extra', 'extraApi.js'))).toBe(true);
    expect(existsSync(join(dir, 'dist', 'removed.js'))).toBe(false);
    // Declarations are tsc's: left alone.
    expect(existsSync(join(dir, 'dist', 'index.d.ts'))).toBe(true);
    const index = readFileSync(join(dir, 'dist', 'index.js'), 'utf8');
    expect(index).toMatch(/from "zod"/);
    // `shared` lives in one chunk that both entry points import, not in a copy each.
    const chunks = readdirSync(join(dir, 'dist')).filter((file) => file.startsWith('chunk-'));
    expect(chunks).toHaveLength(1);
    const extra = readFileSync(join(dir, 'dist', 'extra', 'extraApi.js'), 'utf8');
    expect(index).toContain(chunks[0]);
    expect(extra).toContain(chunks[0]);
    expect(extra).not.toContain('function shared');
  });

  it('fails, naming the module, when a file found relative to a module would be looked for in another folder', async () => {
    const dir = scratchPackage('moved', {
      'src/index.ts': "export { dataPath } from './nested/finder.ts';\n",
      'src/extra/extraApi.ts': 'export const extra = 1;\n',
      'src/nested/finder.ts': "export const dataPath = (): URL => new URL('./data.txt', import.meta.url);\n",
    });
    const result = await bundle(dir);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('src/nested/finder.ts');
    expect(result.stderr).toContain('dist/index.js');
  });

  it('accepts such a module when it stays in its folder', async () => {
    const dir = scratchPackage('kept', {
      'src/index.ts': "export const dataPath = (): URL => new URL('./data.txt', import.meta.url);\n",
      'src/extra/extraApi.ts': 'export const extra = 1;\n',
    });
    const result = await bundle(dir);
    expect(result.code, result.stderr).toBe(0);
  });

  describe('vendored dependencies', () => {
    /** A scratch package that vendors `dep` (a CommonJS package of two files that requires a Node builtin) through `imports`. */
    function vendoringPackage(name: string, options: { license?: boolean; target?: string } = {}): string {
      const dir = scratchPackage(name, {
        'src/index.ts': 'export const one = 1;\n',
        'src/extra/extraApi.ts': 'export const extra = 1;\n',
        'node_modules/dep/package.json': JSON.stringify({ name: 'dep', version: '1.2.3', license: 'MIT', main: 'main.js' }),
        'node_modules/dep/main.js': "const { join } = require('node:path');\nmodule.exports = { joined: require('./helper.js').helper(join('a', 'b')) };\n",
        'node_modules/dep/helper.js': "exports.helper = (value) => `helped ${value}`;\n",
        ...(options.license === false ? {} : { 'node_modules/dep/LICENSE': 'The licence of dep.\n' }),
      });
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Record<string, unknown>;
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ ...manifest, imports: { '#vendor/dep': options.target ?? './dist/vendor/dep.cjs' } }));
      return dir;
    }

    it('bundles each into one file of dist/vendor/ that the package requires through #vendor/, and ships the licences', async () => {
      const dir = vendoringPackage('vendoring');
      // A vendored file of an earlier build whose dependency is no longer vendored: gone.
      mkdirSync(join(dir, 'dist', 'vendor'), { recursive: true });
      writeFileSync(join(dir, 'dist', 'vendor', 'dropped.cjs'), 'module.exports = {};\n');
      const result = await bundle(dir);
      expect(result.code, result.stderr).toBe(0);
      expect(readdirSync(join(dir, 'dist', 'vendor')).sort()).toEqual(['LICENSES.md', 'dep.cjs']);
      // Loaded the way the package's own modules load it, with the dependency's folder gone.
      rmSync(join(dir, 'node_modules'), { recursive: true });
      const loaded = await run(process.execPath, ['--input-type=module', '-e', "import { createRequire } from 'node:module'; console.log(createRequire(process.cwd() + '/dist/index.js')('#vendor/dep').joined);"], { cwd: dir, what: 'require #vendor/dep' });
      expect(loaded.stdout.trim()).toBe('helped a/b');
      const licenses = readFileSync(join(dir, 'dist', 'vendor', 'LICENSES.md'), 'utf8');
      expect(licenses).toContain('## dep@1.2.3 (MIT)');
      expect(licenses).toContain('The licence of dep.');
    });

    it('fails when a vendored package has no licence file to ship', async () => {
      const result = await bundle(vendoringPackage('unlicensed', { license: false }));
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain('dep@1.2.3 is bundled into @scratch/unlicensed');
    });

    it('fails when a #vendor/ import points elsewhere than a file of dist/vendor/', async () => {
      const result = await bundle(vendoringPackage('misplaced', { target: './lib/dep.cjs' }));
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain('imports["#vendor/dep"] must be "./dist/vendor/<file>.cjs"');
    });
  });
});
