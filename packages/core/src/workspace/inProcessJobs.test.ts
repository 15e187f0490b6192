import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalConnector } from '../connector/localConnector.ts';
import { CANCEL_REQUEST_FILE, isInProcessHandle, isOwningProcessAlive, ownProcessStartTime, processStartTime, readCancelRequest, requestCancel, type InProcessHandle } from './inProcessJobs.ts';

const connector = new LocalConnector();
let directory: string;

beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'baton-in-process-'));
});

afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

function handle(pid: number, processStart?: string): InProcessHandle {
  return { launcher: 'threads', kind: 'threads', host: connector.hostname, directory, pid, inProcess: true, submittedAt: new Date().toISOString(), ...(processStart ? { processStart } : {}) };
}

describe('in-process jobs', () => {
  it('knows their handles, and those written before `inProcess` by their process start time', () => {
    expect(isInProcessHandle(handle(1))).toBe(true);
    expect(isInProcessHandle({ launcher: 'threads', kind: 'threads', host: 'h', directory, pid: 3, processStart: '12', submittedAt: '' })).toBe(true);
    expect(isInProcessHandle({ launcher: 'local', kind: 'local', host: 'h', directory, pid: 3, submittedAt: '' })).toBe(false);
    expect(isInProcessHandle(undefined)).toBe(false);
  });

  it('sees the owning process alive while it runs, and not once its pid names another process', async () => {
    const start = await processStartTime(connector, process.pid);
    expect(start).toMatch(/^\d+$/);
    expect(await isOwningProcessAlive(connector, handle(process.pid, start))).toBe(true);
    expect(await isOwningProcessAlive(connector, handle(process.pid, `${start}1`))).toBe(false);
    const child = spawn('true');
    await new Promise((resolve) => child.once('exit', resolve));
    expect(await isOwningProcessAlive(connector, handle(child.pid!))).toBe(false);
  });

  it("ownProcessStartTime reads this process's start time as processStartTime does, so that its handles match", async () => {
    const start = ownProcessStartTime();
    expect(start).toBe(await processStartTime(connector, process.pid));
    expect(await isOwningProcessAlive(connector, handle(process.pid, start))).toBe(true);
  });

  it('requestCancel leaves a request for the owning process and reports the marker it writes', async () => {
    const owner = handle(process.pid, await processStartTime(connector, process.pid));
    // The owner: sees the request, ends the job cancelled.
    const answer = setTimeout(async () => {
      expect(await readCancelRequest(connector, directory)).toMatchObject({ pid: process.pid, by: process.pid });
      await rm(join(directory, CANCEL_REQUEST_FILE));
      await writeFile(join(directory, 'failed'), '{"code":null,"reason":"cancelled","message":"cancelled"}\n');
    }, 150);
    const outcome = await requestCancel(connector, owner, { intervalMs: 20 });
    clearTimeout(answer);
    expect(outcome).toMatchObject({ outcome: 'cancelled', markers: { state: 'failed', failure: { reason: 'cancelled' } } });
  });

  it('requestCancel says when nobody answers, and removes its request when the job has ended or its process is gone', async () => {
    const owner = handle(process.pid);
    expect(await requestCancel(connector, owner, { timeoutMs: 100, intervalMs: 20 })).toEqual({ outcome: 'no answer' });
    expect(existsSync(join(directory, CANCEL_REQUEST_FILE))).toBe(true);
    await writeFile(join(directory, 'done'), '{"code":0}\n');
    expect(await requestCancel(connector, owner, { timeoutMs: 100, intervalMs: 20 })).toMatchObject({ outcome: 'ended', markers: { state: 'done' } });
    expect(existsSync(join(directory, CANCEL_REQUEST_FILE))).toBe(false);
    await rm(join(directory, 'done'));
    const child = spawn('true');
    await new Promise((resolve) => child.once('exit', resolve));
    expect(await requestCancel(connector, handle(child.pid!), { timeoutMs: 1000 })).toMatchObject({ outcome: 'ended', markers: { state: 'none' } });
    expect(existsSync(join(directory, CANCEL_REQUEST_FILE))).toBe(false);
  });
});
