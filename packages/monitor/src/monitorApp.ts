// The monitor's routes (Hono), every one behind the token. `createMonitorApp` builds them
// without listening (tests call `app.request`); createMonitor.ts serves them.
import { setTimeout as sleep } from 'node:timers/promises';
import { Hono, type Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import { LocalConnector, UserInputError, type LaunchHandle, type Launcher, type Workspace } from '@baton/core';
import { killJob } from '@baton/core/catalog';
import { loadAssets } from './assets.ts';
import { refuseCrossSite, requireToken, type AccessVariables } from './auth/access.ts';
import { TOKEN_VARIABLE, newToken } from './auth/token.ts';
import { ExperimentData } from './data/experimentData.ts';
import { filterJobs, recordView } from './data/jobViews.ts';
import { withStates, type MonitorData } from './data/monitorData.ts';
import { WorkspaceData } from './data/workspaceData.ts';
import { JobLogs, LogRefused } from './logs/jobLogs.ts';
import { ServiceRegistry } from './services/serviceRegistry.ts';
import { proxyToService } from './services/serviceProxy.ts';
import type { JobDetailView, MonitorOptions, OverviewResponse } from './types.ts';

/** Default wait between two reads of a workspace's files while a page is open. */
const DEFAULT_POLL_MS = 2000;
/** A comment on the live channels this often keeps proxies and browsers from closing them. */
const KEEP_ALIVE_MS = 15_000;
/** Jobs in one answer of /api/jobs unless the page asks for another limit. */
const DEFAULT_JOB_LIMIT = 5000;

export interface MonitorApp {
  app: Hono<{ Variables: AccessVariables }>;
  token: string;
  /** Ends the live channels and stops looking at the workspace (the server is createMonitor's). */
  close(): Promise<void>;
}

export type MonitorAppOptions = Omit<MonitorOptions, 'host' | 'port'>;

export function createMonitorApp(options: MonitorAppOptions): MonitorApp {
  const token = chooseToken(options);
  const data = monitorData(options);
  const services = new ServiceRegistry({ services: options.services, experiment: options.experiment });
  const logs = new JobLogs({ workspacePath: data.workspacePath, connector: data.connector });
  const launcher = options.launcher ?? launchersOf(options.experiment?.workspace ?? (typeof options.workspace === 'object' ? options.workspace : undefined));
  const assets = loadAssets();
  /** Ends every live channel still open. */
  const closing = new Set<() => void>();
  let closed = false;

  const app = new Hono<{ Variables: AccessVariables }>();
  app.use('*', async (c, next) => {
    await next();
    // The token never leaves in a Referer; the monitor's own pages are not framed or sniffed.
    c.header('Referrer-Policy', 'no-referrer');
    if (!c.req.path.startsWith('/services/')) {
      c.header('X-Content-Type-Options', 'nosniff');
      c.header('X-Frame-Options', 'DENY');
      c.header('Cache-Control', 'no-store');
    }
  });
  app.use('*', requireToken({ token }));
  app.use('*', refuseCrossSite());

  app.get('/', (c) => {
    c.header('Content-Security-Policy', assets.page.contentSecurityPolicy);
    return c.html(assets.page.html);
  });

  app.get('/assets/*', (c) => {
    const asset = assets.get(c.req.path.slice('/assets/'.length));
    if (!asset) return c.json({ error: `No asset ${c.req.path}` }, 404);
    return c.body(new Uint8Array(asset.body), 200, { 'Content-Type': asset.type });
  });

  app.get('/api/overview', async (c) => {
    const overview: OverviewResponse = {
      mode: data.mode,
      workspace: data.workspacePath,
      ...(data.experiment ? { experiment: data.experiment } : {}),
      experiments: await data.experiments(),
      services: [...services.views(), ...(await data.recordedServices())],
    };
    return c.json(overview);
  });

  app.get('/api/jobs', async (c) => {
    const query = c.req.query();
    const limit = query.limit === undefined ? DEFAULT_JOB_LIMIT : Number(query.limit);
    if (!Number.isSafeInteger(limit) || limit < 0) return c.json({ error: `limit=${query.limit} is not a number of jobs` }, 400);
    return c.json(filterJobs(await data.jobs(), { state: query.state || undefined, task: query.task || undefined, experiment: query.experiment || undefined, limit }));
  });

  app.get('/api/jobs/:taskId/:hash', async (c) => {
    const { taskId, hash } = c.req.param();
    const directory = logs.jobDirectory(taskId, hash);
    const jobs = await data.jobs();
    let view = jobs.find((job) => job.taskId === taskId && job.hash === hash);
    if (!view) {
      const record = await data.record(directory);
      if (!record) return c.json({ error: `No job ${taskId}/${hash} in this monitor` }, 404);
      view = recordView(record);
    }
    const detail: JobDetailView = {
      ...view,
      directory,
      dependencies: withStates(await data.dependencies({ taskId, hash, directory }), jobs),
      dependents: withStates(await data.dependents({ taskId, hash }), jobs),
    };
    return c.json(detail);
  });

  app.get('/api/jobs/:taskId/:hash/log/:stream', async (c) => {
    const { taskId, hash, stream } = c.req.param();
    return c.json(await logs.read({ taskId, hash, stream, offset: offsetOf(c), limit: numberOf(c.req.query('limit')) }));
  });

  // The output as it grows, until the job ends (Server-Sent Events: `output` chunks, then `end`).
  app.get('/api/jobs/:taskId/:hash/log/:stream/follow', async (c) => {
    const { taskId, hash, stream } = c.req.param();
    // Read once before answering, so that a refusal is an HTTP status, not an event.
    const first = await logs.read({ taskId, hash, stream, offset: offsetOf(c) });
    const pollMs = data.connector.kind === 'local' ? 250 : 1000;
    return streamSSE(c, async (sse) => {
      let ended = false;
      const end = () => {
        ended = true;
      };
      sse.onAbort(end);
      closing.add(end);
      try {
        let chunk = first;
        for (;;) {
          if (chunk.text !== '' || chunk === first) await sse.writeSSE({ event: 'output', data: JSON.stringify(chunk) });
          if (chunk.finished && chunk.next >= chunk.size) {
            await sse.writeSSE({ event: 'end', data: JSON.stringify({ next: chunk.next }) });
            return;
          }
          // More already written: read on at once; otherwise wait for more.
          // Not a reason for the process to stay (the server says whether it does).
          if (chunk.next >= chunk.size) await sleep(pollMs, undefined, { ref: false });
          if (ended) return;
          chunk = await logs.read({ taskId, hash, stream, offset: chunk.next });
        }
      } finally {
        closing.delete(end);
      }
    });
  });

  app.post('/api/jobs/:taskId/:hash/kill', async (c) => {
    const { taskId, hash } = c.req.param();
    const record = await data.record(logs.jobDirectory(taskId, hash));
    if (!record) return c.json({ error: `No job ${taskId}/${hash} in this monitor` }, 404);
    const result = await killJob({ job: record, connector: data.connector, by: 'the Baton monitor', launcher });
    return c.json(result, result.outcome === 'refused' ? 409 : 200);
  });

  // The live channel: `changed` whenever jobs, runs or services may have changed.
  app.get('/api/events', (c) =>
    streamSSE(c, async (sse) => {
      let version = 0;
      const send = () => void sse.writeSSE({ event: 'changed', data: String(++version) }).catch(() => undefined);
      const stopData = data.onChange(send);
      const stopServices = services.onChange(send);
      const keepAlive = setInterval(() => void sse.write(': keep-alive\n\n').catch(() => undefined), KEEP_ALIVE_MS).unref();
      try {
        await sse.writeSSE({ event: 'hello', data: String(version), retry: 2000 });
        await new Promise<void>((resolve) => {
          if (closed) return resolve();
          sse.onAbort(resolve);
          closing.add(resolve);
        });
      } finally {
        clearInterval(keepAlive);
        stopData();
        stopServices();
      }
    }),
  );

  app.all('/services/:id', (c) => proxyToService(c, services));
  app.all('/services/:id/*', (c) => proxyToService(c, services));

  app.notFound((c) => c.json({ error: `No route ${c.req.method} ${c.req.path}` }, 404));
  app.onError((error, c) => {
    if (error instanceof LogRefused) return c.json({ error: error.message }, error.status);
    return c.json({ error: `The monitor failed: ${error.message}` }, 500);
  });

  return {
    app,
    token,
    async close() {
      closed = true;
      for (const end of [...closing]) end();
      closing.clear();
      services.close();
      await data.close();
    },
  };
}

/** The token given, the experiment's, $BATON_MONITOR_TOKEN (when set and not empty), or a new one. */
function chooseToken(options: MonitorAppOptions): string {
  const token = options.token ?? options.experiment?.monitor.token ?? (process.env[TOKEN_VARIABLE] || undefined) ?? newToken();
  if (token === '' || !/^[\x21-\x7e]+$/.test(token)) {
    throw new UserInputError("The monitor's token must be printable ASCII characters, without spaces", {
      where: options.token === undefined ? TOKEN_VARIABLE : 'the monitor token',
      hint: `leave ${TOKEN_VARIABLE} unset for a random token, or set it to a long random value (e.g. openssl rand -base64 32)`,
    });
  }
  return token;
}

function monitorData(options: MonitorAppOptions): MonitorData {
  if (options.experiment) return new ExperimentData(options.experiment);
  if (options.workspace === undefined) throw new TypeError('createMonitor needs a workspace (its path, or the workspace opened) or an experiment');
  const pollIntervalMs = options.pollIntervalMs ?? DEFAULT_POLL_MS;
  if (typeof options.workspace === 'string') return new WorkspaceData({ path: options.workspace, connector: new LocalConnector(), status: options.status, pollIntervalMs });
  return new WorkspaceData({ path: options.workspace.path, connector: options.workspace.connector, status: options.status, pollIntervalMs });
}

/** The workspace's launcher of the handle's name. */
function launchersOf(workspace: Workspace | undefined): (handle: LaunchHandle) => Promise<Launcher | undefined> {
  return async (handle) => workspace?.launchers.get(handle.launcher);
}

function offsetOf(c: Context): number | undefined {
  return numberOf(c.req.query('offset'));
}

function numberOf(text: string | undefined): number | undefined {
  if (text === undefined || text === '') return undefined;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 0) throw new LogRefused(400, `${text} is not a position or a size`);
  return value;
}
