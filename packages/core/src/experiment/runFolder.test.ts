import { appendFile, mkdir, mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalConnector } from '../connector/localConnector.ts';
import { MemoryConnector } from '../scheduler/__fixtures__/memoryConnector.ts';
import { RunJobIndex, jobLinkName, openRun, readRunJobs, runJobIndexPath } from './runFolder.ts';

const HASH_A = 'a'.repeat(64);
const HASH_B = 'b'.repeat(64);
const connector = new LocalConnector();
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
    const index = new RunJobIndex({ connector, runPath: root, onError: (error) => errors.push(error) });
    index.add({ taskId: 'train "x"', hash: HASH_A });
    index.add({ taskId: 'eval', hash: HASH_B });
    await index.flushed();
    expect(await readFile(index.path, 'utf8')).toBe(`${JSON.stringify({ taskId: 'train "x"', hash: HASH_A })}\n${JSON.stringify({ taskId: 'eval', hash: HASH_B })}\n`);
    expect(await readRunJobs(connector, root)).toEqual([
      { taskId: 'train "x"', hash: HASH_A },
      { taskId: 'eval', hash: HASH_B },
    ]);
    expect(errors).toEqual([]);
  });

  it('tells an append that failed and goes on', async () => {
    const errors: unknown[] = [];
    const index = new RunJobIndex({ connector, runPath: join(root, 'gone'), onError: (error) => errors.push(error) });
    index.add({ taskId: 'train', hash: HASH_A });
    await index.flushed();
    expect(errors).toHaveLength(1);
  });

  it('reads the jobs/ links of a run written by an earlier version, and skips a line cut short', async () => {
    const legacy = join(root, 'old-run');
    await mkdir(join(legacy, 'jobs'), { recursive: true });
    await symlink(join(root, 'ws', 'jobs', 'train', HASH_A), join(legacy, 'jobs', jobLinkName('train', HASH_A)));
    expect(await readRunJobs(connector, legacy)).toEqual([{ taskId: 'train', hash: HASH_A }]);
    expect(await runJobIndexPath(connector, legacy)).toBe(join(legacy, 'jobs'));

    const current = join(root, 'new-run');
    await mkdir(current);
    await appendFile(join(current, 'jobs.jsonl'), `${JSON.stringify({ taskId: 'train', hash: HASH_B })}\n{"taskId":"tr`);
    expect(await readRunJobs(connector, current)).toEqual([{ taskId: 'train', hash: HASH_B }]);
    expect(await runJobIndexPath(connector, current)).toBe(join(current, 'jobs.jsonl'));
  });
});

describe('a run folder through its connector', () => {
  // The workspace lives where the connector reaches (another host): nothing touches this disk.
  const base = '/remote/ws/experiments/train';
  const date = new Date('2026-01-02T03:04:05.678Z');

  it('makes the run folder, its results/ and data/, and points current at it', async () => {
    const memory = new MemoryConnector();
    const run = await openRun({ connector: memory, base, date, dryRun: false });
    expect(run).toEqual({ runId: '20260102T030405-678', path: `${base}/20260102T030405-678`, previousRun: undefined, previousIndex: undefined, olderIndexes: [] });
    expect(memory.directories).toContain(`${run.path}/results`);
    expect(memory.directories).toContain(`${run.path}/data`);
    expect(await memory.readlink(`${base}/current`)).toBe(run.runId);
    // The temporary link was renamed over current: nothing else is left beside the run.
    expect((await memory.readdir(base)).sort()).toEqual([run.runId, 'current'].sort());

    const index = new RunJobIndex({ connector: memory, runPath: run.path, onError: (error) => expect.unreachable(String(error)) });
    index.add({ taskId: 'train', hash: HASH_A });
    await index.flushed();
    expect(memory.files.get(`${run.path}/jobs.jsonl`)).toBe(`${JSON.stringify({ taskId: 'train', hash: HASH_A })}\n`);
    expect(await readRunJobs(memory, run.path)).toEqual([{ taskId: 'train', hash: HASH_A }]);
  });

  it('takes the next free name when a run of the same instant exists, and knows the earlier runs, newest first', async () => {
    const memory = new MemoryConnector();
    const first = await openRun({ connector: memory, base, date, dryRun: false });
    await memory.appendFile(`${first.path}/jobs.jsonl`, '');
    const second = await openRun({ connector: memory, base, date, dryRun: false });
    expect(second.runId).toBe(`${first.runId}-1`);
    expect(second).toMatchObject({ previousRun: first.runId, previousIndex: `${first.path}/jobs.jsonl`, olderIndexes: [] });
    // A run of an earlier version: a jobs/ folder of links.
    await memory.mkdir(`${second.path}/jobs`);
    const third = await openRun({ connector: memory, base, date, dryRun: false });
    expect(third).toMatchObject({ runId: `${first.runId}-2`, previousRun: second.runId, previousIndex: `${second.path}/jobs`, olderIndexes: [`${first.path}/jobs.jsonl`] });
    expect(await memory.readlink(`${base}/current`)).toBe(third.runId);
  });

  it('writes nothing in a dry run', async () => {
    const memory = new MemoryConnector();
    const run = await openRun({ connector: memory, base, date, dryRun: true });
    expect(run.path).toBe(`${base}/${run.runId}`);
    expect(memory.files.size).toBe(0);
    expect([...memory.directories]).toEqual(['/']);
  });
});
