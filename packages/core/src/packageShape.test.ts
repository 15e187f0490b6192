// What a user receives from the registry: the metadata of every publishable package
// (packages/*, plugins/* that are not private) and what `npm pack` puts in its tarball.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { SETTINGS_SCHEMA_ID } from './settings/settingsJsonSchema.ts';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

interface Manifest {
  name: string;
  private?: boolean;
  license?: string;
  bin?: string | Record<string, string>;
  exports?: unknown;
  files?: string[];
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

const PACKAGES = publishablePackages();

describe('package shape', () => {
  it('finds the publishable packages', () => {
    expect(PACKAGES.map((p) => p.manifest.name)).toEqual(expect.arrayContaining(['@baton/core', '@baton/cli', '@baton/launcher-local', '@baton/launcher-slurm']));
  });

  describe.each(PACKAGES.map((p) => [p.manifest.name, p] as const))('%s', (_name, { dir, manifest }) => {
    it('takes zod as a caret peer dependency (one zod in a user project), and as a dev dependency for its tests', () => {
      expect(manifest.peerDependencies?.zod).toMatch(/^\^4\.\d+/);
      expect(manifest.dependencies?.zod).toBeUndefined();
      expect(manifest.devDependencies?.zod).toBeDefined();
    });

    it('gives runtime dependencies caret ranges, and Baton packages workspace:^ (published as ^0.x)', () => {
      for (const [name, range] of Object.entries({ ...manifest.dependencies, ...manifest.peerDependencies })) {
        const expected = name.startsWith('@baton/') ? /^workspace:\^$/ : /^\^\d/;
        expect({ name, range }).toEqual({ name, range: expect.stringMatching(expected) });
      }
    });

    it('ships its built files (dist/) and not its sources, tests, fixtures or test helpers', () => {
      expect(manifest.files).toEqual(expect.arrayContaining(['dist', '!dist/.tsbuildinfo']));
      expect(manifest.files?.filter((entry) => entry.startsWith('src'))).toEqual([]);
    });

    it('exports built JavaScript with its types, and its sources only under the in-repo @baton/source condition', () => {
      for (const [subpath, target] of Object.entries(manifest.exports as Record<string, unknown>)) {
        if (typeof target === 'string') continue;
        expect({ subpath, target }).toEqual({
          subpath,
          target: { '@baton/source': expect.stringMatching(/^\.\/src\/.*\.ts$/), types: expect.stringMatching(/^\.\/dist\/.*\.d\.ts$/), import: expect.stringMatching(/^\.\/dist\/.*\.js$/) },
        });
      }
    });

    it('has a README with an install line, and the MIT LICENSE', () => {
      const readme = readFileSync(join(dir, 'README.md'), 'utf8');
      expect(readme.startsWith(`# ${manifest.name}\n`)).toBe(true);
      expect(readme).toMatch(new RegExp(`(npm install|pnpm add)[^\\n]* ${manifest.name.replace('/', '\\/')}( |$)`, 'm'));
      expect(manifest.license).toBe('MIT');
      expect(readFileSync(join(dir, 'LICENSE'), 'utf8')).toMatch(/^MIT License\n\nCopyright \(c\) 2026 the Baton authors\n/);
    });

    if (dir.startsWith(join(REPO, 'plugins'))) {
      it('takes @baton/core as a peer dependency, never as a dependency', () => {
        expect(manifest.peerDependencies?.['@baton/core']).toBe('workspace:^');
        expect(manifest.dependencies?.['@baton/core']).toBeUndefined();
      });
    }
  });

  it('has a LICENSE at the root of the repository', () => {
    expect(readFileSync(join(REPO, 'LICENSE'), 'utf8')).toMatch(/^MIT License\n\nCopyright \(c\) 2026 the Baton authors\n/);
  });

  it('@baton/core exports the settings JSON schema, with its $id', () => {
    const core = PACKAGES.find((p) => p.manifest.name === '@baton/core');
    expect((core?.manifest.exports as Record<string, string>)['./settings.schema.json']).toBe('./settings.schema.json');
    const schema = JSON.parse(readFileSync(join(REPO, 'packages', 'core', 'settings.schema.json'), 'utf8')) as { $id?: string };
    expect(schema.$id).toBe(SETTINGS_SCHEMA_ID);
  });

  it('@baton/core exports its launcher conformance kit as built files, Vitest an optional peer', () => {
    const core = PACKAGES.find((p) => p.manifest.name === '@baton/core')!.manifest as Manifest & { peerDependenciesMeta?: Record<string, { optional?: boolean }> };
    expect((core.exports as Record<string, unknown>)['./testing']).toEqual({ '@baton/source': './src/testing/index.ts', types: './dist/testing/index.d.ts', import: './dist/testing/index.js' });
    expect(core.peerDependencies?.vitest).toMatch(/^\^4\./);
    expect(core.peerDependenciesMeta?.vitest).toEqual({ optional: true });
  });

  it('packs what exports, bin, README and LICENSE name, and no test, fixture or test helper (npm pack --dry-run)', async () => {
    // One npm process for every package: npm's own start is most of the time.
    const { stdout } = await promisify(execFile)('npm', ['pack', '--dry-run', '--json', '--ignore-scripts', ...PACKAGES.map((p) => p.dir)], {
      cwd: REPO,
      maxBuffer: 16 * 1024 * 1024,
    });
    const packed = JSON.parse(stdout) as { name: string; files: { path: string }[] }[];
    for (const { manifest } of PACKAGES) {
      const paths = packed.find((p) => p.name === manifest.name)?.files.map((file) => file.path) ?? [];
      // A test kit an export names (`@baton/core/testing`) is published; other test helpers are not.
      const exportedFolders = targets(manifest.exports).map((path) => `${dirname(path.replace(/^\.\//, ''))}/`);
      const unwanted = paths.filter(
        (path) => /\.test\.|(^|\/)__fixtures__\/|^src\/|\.tsbuildinfo$/.test(path) || (/(^|\/)testing\//.test(path) && !exportedFolders.some((folder) => path.startsWith(folder))),
      );
      expect({ name: manifest.name, unwanted }).toEqual({ name: manifest.name, unwanted: [] });
      const wanted = ['package.json', 'README.md', 'LICENSE', ...targets(manifest.exports), ...targets(manifest.bin)].map((path) => path.replace(/^\.\//, ''));
      expect({ name: manifest.name, missing: wanted.filter((path) => !paths.includes(path)) }).toEqual({ name: manifest.name, missing: [] });
    }
  });
});

function publishablePackages(): { dir: string; manifest: Manifest }[] {
  const found: { dir: string; manifest: Manifest }[] = [];
  for (const group of ['packages', 'plugins']) {
    for (const entry of readdirSync(join(REPO, group), { withFileTypes: true })) {
      const dir = join(REPO, group, entry.name);
      if (!entry.isDirectory() || !existsSync(join(dir, 'package.json'))) continue;
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;
      if (!manifest.private) found.push({ dir, manifest });
    }
  }
  return found;
}

/** The file paths named by an `exports` or `bin` field, at any depth of conditions (but the in-repo source condition). */
function targets(field: unknown): string[] {
  if (typeof field === 'string') return [field];
  if (field && typeof field === 'object') {
    return Object.entries(field)
      .filter(([condition]) => condition !== '@baton/source')
      .flatMap(([, target]) => targets(target));
  }
  return [];
}
