import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UserInputError } from '../errors.ts';
import { loadConfiguration } from './configurationFile.ts';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'baton-configuration-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function write(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, text);
  return path;
}

async function loadError(options: Parameters<typeof loadConfiguration>[0]): Promise<UserInputError> {
  const error = await loadConfiguration(options).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UserInputError);
  return error as UserInputError;
}

describe('loadConfiguration', () => {
  it('merges the parent chain (relative to each file) before the file, and drops the parent key', async () => {
    await write('base/root.yaml', 'id: root\nmodel: { layers: 2, width: 64 }\ntags: [a, b]\nlr: 0.1\n');
    await write('base/middle.yaml', 'parent: root.yaml\nmodel: { width: 128 }\ntags: [c]\n');
    const main = await write('xp/full.yaml', 'parent: ../base/middle.yaml\nid: full\nlr: 1e-4\n');

    const loaded = await loadConfiguration({ file: main });

    expect(loaded.configuration).toEqual({ id: 'full', model: { layers: 2, width: 128 }, tags: ['c'], lr: 0.0001 });
    expect(loaded.files).toEqual([join(dir, 'base/root.yaml'), join(dir, 'base/middle.yaml'), main]);
    expect(loaded.directory).toBe(join(dir, 'xp'));
  });

  it('applies --pre-yaml, the main file, --post-yaml then -c overrides, in that order', async () => {
    const pre = await write('pre.yaml', 'id: pre\na: pre\nb: pre\nc: pre\nnested: { x: 1, y: 1 }\n');
    const main = await write('main.yaml', 'id: main\nb: main\nc: main\nnested: { y: 2 }\n');
    const post = await write('post.yaml', 'c: post\n');

    const loaded = await loadConfiguration({
      file: main,
      preYaml: [pre],
      postYaml: [post],
      overrides: ['nested.z=3', 'lr=1e-4', 'tags=[a,b]', 'name=hello', 'fresh.deep.key=true'],
    });

    expect(loaded.configuration).toEqual({
      id: 'main',
      a: 'pre',
      b: 'main',
      c: 'post',
      nested: { x: 1, y: 2, z: 3 },
      lr: 0.0001,
      tags: ['a', 'b'],
      name: 'hello',
      fresh: { deep: { key: true } },
    });
    expect(loaded.files).toEqual([pre, main, post]);
  });

  it('refuses an empty file, or one with only comments, as an empty configuration', async () => {
    for (const text of ['', '# nothing yet\n\n  # really\n', '---\n']) {
      const main = await write('main.yaml', text);
      const error = await loadError({ file: main });
      expect(error.message).toMatch(/^Empty configuration: /);
      expect(error.message).toContain(main);
      expect(error.hint).toMatch(/id: my-experiment/);
      expect(error.exitCode).toBe(2);
    }
  });

  it('names the file that names an empty parent', async () => {
    await write('base.yaml', '# to do\n');
    const main = await write('main.yaml', 'parent: base.yaml\nid: x\n');
    const error = await loadError({ file: main });
    expect(error.message).toContain(join(dir, 'base.yaml'));
    expect(error.where).toBe(`"parent" in ${main}`);
  });

  it('reports a parent cycle with the whole chain', async () => {
    await write('a.yaml', 'parent: b.yaml\n');
    await write('b.yaml', 'parent: a.yaml\n');
    const error = await loadError({ file: join(dir, 'a.yaml') });
    expect(error.message).toContain('a.yaml → b.yaml → a.yaml');
    expect(error.hint).toMatch(/parent/);
  });

  it('reports a missing main file and a missing parent with the file that names it', async () => {
    expect((await loadError({ file: join(dir, 'nope.yaml') })).message).toContain(join(dir, 'nope.yaml'));

    const main = await write('main.yaml', 'parent: gone.yaml\n');
    const error = await loadError({ file: main });
    expect(error.message).toContain(join(dir, 'gone.yaml'));
    expect(error.where).toContain(main);
  });

  it('reports malformed YAML with file:line:col', async () => {
    const main = await write('bad.yaml', 'id: x\nlist: [1, 2\nother: 3\n');
    const error = await loadError({ file: main });
    expect(error.message).toContain(`${main}:3:1`);
    // yaml gives up a line below the mistake: the message says where the bracket opened.
    expect(error.message).toContain('(the [ opened at line 2, column 7)');
  });

  it('names where an unclosed quote opened, which yaml reports at the end of the file', async () => {
    const main = await write('quote.yaml', 'id: x\nname: "unclosed\nlr: 0.1\nseed: 1\n');
    const error = await loadError({ file: main });
    expect(error.message).toContain(`${main}:5:1: Missing closing "quote (the quote opened at line 2, column 7)`);
  });

  it('rejects a top level that is not a mapping', async () => {
    const main = await write('list.yaml', '- a\n- b\n');
    expect((await loadError({ file: main })).message).toMatch(/must be a mapping.*a list/);
  });

  it('rejects malformed overrides and paths through non-objects', async () => {
    const main = await write('main.yaml', 'lr: 0.1\ntags: [a]\n');
    expect((await loadError({ file: main, overrides: ['lr'] })).message).toContain('expected key.path=value');
    expect((await loadError({ file: main, overrides: ['=3'] })).message).toContain('expected key.path=value');
    expect((await loadError({ file: main, overrides: ['a..b=3'] })).message).toContain('Malformed key path');
    expect((await loadError({ file: main, overrides: ['lr.x=3'] })).message).toContain('"lr" is a number');
    expect((await loadError({ file: main, overrides: ['tags.0=x'] })).message).toContain('"tags" is a list');
    expect((await loadError({ file: main, overrides: ['tags=[a,'] })).message).toContain('Malformed value');
  });
});
