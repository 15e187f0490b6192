import { describe, expect, it } from 'vitest';
import { HttpServerService } from './__fixtures__/httpServerService.ts';
import { servicePath } from './webService.ts';

describe('WebService', () => {
  it('has a URL only while it runs, and serves on it', async () => {
    const service = new HttpServerService('hello from the service');
    const urls: Array<string | undefined> = [];
    service.addListener(({ service: changed }) => urls.push(changed.url));
    expect(service.url).toBeUndefined();

    await service.start();
    const url = service.url;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const response = await fetch(url!);
    expect(await response.text()).toBe('hello from the service');
    expect(service.toJSON()).toEqual({ id: 'http', description: 'a plain HTTP server', state: 'running', url, keep: false });

    await service.stop();
    expect(service.url).toBeUndefined();
    await expect(fetch(url!)).rejects.toThrow();
    // starting, running (with its URL), stopping, stopped
    expect(urls).toEqual([undefined, url, undefined, undefined]);
  });

  it('starts one server when started twice', async () => {
    const service = new HttpServerService('once');
    await Promise.all([service.start(), service.start()]);
    await service.start();
    expect(service.servers).toBe(1);
    expect(await (await fetch(service.url!)).text()).toBe('once');
    await service.stop();
  });

  it('serves again on a new URL after a restart', async () => {
    const service = new HttpServerService('again');
    await service.start();
    await service.stop();
    await service.start();
    expect(await (await fetch(service.url!)).text()).toBe('again');
    await service.stop();
    expect(service.servers).toBe(2);
  });
});

describe('servicePath', () => {
  it('is where the monitor proxies a service: /services/<id>/, the id encoded', () => {
    expect(servicePath('tb')).toBe('/services/tb/');
    expect(servicePath('a b')).toBe('/services/a%20b/');
  });
});
