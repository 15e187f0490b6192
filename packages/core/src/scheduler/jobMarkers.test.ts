import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalConnector } from '../connector/localConnector.ts';
import type { FailureInfo } from '../types.ts';
import {
  launcherMayKnowBetter,
  readMarkers,
  settleFailure,
  writeDoneMarker,
  writeDoneMarkerSync,
  writeFailedMarker,
  writeFailedMarkerSync,
} from './jobMarkers.ts';

const connector = new LocalConnector();
let directory: string;

beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'baton-markers-'));
});

afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe('readMarkers', () => {
  it('reads the provenance of job.sh markers', async () => {
    await writeFile(join(directory, 'done'), '{"code":0,"start":1796135000.25,"end":1796135000.5,"host":"node1"}\n');
    expect(await readMarkers(connector, directory)).toEqual({
      state: 'done',
      provenance: { startedAt: '2026-12-01T14:23:20.250Z', endedAt: '2026-12-01T14:23:20.500Z', durationSeconds: 0.25, host: 'node1', exitCode: 0 },
    });
  });

  it('reads the peak memory a marker records, and leaves out a value that is not a positive whole number of bytes', async () => {
    await writeFile(join(directory, 'done'), '{"code":0,"start":1796135000.25,"end":1796135000.5,"host":"node1","peakRssBytes":52428800}\n');
    expect(await readMarkers(connector, directory)).toMatchObject({ state: 'done', provenance: { host: 'node1', exitCode: 0, peakRssBytes: 52428800 } });
    for (const junk of ['0', '-5', '1.5', '"52428800"', 'null']) {
      await writeFile(join(directory, 'done'), `{"code":0,"host":"node1","peakRssBytes":${junk}}\n`);
      expect(await readMarkers(connector, directory)).toEqual({ state: 'done', provenance: { host: 'node1', exitCode: 0 } });
    }
  });

  it('reads a job.sh marker written before peak memory was recorded: the same provenance, no peak', async () => {
    await writeFile(join(directory, 'failed'), '{"code":3,"reason":"failed","message":"exited with code 3","start":1796135000.25,"end":1796135001.25,"host":"node1"}\n');
    const markers = await readMarkers(connector, directory);
    expect(markers).toEqual({
      state: 'failed',
      failure: { code: 3, reason: 'failed', message: 'exited with code 3' },
      provenance: { startedAt: '2026-12-01T14:23:20.250Z', endedAt: '2026-12-01T14:23:21.250Z', durationSeconds: 1, host: 'node1', exitCode: 3 },
    });
    expect(markers.state === 'failed' && 'peakRssBytes' in markers.provenance!).toBe(false);
  });

  it('reads markers of earlier versions: an empty done, a failed marker without provenance, a marker that is not JSON', async () => {
    await writeFile(join(directory, 'done'), '');
    expect(await readMarkers(connector, directory)).toEqual({ state: 'done' });
    await rm(join(directory, 'done'));
    await writeFile(join(directory, 'failed'), '{"code":null,"reason":"lost","message":"gone"}\n');
    expect(await readMarkers(connector, directory)).toEqual({ state: 'failed', failure: { code: null, reason: 'lost', message: 'gone' } });
    await writeFile(join(directory, 'failed'), 'killed\n');
    expect(await readMarkers(connector, directory)).toEqual({ state: 'failed', failure: { code: null, reason: 'failed', message: 'killed' } });
    await rm(join(directory, 'failed'));
    expect(await readMarkers(connector, directory)).toEqual({ state: 'none' });
  });
});

describe('writeFailedMarker', () => {
  it("keeps the provenance of the marker it replaces, in job.sh's format", async () => {
    await writeFile(join(directory, 'failed'), '{"code":143,"reason":"cancelled","message":"terminated by SIGTERM","start":1796135000,"end":1796135060.5,"host":"n1"}\n');
    const before = await readMarkers(connector, directory);
    if (before.state !== 'failed') throw new Error('expected a failed marker');
    await writeFailedMarker(connector, directory, { code: 143, reason: 'timeout', message: 'time limit' }, before.provenance);
    expect(JSON.parse(await readFile(join(directory, 'failed'), 'utf8'))).toEqual({
      code: 143,
      reason: 'timeout',
      message: 'time limit',
      start: 1796135000,
      end: 1796135060.5,
      host: 'n1',
    });
  });

  it('keeps the peak memory of the marker it replaces', async () => {
    await writeFile(join(directory, 'failed'), '{"code":137,"reason":"failed","message":"exited with code 137","start":1796135000,"end":1796135060.5,"host":"n1","peakRssBytes":4294967296}\n');
    const before = await readMarkers(connector, directory);
    if (before.state !== 'failed') throw new Error('expected a failed marker');
    await writeFailedMarker(connector, directory, { code: 137, reason: 'oom', message: 'out of memory' }, before.provenance);
    expect(JSON.parse(await readFile(join(directory, 'failed'), 'utf8'))).toMatchObject({ reason: 'oom', host: 'n1', peakRssBytes: 4294967296 });
    expect(await readMarkers(connector, directory)).toMatchObject({ state: 'failed', provenance: { peakRssBytes: 4294967296 } });
  });
});

