import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalConnector } from '../connector/localConnector.ts';
import type { LaunchHandle } from '../types.ts';
import { missingJobStatus } from './clusterHandles.ts';

const connector = new LocalConnector();
let directory: string;

beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'baton-missing-job-'));
});

afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

function handle(submittedAgoMs: number): LaunchHandle {
  return { launcher: 'cluster', kind: 'slurm', host: 'login', directory, clusterId: '42_1', submittedAt: new Date(Date.now() - submittedAgoMs).toISOString() };
}

const common = { connector, scheduler: 'SLURM', graceMs: 30_000, notListed: 'is listed neither by sacct nor by squeue' };

describe('a job the scheduler no longer lists', () => {
  it('is queued during the grace period after its submission', async () => {
    expect(await missingJobStatus({ ...common, handle: handle(1_000) })).toMatchObject({ state: 'queued' });
  });

  it('is lost after it when it left no marker, and finished when it left one', async () => {
    expect(await missingJobStatus({ ...common, handle: handle(60_000) })).toMatchObject({ state: 'finished', failure: { reason: 'lost' } });
    await writeFile(join(directory, 'done'), '{}');
    expect(await missingJobStatus({ ...common, handle: handle(60_000) })).toEqual({ state: 'finished' });
  });

  it('was cancelled, not lost, when the launcher cancelled it before it started (a pending SLURM array task cancelled alone leaves no record)', async () => {
    expect(await missingJobStatus({ ...common, handle: handle(60_000), cancelled: true })).toMatchObject({
      state: 'finished',
      failure: { reason: 'cancelled', message: expect.stringContaining('SLURM job 42_1 was cancelled before it started') },
    });
  });
});
