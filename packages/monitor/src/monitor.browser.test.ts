// The monitor in a real browser (Debian's chromium, driven by playwright-core): a real
// experiment runs jobs with the local launcher while the page shows them, live.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { ServiceListener, ServiceLike, ServiceState } from '@baton/core';
import { z } from 'zod';
import { defineTask } from '@baton/core';
// The TensorBoard service and its test venv, from their sources (the plugin is not a dependency of the monitor).
import { tensorboard } from '../../../plugins/service-tensorboard/src/index.ts';
import { SETUP_HINT, WRITE_SCALARS, probeTensorBoard } from '../../../plugins/service-tensorboard/src/testing/tensorboardVenv.ts';
import { createMonitor } from './createMonitor.ts';
import { routeRequests } from './testing/routeTable.ts';
import { CHROMIUM, INSTALL_HINT, chromiumAvailable, launchChromium } from './testing/chromium.ts';
import { sleeper, startLiveExperiment, summary, type LiveExperiment } from './testing/liveExperiment.ts';
import type { Monitor } from './types.ts';

const inCI = process.env.CI === 'true';
const available = chromiumAvailable();
if (!available && !inCI) console.warn(`Browser tests skipped: no Chromium at ${CHROMIUM}; install it: ${INSTALL_HINT}`);

/** Where to save a screenshot of the page, for the docs: BATON_MONITOR_SCREENSHOT=docs/images/monitor.png */
const SCREENSHOT = process.env.BATON_MONITOR_SCREENSHOT;

