import { existsSync } from 'node:fs';
import { appendFile, mkdir, mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RunJobIndex, jobLinkName, readRunJobs, runJobIndexPath } from './runFolder.ts';

const HASH_A = 'a'.repeat(64);
const HASH_B = 'b'.repeat(64);
let root: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'baton-run-folder-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('the run job index', () => {
  it('appends the jobs of one tick in one write, in submit order, and says when they are in the file', async () => {
    const errors: unknown[] = [];
    const index = new RunJobIndex({ runPath: root, onError: (error) => errors.push(error) });
    index.add({ taskId: 'train "x"', hash: HASH_A });
    index.add({ taskId: 'eval', hash: HASH_B });
    await index.flushed();
    expect(await readFile(index.path, 'utf8')).toBe(`${JSON.stringify({ taskId: 'train "x"', hash: HASH_A })}\n${JSON.stringify({ taskId: 'eval', hash: HASH_B })}\n`);
    expect(await readRunJobs(root)).toEqual([
      { taskId: 'train "x"', hash: HASH_A },
      { taskId: 'eval', hash: HASH_B },
    ]);
    expect(errors).toEqual([]);
  });

  it('tells an append that failed and goes on', async () => {
    const errors: unknown[] = [];
    const index = new RunJobIndex({ runPath: join(root, 'gone'), onError: (error) => errors.push(error) });
    index.add({ taskId: 'train', hash: HASH_A });
    await index.flushed();
    expect(errors).toHaveLength(1);
  });

  it('reads the jobs/ links of a run written by an earlier version, and skips a line cut short', async () => {
    const legacy = join(root, 'old-run');
    await mkdir(join(legacy, 'jobs'), { recursive: true });
    await symlink(join(root, 'ws', 'jobs', 'train', HASH_A), join(legacy, 'jobs', jobLinkName('train', HASH_A)));
    expect(await readRunJobs(legacy)).toEqual([{ taskId: 'train', hash: HASH_A }]);
    expect(runJobIndexPath(legacy, existsSync)).toBe(join(legacy, 'jobs'));

    const current = join(root, 'new-run');
    await mkdir(current);
    await appendFile(join(current, 'jobs.jsonl'), `${JSON.stringify({ taskId: 'train', hash: HASH_B })}\n{"taskId":"tr`);
    expect(await readRunJobs(current)).toEqual([{ taskId: 'train', hash: HASH_B }]);
    expect(runJobIndexPath(current, existsSync)).toBe(join(current, 'jobs.jsonl'));
  });
});
