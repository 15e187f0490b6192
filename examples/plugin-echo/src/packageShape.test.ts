// The example's package.json is what a plugin published outside this repository needs
// (docs/plugins.md shows it whole): its peer ranges accept this repository's core and
// zod, so that the day core's version moves, this fails instead of the example (and
// the guide) quietly asking for an older core; its exports name what the build writes.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

interface Manifest {
  version: string;
  engines?: { node?: string };
  exports?: Record<string, Record<string, string>>;
  files?: string[];
  peerDependencies?: Record<string, string>;
}

const EXAMPLE = fileURLToPath(new URL('../', import.meta.url));
const example = readJson<Manifest>(`${EXAMPLE}package.json`);
const core = readJson<Manifest>(`${EXAMPLE}../../packages/core/package.json`);
const tsconfig = readJson<{ compilerOptions: { rootDir: string; outDir: string } }>(`${EXAMPLE}tsconfig.json`);

describe('examples/plugin-echo/package.json', () => {
  it("takes @baton/core and zod as peers: a caret range that accepts this repository's core, core's own zod range", () => {
    const range = example.peerDependencies?.['@baton/core'] ?? '(none)';
    expect(caretAccepts(range, core.version), `peer range ${range} of @baton/core, core is ${core.version}`).toBe(true);
    expect(example.peerDependencies?.zod).toBe(core.peerDependencies?.zod);
    expect(example.engines?.node).toBe(core.engines?.node);
  });

  it('exports the built entry point, types first, and publishes dist only', () => {
    const entry = example.exports?.['.'];
    expect(Object.keys(entry ?? {})).toEqual(['types', 'import']);
    const { rootDir, outDir } = tsconfig.compilerOptions;
    for (const [condition, target] of Object.entries(entry ?? {})) {
      // ./dist/index.js and ./dist/index.d.ts are what tsc writes for src/index.ts.
      const source = target.replace(`./${outDir}/`, `${rootDir}/`).replace(/(\.d)?\.js$|\.d\.ts$/, '.ts');
      expect(existsSync(`${EXAMPLE}${source}`), `the ${condition} condition (${target}) is built from ${source}`).toBe(true);
    }
    expect(example.files).toEqual([outDir, `!${outDir}/.tsbuildinfo`]);
  });
});

/** Whether `^a.b.c` accepts `version` (npm's caret: the leftmost non-zero part stays). */
function caretAccepts(range: string, version: string): boolean {
  const wanted = /^\^(\d+)\.(\d+)\.(\d+)$/.exec(range)?.slice(1).map(Number);
  const actual = /^(\d+)\.(\d+)\.(\d+)$/.exec(version)?.slice(1).map(Number);
  if (!wanted || !actual) return false;
  const fixed = wanted[0]! > 0 ? 1 : wanted[1]! > 0 ? 2 : 3;
  const sameFixed = wanted.slice(0, fixed).every((part, index) => part === actual[index]);
  const notOlder = actual[0]! !== wanted[0]! ? actual[0]! > wanted[0]! : actual[1]! !== wanted[1]! ? actual[1]! > wanted[1]! : actual[2]! >= wanted[2]!;
  return sameFixed && notOlder;
}

function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}
