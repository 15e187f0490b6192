// A launcher that batches (submitDelayMs) gets the jobs submitted together in
// one call, even when some of them take longer than others to be admitted.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { experiment } from '../experiment/experiment.ts';
import { defineTask } from '../task/defineTask.ts';
import { InProcessLauncher, workspaceWith } from './__fixtures__/inProcessLauncher.ts';
import { MemoryConnector } from './__fixtures__/memoryConnector.ts';

const work = defineTask({ id: 'work', params: z.object({ i: z.number() }), command: (p) => ['echo', String(p.i)] });

/** Files in memory; the first look at the second job's marker takes a while (a loaded machine, a slow file system). */
class SlowSecondLook extends MemoryConnector {
  readonly #seen: string[] = [];

  override async exists(path: string): Promise<boolean> {
    const directory = posix.dirname(path);
    if (path.endsWith('/done') && !this.#seen.includes(directory)) {
      this.#seen.push(directory);
      if (this.#seen.length === 2) await new Promise((resolve) => setTimeout(resolve, 60));
    }
    return super.exists(path);
  }
}

/** Files in memory; writing the second job's files takes longer than a batch delay (a loaded machine). */
class SlowSecondWrite extends MemoryConnector {
  readonly #seen: string[] = [];

  override async writeFile(path: string, data: string): Promise<void> {
    const directory = posix.dirname(path);
    if (path.endsWith('/params.json') && !this.#seen.includes(directory)) {
      this.#seen.push(directory);
      if (this.#seen.length === 2) await new Promise((resolve) => setTimeout(resolve, 300));
    }
    return super.writeFile(path, data);
  }
}

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'baton-batch-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('batches', () => {
  it('waits for jobs still being admitted before it closes the batch', async () => {
    const connector = new SlowSecondLook();
    const launcher = new InProcessLauncher({ runMs: () => 0, submitDelayMs: 100, connector });
    await using xp = await experiment({ name: 'batch', openedWorkspace: workspaceWith(root, [launcher], connector) });
    xp.submit(work, { i: 1 });
    xp.submit(work, { i: 2 });
    const summary = await xp.wait();
    expect(summary.counts.done).toBe(2);
    expect(launcher.batches).toEqual([2]);
  });

  it('keeps the batch open, up to its cap, while a job is still being prepared for the same launcher', async () => {
    const connector = new SlowSecondWrite();
    const launcher = new InProcessLauncher({ runMs: () => 0, submitDelayMs: 100, connector });
    await using xp = await experiment({ name: 'slow-write', openedWorkspace: workspaceWith(root, [launcher], connector) });
    xp.submit(work, { i: 1 });
    xp.submit(work, { i: 2 });
    const summary = await xp.wait();
    expect(summary.counts.done).toBe(2);
    expect(launcher.batches).toEqual([2]);
  });
});
