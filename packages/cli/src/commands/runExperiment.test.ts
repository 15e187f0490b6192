import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runBaton } from '../testing/runBaton.ts';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'baton-cli-run-'));
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

describe('baton run-experiment', () => {
  it('--show prints the configuration merged from parent, --pre-yaml, the file, --post-yaml and -c', async () => {
    await write('configs/base.yaml', 'id: base\nlr: 0.1\nmodel: { layers: 2, width: 64 }\ntags: [a]\n');
    await write('configs/full.yaml', 'parent: base.yaml\nid: full\nmodel: { width: 128 }\n');
    await write('pre.yaml', 'seed: 1\nlr: 0.5\n');
    await write('post.yaml', 'seed: 2\n');

    const result = await runBaton(
      ['run-experiment', 'configs/full.yaml', '--pre-yaml', 'pre.yaml', '--post-yaml', 'post.yaml', '-c', 'lr=1e-4', '--config', 'tags=[x,y]', '--show'],
      { cwd: dir },
    );

    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(parse(result.stdout)).toEqual({ id: 'full', seed: 2, lr: 0.0001, model: { layers: 2, width: 128 }, tags: ['x', 'y'] });
  });

  it('exits 2 and names the chain on a parent cycle', async () => {
    await write('a.yaml', 'parent: b.yaml\nid: a\n');
    await write('b.yaml', 'parent: a.yaml\n');
    const result = await runBaton(['run-experiment', 'a.yaml', '--show'], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('a.yaml → b.yaml → a.yaml');
    expect(result.stderr).toContain('fix:');
  });

  it('exits 2 on malformed YAML, with file:line:col', async () => {
    const file = await write('bad.yaml', 'id: x\nlist: [1, 2\nnext: 3\n');
    const result = await runBaton(['run-experiment', 'bad.yaml', '--show'], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${file}:3:1`);
  });

  it('exits 2 on a malformed -c', async () => {
    await write('xp.yaml', 'id: x\n');
    const result = await runBaton(['run-experiment', 'xp.yaml', '-c', 'lr', '--show'], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('key.path=value');
  });

  it.each([
    [['--run-mode', 'fast'], 'Allowed choices are normal, generate, dry-run'],
    [['--port', '70000'], 'at most 65535'],
    [['--port', 'http'], 'expected an integer'],
    [['--host', ''], 'expected a host name'],
    [['--env', 'NOT-A-NAME'], 'expected --env NAME VALUE'],
  ])('exits 2 on bad option values: %s', async (args, message) => {
    await write('xp.yaml', 'id: x\n');
    const result = await runBaton(['run-experiment', 'xp.yaml', ...args, '--show'], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
  });

  it('accepts a negative port (no monitor) and --env NAME VALUE pairs', async () => {
    await write('xp.yaml', 'id: x\n');
    const result = await runBaton(['run-experiment', 'xp.yaml', '--port', '-1', '--env', 'A', '1', '--env', 'B=2', '--show'], { cwd: dir });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(parse(result.stdout)).toEqual({ id: 'x' });
  });

  it('exits 2 when the module does not export an experiment', async () => {
    await write('xp.yaml', 'id: x\nfile: lib/experiment\n');
    const module = await write('lib/experiment.ts', 'export const answer: number = 42;\n');
    const result = await runBaton(['run-experiment', 'xp.yaml'], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${module} does not export an experiment`);
    expect(result.stderr).toContain('defineExperiment');
  });

  it('exits 2 when the module cannot be found', async () => {
    await write('xp.yaml', 'id: x\nfile: missing\n');
    const result = await runBaton(['run-experiment', 'xp.yaml'], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(join(dir, 'missing'));
    expect(result.stderr).toContain('.mjs');
  });
});
