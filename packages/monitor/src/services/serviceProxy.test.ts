// The proxy forwards to the services registered with the monitor, at their URL's origin,
// the path kept; the monitor's token goes no further; nothing is forwarded anywhere else.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ServiceLike, ServiceState } from '@baton/core';
import { createMonitorApp, type MonitorApp } from '../monitorApp.ts';

const TOKEN = 'proxy-test-token';
const COOKIE = 'baton-monitor-80';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

let server: Server;
let origin: string;
const seen: Seen[] = [];
let monitor: MonitorApp;
const web = standInService('web');
const stopped = standInService('stopped', 'stopped');

beforeAll(async () => {
  // Stands in for a service: echoes what it received, and redirects on /redirect.
  server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      seen.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers, body });
      if (request.url?.endsWith('/redirect')) {
        response.writeHead(302, { location: 'http://evil.example/' });
        response.end();
        return;
      }
      response.writeHead(200, { 'content-type': 'text/plain', 'x-service': 'yes' });
      response.end(`echo ${request.method} ${request.url}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  web.url = `${origin}/services/web/`;
  stopped.url = `${origin}/services/stopped/`;
  monitor = createMonitorApp({ workspace: '/nonexistent-baton-workspace', token: TOKEN, services: [web, stopped] });
});

beforeEach(() => {
  seen.length = 0;
});

afterAll(async () => {
  await monitor.close();
  await new Promise((resolve) => server.close(resolve));
});

function request(path: string, init: RequestInit & { headers?: Record<string, string> } = {}): Promise<Response> {
  return Promise.resolve(monitor.app.request(path, { ...init, headers: { cookie: `${COOKIE}=${TOKEN}; theme=dark`, ...init.headers } }));
}

describe('the service proxy', () => {
  it("forwards to the service's origin with the same path and query", async () => {
    const response = await request('/services/web/data/runs?run=a&tag=loss');
    expect(response.status).toBe(200);
    expect(response.headers.get('x-service')).toBe('yes');
    expect(await response.text()).toBe('echo GET /services/web/data/runs?run=a&tag=loss');
    expect(seen.map((each) => each.url)).toEqual(['/services/web/data/runs?run=a&tag=loss']);
  });

  it('keeps the monitor token to itself: not its cookie, not Authorization; other cookies go on', async () => {
    await request('/services/web/', { headers: { authorization: `Bearer ${TOKEN}` } });
    const [forwarded] = seen;
    expect(forwarded!.headers.authorization).toBeUndefined();
    expect(forwarded!.headers.cookie).toBe('theme=dark');
    expect(JSON.stringify(forwarded!.headers)).not.toContain(TOKEN);
    expect(forwarded!.headers.host).toBe(new URL(origin).host);
  });

  it('forwards a POST of the monitor\'s own page with its body', async () => {
    const response = await request('/services/web/data/plugin', { method: 'POST', body: 'tag=loss', headers: { origin: 'http://localhost', 'sec-fetch-site': 'same-origin', 'content-type': 'application/x-www-form-urlencoded' } });
    expect(response.status).toBe(200);
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/services/web/data/plugin', body: 'tag=loss' });
  });

  it('answers 404 for an id it does not know, and forwards nothing', async () => {
    for (const path of ['/services/unknown/', '/services/unknown/x', '/services/%2e%2e/x', '/services/127.0.0.1:22/']) {
      expect((await request(path)).status).toBe(404);
    }
    expect(seen).toEqual([]);
  });

  it('answers 503 for a service that is not running, and forwards nothing', async () => {
    const response = await request('/services/stopped/');
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ error: 'Service "stopped" is stopped: nothing to reach' });
    expect(seen).toEqual([]);
  });

  it("never leaves the service's origin, whatever the path says", async () => {
    for (const path of ['/services/web//evil.example/x', '/services/web/http://evil.example/', '/services/web/..%2F..%2Fadmin', '/services/web/@evil.example/']) {
      const response = await request(path);
      expect(response.status).toBe(200);
    }
    // Each reached the stand-in service (the only server that answers 'echo'), on its own paths.
    expect(seen).toHaveLength(4);
    for (const each of seen) expect(each.url.startsWith('/services/web/')).toBe(true);
  });

  it("leaves a service's redirect to the browser (the monitor does not follow it)", async () => {
    const response = await request('/services/web/redirect');
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe('http://evil.example/');
    expect(seen).toHaveLength(1);
  });

  it('says so when the service does not answer (502)', async () => {
    const gone = standInService('gone');
    gone.url = 'http://127.0.0.1:1/services/gone/';
    const other = createMonitorApp({ workspace: '/nonexistent-baton-workspace', token: TOKEN, services: [gone] });
    const response = await other.app.request('/services/gone/', { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(response.status).toBe(502);
    await other.close();
  });

  it('lists its services with their state, and a link through the proxy for a running one', async () => {
    const views = async () => ((await (await request('/api/overview')).json()) as { services: unknown[] }).services;
    expect(await views()).toEqual([
      { id: 'web', description: 'stand-in web', state: 'running', href: 'services/web/' },
      { id: 'stopped', description: 'stand-in stopped', state: 'stopped' },
    ]);
  });
});

function standInService(id: string, state: ServiceState = 'running'): ServiceLike & { url: string } {
  return { id, description: `stand-in ${id}`, state, url: '', addListener() {}, removeListener() {}, start: async () => undefined, stop: async () => undefined };
}
