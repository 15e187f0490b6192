// Every route of the monitor refuses whoever does not hold its token, and every route that
// changes something refuses other sites' pages. The routes are read from the app's own
// table, so a route added later is tested without anyone adding it here.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServiceLike } from '@baton/core';
import { createMonitorApp, type MonitorApp } from './monitorApp.ts';
import { ANY_METHOD, SAFE_METHODS, routeRequests } from './testing/routeTable.ts';
import { DONE, FAILED, RUN_ID, UNFINISHED, createWorkspaceFixture, type WorkspaceFixture } from './testing/workspaceFixture.ts';

const TOKEN = 'the-right-token-0123456789abcdefghijklmnop';
const WRONG = 'the-wrong-token-0123456789abcdefghijklmnop';
const COOKIE = 'baton-monitor-80';

let fixture: WorkspaceFixture;
let monitor: MonitorApp;
let service: Server;
/** What reached the stand-in service. */
const received: string[] = [];

beforeAll(async () => {
  fixture = await createWorkspaceFixture();
  service = createServer((request, response) => {
    received.push(request.url ?? '');
    response.end('service');
  });
  await new Promise<void>((resolve) => service.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(service.address() as AddressInfo).port}/services/web/`;
  monitor = createMonitorApp({ workspace: fixture.path, token: TOKEN, services: [standInService('web', url)] });
});

afterAll(async () => {
  await monitor.close();
  await new Promise((resolve) => service.close(resolve));
  await rm(fixture.root, { recursive: true, force: true });
});

async function request(method: string, path: string, headers: Record<string, string> = {}): Promise<Response> {
  const response = await monitor.app.request(path, { method, headers, ...(SAFE_METHODS.has(method) ? {} : { body: '{}' }) });
  // Live channels stream on: this test only needs their status.
  await response.body?.cancel();
  return response;
}

describe('the route table', () => {
  it('is what the docs list (a new route is tested below by itself; list it in docs/monitor.md too)', () => {
    expect(routeRequests({ taskId: 'train', hash: DONE, service: 'web' }).map((entry) => entry.route)).toEqual([
      'GET /',
      'GET /assets/*',
      'GET /api/overview',
      'GET /api/jobs',
      'GET /api/jobs/:taskId/:hash',
      'GET /api/jobs/:taskId/:hash/log/:stream',
      'GET /api/jobs/:taskId/:hash/log/:stream/follow',
      'POST /api/jobs/:taskId/:hash/kill',
      'GET /api/events',
      ...ANY_METHOD.map((method) => `${method} /services/:id`),
      ...ANY_METHOD.map((method) => `${method} /services/:id/*`),
    ]);
  });
});

describe.each(routeRequests({ taskId: 'train', hash: DONE, service: 'web' }).map((entry) => [entry.route, entry] as const))('%s', (_route, { method, path }) => {
  it('refuses a request without the token (401)', async () => {
    expect((await request(method, path)).status).toBe(401);
  });

  it('refuses a wrong token in the URL, in Authorization: Bearer and in the cookie (401)', async () => {
    const separator = path.includes('?') ? '&' : '?';
    expect((await request(method, `${path}${separator}token=${WRONG}`)).status).toBe(401);
    expect((await request(method, path, { authorization: `Bearer ${WRONG}` })).status).toBe(401);
    expect((await request(method, path, { cookie: `${COOKIE}=${WRONG}` })).status).toBe(401);
    // A right token does not make up for a wrong one beside it.
    expect((await request(method, path, { cookie: `${COOKIE}=${WRONG}`, authorization: `Bearer ${TOKEN}` })).status).toBe(401);
    // Nor is a token of the right length and prefix accepted.
    expect((await request(method, path, { authorization: `Bearer ${TOKEN.slice(0, -1)}x` })).status).toBe(401);
  });

  if (!SAFE_METHODS.has(method)) {
    it('refuses a request from another site, even with the token (403)', async () => {
      const evil = { origin: 'http://evil.example', 'sec-fetch-site': 'cross-site' };
      expect((await request(method, path, { ...evil, cookie: `${COOKIE}=${TOKEN}` })).status).toBe(403);
      expect((await request(method, path, { ...evil, authorization: `Bearer ${TOKEN}` })).status).toBe(403);
      expect((await request(method, path, { origin: 'http://evil.example', cookie: `${COOKIE}=${TOKEN}` })).status).toBe(403);
      expect((await request(method, path, { 'sec-fetch-site': 'same-site', cookie: `${COOKIE}=${TOKEN}` })).status).toBe(403);
      // A cookie without Origin: not a page of the monitor (browsers send Origin with a POST).
      expect((await request(method, path, { cookie: `${COOKIE}=${TOKEN}` })).status).toBe(403);
    });
  }

  it('answers with the token (the refusals above are the token and the origin, not a bad path)', async () => {
    const sameOrigin: Record<string, string> = SAFE_METHODS.has(method) ? {} : { origin: 'http://localhost', 'sec-fetch-site': 'same-origin' };
    const response = await request(method, path, { cookie: `${COOKIE}=${TOKEN}`, ...sameOrigin });
    expect([401, 403]).not.toContain(response.status);
    expect(response.status).toBeLessThan(500);
  });
});

describe('a path no route has', () => {
  it('needs the token too: without it the answer is 401, never a 404 that tells which paths exist', async () => {
    for (const method of ['GET', 'POST']) {
      expect((await request(method, '/no/such/route')).status).toBe(401);
      expect((await request(method, '/no/such/route', { authorization: `Bearer ${WRONG}` })).status).toBe(401);
      expect((await request(method, '/no/such/route', { authorization: `Bearer ${TOKEN}` })).status).toBe(404);
    }
  });
});

describe('the token', () => {
  it('moves from the URL into an HttpOnly, SameSite=Strict cookie, and the browser goes on at the URL without it', async () => {
    const response = await monitor.app.request(`/?token=${TOKEN}`);
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/');
    const cookie = response.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(new RegExp(`^${COOKIE}=${TOKEN};`));
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    expect(cookie).toContain('Path=/');
    const page = await monitor.app.request('/', { headers: { cookie: `${COOKIE}=${TOKEN}` } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>Baton monitor</title>');
  });

  it('sends the browser on within this monitor, whatever the path looks like (never `//other.site/`)', async () => {
    for (const path of ['//evil.example/', '/\\evil.example/', '///evil.example/x']) {
      const response = await monitor.app.request(`${path}?token=${TOKEN}`);
      expect(response.status).toBe(303);
      expect(response.headers.get('location')).toMatch(/^\/[^/\\]/);
      const continued = await monitor.app.request(`${path}?token=${TOKEN}`, { headers: { 'sec-fetch-site': 'cross-site' } });
      expect(await continued.text()).toContain('content="0;url=/evil.example/');
    }
  });

  it('keeps the rest of the query when it drops the token', async () => {
    const response = await monitor.app.request(`/api/jobs?state=done&token=${TOKEN}&task=train`);
    expect(response.headers.get('location')).toBe('/api/jobs?state=done&task=train');
  });

  it('goes on through a page of its own when the link was followed from another site (a Strict cookie is not sent along that site\'s redirect)', async () => {
    const response = await monitor.app.request(`/?token=${TOKEN}`, { headers: { 'sec-fetch-site': 'cross-site' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('set-cookie')).toContain('SameSite=Strict');
    expect(await response.text()).toContain('<meta http-equiv="refresh" content="0;url=/">');
  });

  it('is taken in Authorization: Bearer, with no redirect', async () => {
    const response = await monitor.app.request('/api/overview', { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(response.status).toBe(200);
  });

  it('is never sent on: no Referer leaves the monitor, and its pages cannot be framed', async () => {
    const response = await monitor.app.request('/', { headers: { cookie: `${COOKIE}=${TOKEN}` } });
    expect(response.headers.get('referrer-policy')).toBe('no-referrer');
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(response.headers.get('content-security-policy')).toMatch(/script-src 'self' 'sha256-[A-Za-z0-9+/=]+'/);
  });

  it('says how to get in, on a page for a browser and in JSON for a script', async () => {
    const page = await monitor.app.request('/', { headers: { accept: 'text/html' } });
    expect(page.status).toBe(401);
    expect(await page.text()).toContain('open the URL it printed when it started');
    const api = await monitor.app.request('/api/jobs');
    expect(await api.json()).toEqual({ error: expect.stringContaining('Authorization: Bearer <token>') });
  });

  it('comes from $BATON_MONITOR_TOKEN when none is given, or is made at random (43 characters)', () => {
    const previous = process.env.BATON_MONITOR_TOKEN;
    try {
      process.env.BATON_MONITOR_TOKEN = 'from-the-environment-123';
      expect(createMonitorApp({ workspace: fixture.path }).token).toBe('from-the-environment-123');
      delete process.env.BATON_MONITOR_TOKEN;
      const first = createMonitorApp({ workspace: fixture.path }).token;
      expect(first).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(createMonitorApp({ workspace: fixture.path }).token).not.toBe(first);
    } finally {
      if (previous === undefined) delete process.env.BATON_MONITOR_TOKEN;
      else process.env.BATON_MONITOR_TOKEN = previous;
    }
  });
});

describe('the API', () => {
  const get = async (path: string) => {
    const response = await monitor.app.request(path, { headers: { authorization: `Bearer ${TOKEN}` } });
    return { status: response.status, body: (await response.json()) as any };
  };

  it('lists the experiments and their runs', async () => {
    const { body } = await get('/api/overview');
    expect(body).toEqual({
      mode: 'workspace',
      workspace: fixture.path,
      experiments: [{ name: 'sweep', runs: [{ id: RUN_ID, current: true, jobs: 2 }] }],
      services: [
        { id: 'web', description: 'stand-in web service', state: 'running', href: 'services/web/' },
        // Recorded by a run: shown, with its own address, but not reached through the proxy.
        { id: 'tb', description: 'TensorBoard on the run folder', state: 'running', recorded: { experiment: 'sweep', runId: RUN_ID, url: 'http://127.0.0.1:9/services/tb/' } },
      ],
    });
  });

  it('lists jobs with state, host, duration and failure reason, filtered by state, task and experiment', async () => {
    const all = (await get('/api/jobs')).body;
    expect(all.total).toBe(3);
    expect(all.counts).toEqual({ done: 1, failed: 1, incomplete: 1 });
    expect(all.tasks).toEqual(['evaluate', 'train']);
    const failed = all.jobs.find((job: any) => job.hash === FAILED);
    expect(failed).toMatchObject({ id: `evaluate/${FAILED}`, state: 'failed', host: 'node2', durationSeconds: 1, exitCode: 3, failure: { reason: 'failed', message: 'exit code 3' }, experiments: ['sweep'] });
    expect((await get('/api/jobs?state=done')).body.jobs.map((job: any) => job.hash)).toEqual([DONE]);
    expect((await get('/api/jobs?task=train')).body.jobs.map((job: any) => job.hash)).toEqual([DONE, UNFINISHED]);
    expect((await get('/api/jobs?experiment=sweep')).body.jobs.map((job: any) => job.hash).sort()).toEqual([DONE, FAILED]);
    expect((await get('/api/jobs?experiment=sweep')).body.counts).toEqual({ done: 1, failed: 1 });
  });

  it("shows a cluster job's pending reason, as its launcher tells it (one question for all such jobs)", async () => {
    const hash = 'e7'.repeat(32);
    const directory = fixture.jobDirectory('train', hash);
    await mkdir(directory, { recursive: true });
    await writeFile(join(directory, 'process.json'), JSON.stringify({ launcher: 'cpu', kind: 'slurm', host: 'login1', directory, clusterId: '4242', submittedAt: '2026-01-01T12:00:00.000Z' }));
    const asked: string[][] = [];
    const withLauncher = createMonitorApp({
      workspace: fixture.path,
      token: TOKEN,
      status: async (handles) => {
        asked.push(handles.map((handle) => handle.clusterId ?? ''));
        return new Map(handles.map((handle) => [handle.directory, { state: 'queued' as const, detail: 'Priority' }]));
      },
    });
    try {
      const response = await withLauncher.app.request('/api/jobs?state=queued', { headers: { authorization: `Bearer ${TOKEN}` } });
      const body = (await response.json()) as { jobs: unknown[] };
      expect(body.jobs).toEqual([expect.objectContaining({ hash, state: 'queued', detail: 'Priority', launcher: 'cpu', kind: 'slurm', clusterId: '4242' })]);
      expect(asked).toEqual([['4242']]);
    } finally {
      await withLauncher.close();
      await rm(directory, { recursive: true, force: true });
    }
  });

  it("shows a job's dependencies and the jobs that need it", async () => {
    const evaluate = (await get(`/api/jobs/evaluate/${FAILED}`)).body;
    expect(evaluate.dependencies).toEqual([{ id: `train/${DONE}`, taskId: 'train', hash: DONE, state: 'done' }]);
    const train = (await get(`/api/jobs/train/${DONE}`)).body;
    expect(train.dependents).toEqual([{ id: `evaluate/${FAILED}`, taskId: 'evaluate', hash: FAILED, state: 'failed' }]);
    expect(train.directory).toBe(fixture.jobDirectory('train', DONE));
  });

  it("reads a job's stdout and stderr, from an offset", async () => {
    expect((await get(`/api/jobs/train/${DONE}/log/stdout`)).body).toEqual({ text: 'epoch 1\nepoch 2\n', offset: 0, next: 16, size: 16, finished: true });
    expect((await get(`/api/jobs/train/${DONE}/log/stdout?offset=8`)).body.text).toBe('epoch 2\n');
    expect((await get(`/api/jobs/evaluate/${FAILED}/log/stderr`)).body.text).toBe('Traceback: boom\n');
  });

  it('follows a log as Server-Sent Events until the job has ended', async () => {
    const response = await monitor.app.request(`/api/jobs/train/${DONE}/log/stdout/follow`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const text = await response.text();
    expect(text).toContain('event: output');
    expect(text).toContain('epoch 2');
    expect(text).toContain('event: end');
  });

  it('says there is nothing to kill in a finished job, and 404 for no such job', async () => {
    const headers = { authorization: `Bearer ${TOKEN}` };
    const done = await monitor.app.request(`/api/jobs/train/${DONE}/kill`, { method: 'POST', headers });
    expect(await done.json()).toEqual({ outcome: 'nothing', message: 'already done, nothing to kill' });
    const missing = await monitor.app.request(`/api/jobs/train/${'d4'.repeat(32)}/kill`, { method: 'POST', headers });
    expect(missing.status).toBe(404);
  });

  it('serves only the assets of its table', async () => {
    const headers = { authorization: `Bearer ${TOKEN}` };
    for (const name of ['app.js', 'style.css', 'vendor/preact.mjs', 'vendor/preact-hooks.mjs', 'vendor/htm.mjs']) {
      expect((await monitor.app.request(`/assets/${name}`, { headers })).status).toBe(200);
    }
    for (const path of ['/assets/index.html', '/assets/%2e%2e/package.json', '/assets/..%2F..%2Fpackage.json', '/assets//etc/passwd']) {
      expect((await monitor.app.request(path, { headers })).status).toBe(404);
    }
  });
});

describe('the service proxy', () => {
  it('answers 404 for a service it does not have, and forwards nothing', async () => {
    received.length = 0;
    const response = await monitor.app.request('/services/other/', { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(response.status).toBe(404);
    expect(received).toEqual([]);
  });

  it('does not reach a service a run recorded on disk (its address comes from a file, not from this monitor)', async () => {
    const response = await monitor.app.request('/services/tb/', { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(response.status).toBe(404);
  });
});

function standInService(id: string, url: string): ServiceLike {
  return { id, description: 'stand-in web service', state: 'running', url, addListener() {}, removeListener() {}, start: async () => undefined, stop: async () => undefined };
}