describe.skipIf(!available && !inCI)('the monitor in Chromium', () => {
  let live: LiveExperiment;
  let monitor: Monitor;
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  let page: Page;
  let service: StandInService;
  let otherSite: Server;
  let otherSiteUrl: string;

  beforeAll(async () => {
    if (!available) throw new Error(`CI=true but there is no Chromium at ${CHROMIUM}: the browser suite cannot run; ${INSTALL_HINT}`);
    live = await startLiveExperiment('browser');
    service = await StandInService.start('web');
    live.xp.addService(service);
    await service.start();
    monitor = await createMonitor({ experiment: live.xp });
    // Another site: `localhost` is not the same site as 127.0.0.1 for the browser.
    otherSite = createServer((request, response) => {
      response.writeHead(200, { 'content-type': 'text/html' });
      const target = new URL(request.url ?? '/', 'http://localhost').searchParams.get('target') ?? '';
      response.end(
        request.url?.startsWith('/link')
          ? `<a id="go" href="${target}">monitor</a>`
          : `<form id="f" method="POST" action="${target}"></form><script>document.getElementById('f').submit()</script>`,
      );
    });
    await new Promise<void>((done) => otherSite.listen(0, '127.0.0.1', done));
    otherSiteUrl = `http://localhost:${(otherSite.address() as AddressInfo).port}`;
    browser = await launchChromium();
    page = browser.pages()[0] ?? (await browser.newPage());
  });

  afterAll(async () => {
    await browser?.dispose();
    await monitor?.close();
    await live?.xp.stop({ kill: true });
    await live?.xp.close();
    await service?.close();
    if (otherSite) await new Promise((done) => otherSite.close(done));
    if (live) await rm(live.root, { recursive: true, force: true });
  });

  it('opens with the token, which moves into an HttpOnly cookie and out of the address bar', async () => {
    const response = await page.goto(monitor.url);
    expect(response?.status()).toBe(200);
    expect(page.url()).toBe(`${monitor.origin}/`);
    await page.getByTestId('live').filter({ hasText: 'live' }).waitFor();
    const cookies = await browser.cookies(monitor.origin);
    expect(cookies).toEqual([expect.objectContaining({ name: `baton-monitor-${monitor.port}`, value: monitor.token, httpOnly: true, sameSite: 'Strict', path: '/' })]);
    await expect(page.locator('h1').textContent()).resolves.toBe('Baton monitor');
  });

  it('shows a job go from running to done without a reload', async () => {
    await page.evaluate(() => ((globalThis as unknown as { notReloaded: boolean }).notReloaded = true));
    const job = live.xp.submit(sleeper, { label: 'first', seconds: 3 });
    const row = page.locator(`tr[data-job="sleeper/${job.hash}"]`);
    await row.and(page.locator('[data-state="running"]')).waitFor({ timeout: 20_000 });
    await expect(row.locator('td').nth(3).textContent()).resolves.toBe('local');
    await row.and(page.locator('[data-state="done"]')).waitFor({ timeout: 20_000 });
    // Its duration comes from its marker once it is done.
    await expect(row.locator('td.num').textContent()).resolves.toMatch(/^3\.\ds$/);
    expect(await page.evaluate(() => (globalThis as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
  });

  it("opens a job's log, follows it as it grows, and shows its stderr and dependencies", async () => {
    const first = live.xp.submit(sleeper, { label: 'second', seconds: 4 });
    const after = live.xp.submit(summary, { input: first.output });
    const row = page.locator(`tr[data-job="sleeper/${first.hash}"]`);
    await row.and(page.locator('[data-state="running"]')).waitFor({ timeout: 20_000 });
    await row.click();
    const log = page.getByTestId('log');
    await expect.poll(() => log.textContent(), { timeout: 10_000 }).toBe('start second\n');
    // Still open: the end of the output arrives while we look.
    await expect.poll(() => log.textContent(), { timeout: 20_000 }).toBe('start second\nend second\n');
    await page.getByTestId('log-status').filter({ hasText: 'complete' }).waitFor();
    await page.getByRole('tab', { name: 'stderr' }).click();
    await expect.poll(() => page.locator('pre[data-stream="stderr"]').textContent()).toBe('to stderr second\n');
    // Its dependent, and back to it from there.
    const panel = page.getByTestId('job-panel');
    await panel.getByRole('button', { name: `summary/${after.hash.slice(0, 12)}` }).click();
    await panel.getByText('Depends on').waitFor();
    await expect.poll(() => page.getByTestId('log').textContent(), { timeout: 20_000 }).toBe(`summary of ${first.directory}\n`);
  });

  it('kills a running job', async () => {
    const job = live.xp.submit(sleeper, { label: 'long', seconds: 120 });
    const row = page.locator(`tr[data-job="sleeper/${job.hash}"]`);
    await row.and(page.locator('[data-state="running"]')).waitFor({ timeout: 20_000 });
    await row.click();
    const panel = page.getByTestId('job-panel');
    await panel.getByRole('button', { name: 'Kill', exact: true }).click();
    await panel.getByRole('button', { name: 'Yes, kill it' }).click();
    await panel.getByRole('status').filter({ hasText: 'killed' }).waitFor({ timeout: 20_000 });
    await row.and(page.locator('[data-state="failed"]')).waitFor({ timeout: 20_000 });
    await expect(row.locator('td.reason').textContent()).resolves.toMatch(/^cancelled/);
    await job.wait();
    expect(job.state).toBe('failed');
    expect(job.failure?.reason).toBe('cancelled');
  });

  it("follows a service's link through the monitor's proxy, and the service never sees the token", async () => {
    const link = page.locator('[data-service="web"] a');
    await link.waitFor();
    const [tab] = await Promise.all([browser.waitForEvent('page'), link.click()]);
    await tab.waitForLoadState();
    expect(tab.url()).toBe(`${monitor.origin}/services/web/`);
    await expect(tab.locator('h1').textContent()).resolves.toBe('Hello from the web service');
    // The service page's own request, also through the proxy.
    await expect.poll(() => tab.locator('#data').textContent()).toBe('{"value":42}');
    await tab.close();
    expect(service.requests.length).toBeGreaterThanOrEqual(2);
    for (const request of service.requests) {
      expect(request.url.startsWith('/services/web/')).toBe(true);
      expect(JSON.stringify(request.headers)).not.toContain(monitor.token);
    }
  });

  it("refuses another site's page: its form cannot kill a job", async () => {
    const job = live.xp.submit(sleeper, { label: 'target', seconds: 120 });
    const row = page.locator(`tr[data-job="sleeper/${job.hash}"]`);
    await row.and(page.locator('[data-state="running"]')).waitFor({ timeout: 20_000 });
    const attack = await browser.newPage();
    const refused = attack.waitForResponse((response) => response.url().endsWith('/kill'));
    await attack.goto(`${otherSiteUrl}/form?target=${encodeURIComponent(`${monitor.origin}/api/jobs/sleeper/${job.hash}/kill`)}`);
    expect([401, 403]).toContain((await refused).status());
    await attack.close();
    await new Promise((done) => setTimeout(done, 1500));
    expect(job.state).toBe('running');
  });

  it("opens from a link on another site's page (the SameSite=Strict cookie still lands)", async () => {
    const fresh = await browser.newPage();
    await browser.clearCookies();
    await fresh.goto(`${otherSiteUrl}/link?target=${encodeURIComponent(monitor.url)}`);
    await fresh.locator('#go').click();
    await fresh.getByTestId('live').filter({ hasText: 'live' }).waitFor({ timeout: 20_000 });
    expect(fresh.url()).toBe(`${monitor.origin}/`);
    await fresh.close();
  });

  it('filters the jobs by state, task and experiment', async () => {
    const first = live.xp.submit(sleeper, { label: 'filtered', seconds: 0 });
    const after = live.xp.submit(summary, { input: first.output });
    await after.wait();
    await page.goto(monitor.url);
    const rows = page.locator('tr[data-job]');
    await page.locator(`tr[data-job="summary/${after.hash}"][data-state="done"]`).waitFor({ timeout: 20_000 });
    const states = () => rows.evaluateAll((each) => each.map((row) => row.getAttribute('data-state')));
    const tasks = () => rows.evaluateAll((each) => each.map((row) => row.getAttribute('data-job')!.split('/')[0]));
    await page.locator('select[name="state"]').selectOption('done');
    await expect.poll(async () => new Set(await states())).toEqual(new Set(['done']));
    await page.locator(`tr[data-job="sleeper/${first.hash}"]`).waitFor();
    await page.locator('select[name="state"]').selectOption('');
    await page.locator('select[name="task"]').selectOption('summary');
    await expect.poll(async () => [...new Set(await tasks())]).toEqual(['summary']);
    await page.locator('select[name="task"]').selectOption('');
    await page.locator('select[name="experiment"]').selectOption('browser');
    await expect.poll(async () => (await tasks()).length).toBeGreaterThan(1);
    await page.locator('select[name="experiment"]').selectOption('');
  });

  it('refuses every route of its table without the token, with a wrong one, and from another site: requests Chromium itself sends', async () => {
    const done = live.xp.submit(sleeper, { label: 'routes', seconds: 0 });
    await done.wait();
    const requests = routeRequests({ taskId: 'sleeper', hash: done.hash, service: 'web' });
    expect(requests.length).toBeGreaterThanOrEqual(18);
    const wrong = `${monitor.token.slice(0, -4)}abcd`;
    const withQuery = (path: string, token: string) => `${path}${path.includes('?') ? '&' : '?'}token=${encodeURIComponent(token)}`;

    // Without the token: a page of the monitor's own origin in a browser that holds no cookie of it.
    await browser.clearCookies();
    const own = await browser.newPage();
    expect((await own.goto(`${monitor.origin}/`))?.status()).toBe(401);
    for (const { method, path, route } of requests) {
      const answers = await own.evaluate(
        async ({ method, path, wrongPath, wrong, cookie }) => {
          const send = async (url: string, headers: Record<string, string> = {}) => {
            const response = await fetch(url, { method, headers, body: method === 'GET' ? undefined : '{}' });
            await response.body?.cancel();
            return response.status;
          };
          const none = await send(path);
          const inUrl = await send(wrongPath);
          const bearer = await send(path, { authorization: `Bearer ${wrong}` });
          // A cookie of the monitor's name with a wrong value (a page can set one that is not HttpOnly).
          const page = (globalThis as unknown as { document: { cookie: string } }).document;
          page.cookie = `${cookie}=${wrong}; path=/`;
          const inCookie = await send(path);
          page.cookie = `${cookie}=; path=/; max-age=0`;
          return [none, inUrl, bearer, inCookie];
        },
        { method, path, wrongPath: withQuery(path, wrong), wrong, cookie: `baton-monitor-${monitor.port}` },
      );
      expect(answers, `${route}: without a token, a wrong one in the URL, in Authorization, in the cookie`).toEqual([401, 401, 401, 401]);
    }
    await own.close();

    // From another site, while the browser holds the monitor's cookie (SameSite=Strict keeps it home).
    await page.goto(monitor.url);
    expect(await browser.cookies(monitor.origin)).toEqual([expect.objectContaining({ value: monitor.token })]);
    const attack = await browser.newPage();
    const receivedBefore = service.requests.length;
    for (const { method, path, route } of requests) {
      const url = `${monitor.origin}${path}`;
      if (method === 'GET') {
        // A link on another site's page, followed.
        await attack.goto(`${otherSiteUrl}/link?target=${encodeURIComponent(url)}`);
        const [response] = await Promise.all([attack.waitForResponse((each) => each.url() === url), attack.locator('#go').click()]);
        expect(response.status(), `${route}: a link from another site`).toBe(401);
      } else if (method === 'POST') {
        // Another site's form, without the token and with the right one in its action.
        for (const [target, expected] of [
          [url, 401],
          [withQuery(url, monitor.token), 403],
        ] as const) {
          const answered = attack.waitForResponse((each) => each.url() === target && each.request().method() === 'POST');
          await attack.goto(`${otherSiteUrl}/form?target=${encodeURIComponent(target)}`);
          expect((await answered).status(), `${route}: another site's form${target === url ? '' : ' with the token'}`).toBe(expected);
        }
      } else {
        // No form sends these: another site's script must ask first (a CORS preflight), and gets no yes.
        await attack.goto(`${otherSiteUrl}/link?target=`);
        for (const target of [url, withQuery(url, monitor.token)]) {
          const outcome = await attack.evaluate(async ({ method, target }) => fetch(target, { method, credentials: 'include', body: '{}' }).then((response) => `answered ${response.status}`, () => 'refused'), { method, target });
          expect(outcome, `${route}: another site's script`).toBe('refused');
        }
      }
    }
    await attack.close();
    // The service behind the proxy saw none of those requests but, at most, a preflight (OPTIONS).
    expect(service.requests.slice(receivedBefore).filter((request) => !request.method.startsWith('OPTIONS'))).toEqual([]);

    // With the token, from the monitor's own page, the same requests are answered: the refusals were the token's and the origin's.
    for (const { method, path, route } of requests) {
      const status = await page.evaluate(
        async ({ method, path }) => {
          const response = await fetch(path, { method, body: method === 'GET' ? undefined : '{}' });
          await response.body?.cancel();
          return response.status;
        },
        { method, path },
      );
      expect([401, 403], `${route}: with the token`).not.toContain(status);
      expect(status, `${route}: with the token`).toBeLessThan(500);
    }
  });

  it('looks right (and saves a screenshot for the docs when asked)', async () => {
    // A page with a bit of everything: a running job, a done one, a failed one, a service.
    const running = live.xp.submit(sleeper, { label: 'shown', seconds: 60 });
    await page.reload();
    const row = page.locator(`tr[data-job="sleeper/${running.hash}"]`);
    await row.and(page.locator('[data-state="running"]')).waitFor({ timeout: 20_000 });
    await row.click();
    await expect.poll(() => page.getByTestId('log').textContent(), { timeout: 10_000 }).toBe('start shown\n');
    const counts = await page.locator('.summary').textContent();
    expect(counts).toMatch(/\d+ running/);
    expect(counts).toMatch(/\d+ failed/);
    expect(counts).toMatch(/\d+ done/);
    if (SCREENSHOT) {
      const path = resolve(SCREENSHOT);
      await mkdir(dirname(path), { recursive: true });
      await page.screenshot({ path });
    }
  });
});

const tensorBoard = available ? await probeTensorBoard() : undefined;
if (available && !tensorBoard?.found && !inCI) console.warn(`Browser tests of TensorBoard through the monitor skipped: ${tensorBoard?.problem}; ${SETUP_HINT}`);

/** A job that writes `steps` points of `loss` with TensorBoard's own event writer (no TensorFlow). */
const writeLoss = defineTask({
  id: 'monitor-browser-write-loss',
  params: z.object({ python: z.string(), runDir: z.string(), steps: z.number() }),
  command: ({ python, runDir, steps }) => [python, WRITE_SCALARS, runDir, 'loss', String(steps)],
});

describe.skipIf((!available || !tensorBoard?.found) && !inCI)('TensorBoard through the monitor, in Chromium', () => {
  let live: LiveExperiment;
  let monitor: Monitor;
  let browser: Awaited<ReturnType<typeof launchChromium>>;

  beforeAll(async () => {
    if (!available) throw new Error(`CI=true but there is no Chromium at ${CHROMIUM}: the browser suite cannot run; ${INSTALL_HINT}`);
    if (!tensorBoard?.found) throw new Error(`CI=true but there is no TensorBoard for the browser suite: ${tensorBoard?.problem}; ${SETUP_HINT}`);
    live = await startLiveExperiment('browser-tensorboard');
    monitor = await createMonitor({ experiment: live.xp });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.dispose();
    await monitor?.close();
    await live?.xp.close();
    if (live) await rm(live.root, { recursive: true, force: true });
  });

  it("reads a job's scalars back through the proxy, and opens TensorBoard's page from the monitor's link", async () => {
    const { python, tensorboard: command } = tensorBoard!.found!;
    const logdir = join(live.root, 'tensorboard');
    const tb = await live.xp.useService(tensorboard({ id: 'tb', logdir, command: [command], reloadInterval: 1, args: ['--load_fast=false'] }));
    expect(tb.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/services\/tb\/$/);
    const job = live.xp.submit(writeLoss, { python, runDir: join(logdir, 'run1'), steps: 5 });
    await job.wait();
    expect(job.state).toBe('done');

    // TensorBoard's HTTP API, through the monitor (it reads the event files every second).
    const url = `${monitor.origin}/services/tb/data/plugin/scalars/scalars?run=run1&tag=loss`;
    let points: [number, number, number][] = [];
    await expect
      .poll(
        async () => {
          const response = await fetch(url, { headers: { authorization: `Bearer ${monitor.token}` } });
          points = response.status === 200 ? ((await response.json()) as [number, number, number][]) : [];
          return points.length;
        },
        { timeout: 30_000, interval: 300 },
      )
      .toBe(5);
    expect(points.map(([, step, value]) => [step, Number(value.toFixed(4))])).toEqual([[0, 1], [1, 0.5], [2, 0.3333], [3, 0.25], [4, 0.2]]);
    // Not without the token.
    expect((await fetch(url)).status).toBe(401);

    const page = browser.pages()[0] ?? (await browser.newPage());
    await page.goto(monitor.url);
    const link = page.locator('[data-service="tb"] a');
    await link.waitFor({ timeout: 20_000 });
    const [tab] = await Promise.all([browser.waitForEvent('page'), link.click()]);
    await tab.waitForLoadState();
    expect(tab.url()).toBe(`${monitor.origin}/services/tb/`);
    // TensorBoard's own page, its scripts and data all through the proxy: the run shows up.
    await tab.getByText('run1').first().waitFor({ timeout: 60_000 });
    await tab.close();
  });
});

/** Stands in for a web service (TensorBoard's kind): serves under /services/<id>/, records what it receives. */
class StandInService implements ServiceLike {
  readonly description: string;
  readonly requests: { method: string; url: string; headers: unknown }[] = [];
  #state: ServiceState = 'stopped';
  readonly #listeners = new Set<ServiceListener>();

  private constructor(
    readonly id: string,
    private readonly server: Server,
  ) {
    this.description = `${id} (a stand-in web service)`;
  }

  static async start(id: string): Promise<StandInService> {
    const server = createServer();
    const service = new StandInService(id, server);
    server.on('request', (request, response) => {
      service.requests.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers });
      if (request.url === `/services/${id}/data`) {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end('{"value":42}');
        return;
      }
      response.writeHead(200, { 'content-type': 'text/html' });
      // A relative URL, as TensorBoard's pages use: it stays behind the proxy.
      response.end(`<h1>Hello from the ${id} service</h1><pre id="data"></pre><script>fetch('data').then((r) => r.text()).then((t) => (document.getElementById('data').textContent = t));</script>`);
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    return service;
  }

  get state(): ServiceState {
    return this.#state;
  }

  get url(): string | undefined {
    return this.#state === 'running' ? `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/services/${this.id}/` : undefined;
  }

  addListener(listener: ServiceListener): void {
    this.#listeners.add(listener);
  }

  removeListener(listener: ServiceListener): void {
    this.#listeners.delete(listener);
  }

  async start(): Promise<void> {
    this.#set('running');
  }

  async stop(): Promise<void> {
    this.#set('stopped');
  }

  async close(): Promise<void> {
    await new Promise((done) => this.server.close(done));
  }

  #set(state: ServiceState): void {
    const previous = this.#state;
    this.#state = state;
    for (const listener of this.#listeners) listener({ service: this, state, previous });
  }
}
