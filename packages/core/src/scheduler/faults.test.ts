// Faults that many jobs meet at once are told once; each job still fails with its reason.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { LocalConnector } from '../connector/localConnector.ts';
import { experiment } from '../experiment/experiment.ts';
import { setLogSink, type LogRecord } from '../logger.ts';
import { defineTask } from '../task/defineTask.ts';
import { InProcessLauncher, workspaceWith } from './__fixtures__/inProcessLauncher.ts';

const work = defineTask({ id: 'work', params: z.object({ i: z.number() }), command: (p) => ['echo', String(p.i)] });

/** A local connector on a device that filled up: every file write fails with ENOSPC. */
class FullDiskConnector extends LocalConnector {
  full = false;

  override async writeFile(path: string, data: string, options?: { mode?: number }): Promise<void> {
    if (this.full) throw Object.assign(new Error(`ENOSPC: no space left on device, open '${path}'`), { code: 'ENOSPC' });
    return super.writeFile(path, data, options);
  }
}

let root: string;
let records: LogRecord[];
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'baton-faults-'));
  records = [];
  setLogSink((record) => records.push(record));
});
afterEach(async () => {
  setLogSink(undefined);
  await rm(root, { recursive: true, force: true });
});

describe('faults', () => {
  it('disk full: one line naming the cause and the workspace; every job that could not be written fails with a reason', async () => {
    const connector = new FullDiskConnector();
    const launcher = new InProcessLauncher();
    await using xp = await experiment({ name: 'full', openedWorkspace: workspaceWith(root, [launcher], connector) });
    const first = xp.submit(work, { i: 0 });
    await first.wait();
    connector.full = true;
    const jobs = Array.from({ length: 40 }, (_, i) => xp.submit(work, { i: i + 1 }));
    const summary = await xp.wait();
    expect(first.state).toBe('done');
    expect(summary.failed).toHaveLength(40);
    for (const job of jobs) expect(job.failure?.message).toMatch(/no space left on the device of the workspace/);
    expect(launcher.submitted).toHaveLength(1);
    const told = records.filter((record) => record.level !== 'debug');
    expect(told).toEqual([expect.objectContaining({ level: 'error', message: expect.stringContaining(`no space left on the device of workspace ${root}`) })]);
  });
});
