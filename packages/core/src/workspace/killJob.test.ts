import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LocalConnector } from '../connector/localConnector.ts';
import type { LaunchHandle, Launcher } from '../types.ts';
import type { JobRecord } from './jobCatalog.ts';
import { killJob } from './killJob.ts';

const connector = new LocalConnector();
let root: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'baton-kill-job-'));
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function record(state: JobRecord['state'], handle?: Partial<LaunchHandle>): Promise<JobRecord> {
  const directory = join(root, 'jobs', 'train', 'a1b2c3');
  await mkdir(directory, { recursive: true });
  const full: LaunchHandle | undefined = handle && { launcher: 'gpu', kind: 'slurm', host: 'cluster', directory, submittedAt: new Date().toISOString(), ...handle };
  return { taskId: 'train', hash: 'a1b2c3', directory, state, experiments: [], ...(full ? { handle: full } : {}) };
}

function fakeLauncher(): Launcher & { cancel: ReturnType<typeof vi.fn> } {
  return { name: 'gpu', kind: 'slurm', connector, host: {}, pollIntervalMs: 1000, submit: vi.fn(), status: vi.fn(), cancel: vi.fn(async () => undefined) };
}

describe('killJob', () => {
  it('has nothing to kill in a finished job, or one never started', async () => {
    const launcher = vi.fn();
    expect(await killJob({ job: await record('done'), connector, by: 'test', launcher })).toEqual({ outcome: 'nothing', message: 'already done, nothing to kill' });
    expect(await killJob({ job: await record('queued'), connector, by: 'test', launcher })).toEqual({ outcome: 'nothing', message: 'not started (no process.json), nothing to kill' });
    expect(launcher).not.toHaveBeenCalled();
  });

  it('cancels through the launcher it is given and writes the cancelled marker, naming who killed it', async () => {
    const launcher = fakeLauncher();
    const job = await record('running', { clusterId: '42' });
    const result = await killJob({ job, connector, by: 'the monitor', launcher: async () => launcher });
    expect(result).toEqual({ outcome: 'killed', message: 'killed' });
    expect(launcher.cancel).toHaveBeenCalledWith([job.handle]);
    expect(JSON.parse(await readFile(join(job.directory, 'failed'), 'utf8'))).toEqual({ code: null, reason: 'cancelled', message: 'killed by the monitor' });
  });

  it("keeps the job's own marker when it wrote one on SIGTERM", async () => {
    const job = await record('running', { clusterId: '42' });
    await writeFile(join(job.directory, 'failed'), '{"code":143,"reason":"cancelled","message":"SIGTERM"}');
    await killJob({ job, connector, by: 'test', launcher: async () => fakeLauncher() });
    expect(await readFile(join(job.directory, 'failed'), 'utf8')).toContain('SIGTERM');
  });

  it('refuses, with what to do, when no launcher can cancel it', async () => {
    const result = await killJob({ job: await record('queued', { clusterId: '42' }), connector, by: 'test', launcher: async () => undefined });
    expect(result).toEqual({
      outcome: 'refused',
      message: 'cannot cancel a slurm job on cluster without its launcher "gpu"',
      hint: 'run this command with the --workspace that declares launcher "gpu", or cancel cluster job 42 with the scheduler\'s own command',
    });
  });

  it('tells the launcher lookup whether the job is a local one on this host, and skips one whose process is gone', async () => {
    const launcher = vi.fn(async () => undefined);
    const gone = await record('incomplete', { kind: 'local', host: connector.hostname, pid: 999_999 });
    expect(await killJob({ job: gone, connector, by: 'test', launcher })).toEqual({ outcome: 'nothing', message: 'its process is gone, nothing to kill' });
    const running = await record('running', { kind: 'local', host: connector.hostname, pid: 999_999 });
    await killJob({ job: running, connector, by: 'test', launcher });
    expect(launcher).toHaveBeenCalledWith(running.handle, { isLocalHere: true });
  });
});
