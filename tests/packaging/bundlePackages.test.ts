// The JavaScript half of the build (scripts/bundle-packages.mjs), on scratch packages in the
// OS temp folder: entry points where `exports` says, dependencies left as imports, modules
// shared by two entry points written once, no stale .js left behind, and the guard that
// fails the build when a module that finds files relative to itself would move folders.
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
});
