import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalConnector, type Connector } from '@baton/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lastLines, readFileTail } from './fileTail.ts';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'baton-file-tail-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A connector to "another host" that is this one: what it runs, runs here, so `tail -c` really runs. */
function otherHost(): { connector: Connector; commands: string[][] } {
  const local = new LocalConnector();
  const commands: string[][] = [];
  const connector = Object.assign(Object.create(local) as Connector, {
    kind: 'remote',
    run: (argv: readonly string[], options?: Parameters<Connector['run']>[1]) => {
      commands.push([...argv]);
      return local.run(argv, options);
    },
  });
  return { connector, commands };
}

describe('readFileTail', () => {
  it('reads only the end of a long file, from its first whole line, here and through a connector', async () => {
    const path = join(dir, 'stderr');
    await writeFile(path, Array.from({ length: 100_000 }, (_, i) => `line ${i + 1}`).join('\n') + '\n');
    const here = await readFileTail({ path, bytes: 1000 });
    expect(here!.length).toBeLessThanOrEqual(1000);
    expect(here!.startsWith('line ')).toBe(true);
    expect(lastLines(here!, 3)).toEqual(['line 99998', 'line 99999', 'line 100000']);

    const { connector, commands } = otherHost();
    const there = await readFileTail({ path, bytes: 1000, connector });
    expect(there).toBe(here);
    expect(commands).toEqual([['tail', '-c', '1000', path]]);
  });

  it('gives a short file whole, and undefined for a missing one', async () => {
    const path = join(dir, 'stderr');
    await writeFile(path, 'only\n');
    expect(await readFileTail({ path })).toBe('only\n');
    expect(await readFileTail({ path, connector: otherHost().connector })).toBe('only\n');
    expect(await readFileTail({ path: join(dir, 'missing') })).toBeUndefined();
    expect(await readFileTail({ path: join(dir, 'missing'), connector: otherHost().connector })).toBeUndefined();
  });
});

describe('lastLines', () => {
  it('counts a final newline as the end of the last line, and gives none for an empty text or a count of 0', () => {
    expect(lastLines('a\nb\nc\n', 2)).toEqual(['b', 'c']);
    expect(lastLines('a\nb', 5)).toEqual(['a', 'b']);
    expect(lastLines('', 3)).toEqual([]);
    expect(lastLines('a\n', 0)).toEqual([]);
  });
});