describe('writeDoneMarker, writeFailedMarkerSync', () => {
  const start = Date.parse('2026-12-01T14:23:20.254Z');
  const end = Date.parse('2026-12-01T14:23:21.5Z');

  it("write job.sh's format (seconds to the hundredth), which readMarkers reads back", async () => {
    await writeDoneMarker(connector, directory, { start, end, host: 'n1' });
    expect(await readFile(join(directory, 'done'), 'utf8')).toBe('{"code":0,"start":1796135000.25,"end":1796135001.5,"host":"n1"}\n');
    expect(await readMarkers(connector, directory)).toEqual({
      state: 'done',
      provenance: { startedAt: '2026-12-01T14:23:20.250Z', endedAt: '2026-12-01T14:23:21.500Z', durationSeconds: 1.25, host: 'n1', exitCode: 0 },
    });
    await rm(join(directory, 'done'));
    writeDoneMarkerSync(directory, { start, end, host: 'n1' });
    expect(await readFile(join(directory, 'done'), 'utf8')).toBe('{"code":0,"start":1796135000.25,"end":1796135001.5,"host":"n1"}\n');
  });

  it('writes a failed marker whole (beside it, then renamed), with only the times it knows', async () => {
    writeFailedMarkerSync(directory, { code: 3, reason: 'failed', message: 'bad' }, { end, host: 'n1' });
    expect(JSON.parse(await readFile(join(directory, 'failed'), 'utf8'))).toEqual({ code: 3, reason: 'failed', message: 'bad', end: 1796135001.5, host: 'n1' });
    expect(existsSync(join(directory, 'failed.tmp'))).toBe(false);
    await rm(directory, { recursive: true });
    expect(() => writeFailedMarkerSync(directory, { code: 1, reason: 'failed', message: 'x' })).toThrow(/ENOENT/);
  });
});

describe('settleFailure', () => {
  const signalled: FailureInfo = { code: 143, reason: 'cancelled', message: 'terminated by SIGTERM' };
  const timeout: FailureInfo = { code: null, reason: 'timeout', message: 'SLURM job 7 reached its time limit' };

  it("takes the launcher's reason over the signal job.sh saw, and says to rewrite the marker", () => {
    expect(settleFailure({ marker: signalled, launcher: timeout, cancelRequested: false })).toEqual({
      failure: { code: 143, reason: 'timeout', message: 'SLURM job 7 reached its time limit' },
      rewrite: true,
    });
    // A command killed (SIGKILL: 137) by the out-of-memory killer.
    const killed: FailureInfo = { code: 137, reason: 'failed', message: 'exited with code 137' };
    const oom: FailureInfo = { code: 137, reason: 'oom', message: 'out of memory' };
    expect(settleFailure({ marker: killed, launcher: oom, cancelRequested: false })).toEqual({ failure: oom, rewrite: true });
  });

  it("keeps job.sh's verdict when it is the job's own, or when the launcher says nothing more", () => {
    const exited: FailureInfo = { code: 3, reason: 'failed', message: 'exited with code 3' };
    expect(settleFailure({ marker: exited, launcher: timeout, cancelRequested: false })).toEqual({ failure: exited, rewrite: false });
    expect(settleFailure({ marker: signalled, cancelRequested: false })).toEqual({ failure: signalled, rewrite: false });
    const cancelled: FailureInfo = { code: null, reason: 'cancelled', message: 'SLURM job 7 was cancelled' };
    expect(settleFailure({ marker: signalled, launcher: cancelled, cancelRequested: false })).toEqual({ failure: signalled, rewrite: false });
  });

  it('records a job Baton cancelled as cancelled, whatever killed it first', () => {
    const exited: FailureInfo = { code: 143, reason: 'failed', message: 'exited with code 143' };
    expect(settleFailure({ marker: exited, launcher: timeout, cancelRequested: true })).toEqual({ failure: { ...exited, reason: 'cancelled' }, rewrite: true });
    expect(settleFailure({ marker: signalled, launcher: timeout, cancelRequested: true })).toEqual({ failure: signalled, rewrite: false });
  });
});

describe('launcherMayKnowBetter', () => {
  it('is true only for a failed marker that says the job was signalled', () => {
    expect(launcherMayKnowBetter({ state: 'failed', failure: { code: 143, reason: 'cancelled', message: '' } })).toBe(true);
    expect(launcherMayKnowBetter({ state: 'failed', failure: { code: 3, reason: 'failed', message: '' } })).toBe(false);
    // The command died of a signal before job.sh's own trap ran (a cluster signals every process of the job).
    expect(launcherMayKnowBetter({ state: 'failed', failure: { code: 143, reason: 'failed', message: '' } })).toBe(true);
    expect(launcherMayKnowBetter({ state: 'failed', failure: { code: 128, reason: 'failed', message: '' } })).toBe(false);
    expect(launcherMayKnowBetter({ state: 'done' })).toBe(false);
    expect(launcherMayKnowBetter({ state: 'none' })).toBe(false);
  });
});
