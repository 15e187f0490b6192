// The monitor as a server: where it listens, the URL it gives, its live channel over real
// HTTP (a workspace's files read again, a live run's events), and its close.
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_HOST, createMonitor, isLoopbackHost } from './createMonitor.ts';
import { startLiveExperiment, sleeper, summary } from './testing/liveExperiment.ts';
import { DONE, createWorkspaceFixture } from './testing/workspaceFixture.ts';
import type { Monitor } from './types.ts';

const cleanups: (() => Promise<unknown>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function started(monitor: Promise<Monitor>): Promise<Monitor> {
  const value = await monitor;
  cleanups.push(() => value.close());
  return value;
}

/** Reads Server-Sent Events until `until` says enough, or the time is up. */
async function readEvents(url: string, token: string, until: (events: string[]) => boolean, timeoutMs = 20_000): Promise<string[]> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const events: string[] = [];
  try {
    const response = await fetch(url, { headers: { authorization: `Bearer ${token}` }, signal: controller.signal });
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      const blocks = buffer.split('\n\n');
      buffer = blocks.pop()!;
      for (const block of blocks) {
        const name = /^event: (.*)$/m.exec(block)?.[1];
        if (name) events.push(name);
      }
      if (until(events)) break;
    }
  } catch (error) {
    if (!controller.signal.aborted) throw error;
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  return events;
}

describe('createMonitor', () => {
  it('listens on 127.0.0.1 by default, on a free port, and gives its URL with the token', async () => {
    const fixture = await createWorkspaceFixture();
    cleanups.push(() => rm(fixture.root, { recursive: true, force: true }));
    const monitor = await started(createMonitor({ workspace: fixture.path }));
    expect(DEFAULT_HOST).toBe('127.0.0.1');
    expect(monitor.host).toBe('127.0.0.1');
    expect(monitor.port).toBeGreaterThan(0);
    expect(monitor.url).toBe(`http://127.0.0.1:${monitor.port}/?token=${monitor.token}`);
    expect((await fetch(`${monitor.origin}/api/overview`)).status).toBe(401);
    const first = await fetch(monitor.url, { redirect: 'manual' });
    expect(first.status).toBe(303);
    expect(first.headers.get('set-cookie')).toContain(`baton-monitor-${monitor.port}=`);
  });

  it('refuses a port out of range, and a port taken', async () => {
    await expect(createMonitor({ workspace: '/tmp', port: 70000 })).rejects.toThrow(/0 \(any free port\) to 65535/);
    const first = await started(createMonitor({ workspace: '/tmp' }));
    await expect(createMonitor({ workspace: '/tmp', port: first.port })).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });

  it('tells loopback hosts from others', () => {
    for (const host of ['127.0.0.1', 'localhost', '::1', '[::1]', '127.1.2.3']) expect(isLoopbackHost(host)).toBe(true);
    for (const host of ['0.0.0.0', '::', 'login1.cluster', '192.168.1.5']) expect(isLoopbackHost(host)).toBe(false);
  });

  it("uses only the path of a request line that names another host (never a proxy to it)", async () => {
    const monitor = await started(createMonitor({ workspace: '/tmp' }));
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(monitor.port, '127.0.0.1', () => {
        socket.write(`GET http://evil.example/services/x/ HTTP/1.1\r\nHost: evil.example\r\nAuthorization: Bearer ${monitor.token}\r\nConnection: close\r\n\r\n`);
      });
      let text = '';
      socket.on('data', (chunk) => (text += chunk.toString()));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 404/);
    expect(answer).toContain('No service \\"x\\" in this monitor');
  });

  it("tells open pages when a workspace's jobs change on disk, and close() ends their live channel", async () => {
    const fixture = await createWorkspaceFixture();
    cleanups.push(() => rm(fixture.root, { recursive: true, force: true }));
    const monitor = await started(createMonitor({ workspace: fixture.path, pollIntervalMs: 100 }));
    const events = readEvents(`${monitor.origin}/api/events`, monitor.token, (seen) => seen.includes('changed'));
    // A new job appears after the page opened, already done: made aside and renamed into
    // place in one step, so that no look sees it half made (a second change, after this
    // channel has stopped reading, would reach the next one).
    setTimeout(async () => {
      const aside = `${fixture.root}/aside-job`;
      await mkdir(aside, { recursive: true });
      await writeFile(`${aside}/done`, '{"code":0}');
      await rename(aside, fixture.jobDirectory('train', 'dd'.repeat(32)));
    }, 400);
    expect(await events).toEqual(['hello', 'changed']);
    const open = readEvents(`${monitor.origin}/api/events`, monitor.token, () => false, 10_000);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const closedAt = Date.now();
    await monitor.close();
    expect(await open).toEqual(['hello']);
    expect(Date.now() - closedAt).toBeLessThan(2000);
  });

  it("follows a live run: its jobs' states as they change, their logs, and its services", async () => {
    const { root, xp } = await startLiveExperiment('live-http');
    cleanups.push(() => rm(root, { recursive: true, force: true }));
    cleanups.push(() => xp.close());
    const monitor = await started(createMonitor({ experiment: xp }));
    const get = async (path: string) => (await fetch(`${monitor.origin}${path}`, { headers: { authorization: `Bearer ${monitor.token}` } })).json() as Promise<any>;
    const events = readEvents(`${monitor.origin}/api/events`, monitor.token, (seen) => seen.filter((name) => name === 'changed').length >= 2);
    const first = xp.submit(sleeper, { label: 'one', seconds: 0.5 });
    xp.submit(summary, { input: first.output });
    expect((await events).slice(0, 2)).toEqual(['hello', 'changed']);
    await xp.wait();
    const jobs = await get('/api/jobs');
    expect(jobs.jobs.map((job: any) => [job.taskId, job.state, job.launcher])).toEqual([
      ['sleeper', 'done', 'local'],
      ['summary', 'done', 'local'],
    ]);
    expect(jobs.jobs[0].durationSeconds).toBeGreaterThan(0.3);
    const overview = await get('/api/overview');
    expect(overview).toMatchObject({ mode: 'experiment', experiment: { name: 'live-http', runId: xp.runId }, experiments: [{ name: 'live-http', runs: [{ id: xp.runId, current: true, jobs: 2 }] }] });
    const detail = await get(`/api/jobs/summary/${jobs.jobs[1].hash}`);
    expect(detail.dependencies).toEqual([{ id: `sleeper/${first.hash}`, taskId: 'sleeper', hash: first.hash, state: 'done' }]);
    expect((await get(`/api/jobs/sleeper/${first.hash}/log/stdout`)).text).toBe('start one\nend one\n');
    expect((await get(`/api/jobs/sleeper/${first.hash}/log/stderr`)).text).toBe('to stderr one\n');
  });

  it('reads a job of the fixture through the real server too', async () => {
    const fixture = await createWorkspaceFixture();
    cleanups.push(() => rm(fixture.root, { recursive: true, force: true }));
    const monitor = await started(createMonitor({ workspace: fixture.path }));
    const response = await fetch(`${monitor.origin}/api/jobs/train/${DONE}/log/stdout`, { headers: { authorization: `Bearer ${monitor.token}` } });
    expect(((await response.json()) as { text: string }).text).toBe('epoch 1\nepoch 2\n');
  });
});
