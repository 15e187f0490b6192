// The code cache of the vendored CommonJS bundles: a second load takes V8's code from
// the cache folder; an edited file, a damaged cache or a folder others can write to
// never give code that does not belong; without a usable folder it is plain compiling.
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CODE_CACHE_ENV, codeCacheDir, codeCacheUse, requireWithCodeCache, writeCodeCaches } from './codeCache.ts';

let root: string;
let cacheBase: string;
const savedSetting = process.env[CODE_CACHE_ENV];

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'baton-code-cache-'));
  cacheBase = join(root, 'cache');
  process.env[CODE_CACHE_ENV] = cacheBase;
});
afterEach(() => {
  if (savedSetting === undefined) delete process.env[CODE_CACHE_ENV];
  else process.env[CODE_CACHE_ENV] = savedSetting;
  rmSync(root, { recursive: true, force: true });
});

/** A self-contained CommonJS file, as the build vendors them: requires a built-in, sets module.exports. */
function bundle(folder: string, answer: number, name = 'vendored.cjs'): string {
  mkdirSync(join(root, folder), { recursive: true });
  const path = join(root, folder, name);
  writeFileSync(path, `const { join } = require('node:path');\nmodule.exports = { answer: () => ${answer}, joined: join('a', 'b'), self: this === module.exports, file: __filename };\n`);
  return path;
}

/** Loads the file at `path` as a new process would (each test file path is loaded once per process). */
function load(path: string): { answer: () => number; joined: string; self: boolean; file: string } {
  return requireWithCodeCache(path, createRequire(path)) as ReturnType<typeof load>;
}

const cacheFolder = () => codeCacheDir()!;
const cacheFiles = () => readdirSync(cacheFolder()).filter((name) => name.endsWith('.v8'));

describe('code cache of vendored CommonJS files', () => {
  it('compiles a file once, keeps its code, and takes it from the cache the next time', () => {
    const first = bundle('run1', 42);
    const loaded = load(first);
    expect(loaded.answer()).toBe(42);
    // A CommonJS module as require runs it: its own require, `this` is module.exports, __filename.
    expect(loaded).toMatchObject({ joined: join('a', 'b'), self: true, file: first });
    expect(codeCacheUse(first)).toBe('compiled');
    // The same object for the same path, as require gives.
    expect(load(first)).toBe(loaded);
    writeCodeCaches();
    expect(cacheFiles()).toHaveLength(1);
    // Only the user may read or write what will run.
    expect(statSync(cacheFolder()).mode & 0o777).toBe(0o700);
    expect(statSync(join(cacheFolder(), cacheFiles()[0]!)).mode & 0o777).toBe(0o600);

    // The same file installed elsewhere (another process, a new path here): its code comes from the cache.
    const second = join(root, 'run2', 'vendored.cjs');
    mkdirSync(join(root, 'run2'));
    copyFileSync(first, second);
    expect(load(second).answer()).toBe(42);
    expect(codeCacheUse(second)).toBe('cached');
  });

  it('never runs the code of another version of the file: an edited file is compiled anew', () => {
    const before = bundle('v1', 1);
    load(before);
    writeCodeCaches();
    // Same name and length, another text.
    const after = bundle('v2', 2);
    expect(load(after).answer()).toBe(2);
    expect(codeCacheUse(after)).toBe('compiled');
    writeCodeCaches();
    expect(cacheFiles()).toHaveLength(2);
  });

  it('compiles a file whose cached code is damaged, and writes good code in its place', () => {
    const first = bundle('damaged1', 7);
    load(first);
    writeCodeCaches();
    const [name] = cacheFiles();
    writeFileSync(join(cacheFolder(), name!), Buffer.from('not V8 code at all'));
    const second = bundle('damaged2', 7);
    expect(load(second).answer()).toBe(7);
    expect(codeCacheUse(second)).toBe('compiled');
    writeCodeCaches();
    const third = bundle('damaged3', 7);
    expect(load(third).answer()).toBe(7);
    expect(codeCacheUse(third)).toBe('cached');
  });

  it('does not take code from a folder that others can write to', () => {
    const first = bundle('open1', 3);
    load(first);
    writeCodeCaches();
    chmodSync(cacheFolder(), 0o777);
    const second = bundle('open2', 3);
    expect(load(second).answer()).toBe(3);
    expect(codeCacheUse(second)).toBe('compiled');
  });

  it('works without a cache: turned off, or where none can be written', () => {
    process.env[CODE_CACHE_ENV] = 'off';
    const off = bundle('off', 5);
    expect(load(off).answer()).toBe(5);
    expect(codeCacheUse(off)).toBe('plain');

    // A file where the folder should be: nothing can be written, nothing breaks.
    const blocked = join(root, 'blocked');
    writeFileSync(blocked, '');
    process.env[CODE_CACHE_ENV] = blocked;
    const unwritable = bundle('unwritable', 6);
    expect(load(unwritable).answer()).toBe(6);
    expect(codeCacheUse(unwritable)).toBe('compiled');
    expect(() => writeCodeCaches()).not.toThrow();
  });

  it('keeps its folder under the user cache folder, per Node version', () => {
    const version = `${process.version}-${process.arch}`;
    expect(codeCacheDir({ XDG_CACHE_HOME: '/x/cache' }, () => '/home/u')).toBe(`/x/cache/baton/code-cache/${version}`);
    expect(codeCacheDir({}, () => '/home/u')).toBe(`/home/u/.cache/baton/code-cache/${version}`);
    expect(codeCacheDir({ [CODE_CACHE_ENV]: '/tmp/c' }, () => '/home/u')).toBe(`/tmp/c/${version}`);
    for (const off of ['off', '0', 'false', 'NO']) expect(codeCacheDir({ [CODE_CACHE_ENV]: off }, () => '/home/u')).toBeUndefined();
    expect(codeCacheDir({}, () => '')).toBeUndefined();
  });
});
