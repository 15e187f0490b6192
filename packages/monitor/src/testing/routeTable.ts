// The monitor's routes as the refusal tests request them: read from the app's own route
// table (Hono's), so that a route added later is requested by those tests without anyone
// listing it there.
import { tmpdir } from 'node:os';
import { createMonitorApp } from '../monitorApp.ts';

/** What a route for every method (`app.all`, the proxy) is requested with: a safe method and each unsafe one. */
export const ANY_METHOD = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/** Methods that change nothing. */
export const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD']);

export interface RouteRequest {
  method: string;
  /** A path of that route that reaches a real job and service. */
  path: string;
  /** `METHOD /route/:pattern`, as registered. */
  route: string;
}

/** The route table of a monitor (the same for every monitor). */
export function monitorRoutes(): readonly { method: string; path: string }[] {
  const monitor = createMonitorApp({ workspace: tmpdir(), token: 'route-table' });
  void monitor.close();
  return monitor.app.routes;
}

/** Each route as requests: its method (each of ANY_METHOD for `all`), its parameters filled with `names`. */
export function routeRequests(names: { taskId: string; hash: string; service: string }, routes = monitorRoutes()): RouteRequest[] {
  const requests: RouteRequest[] = [];
  const seen = new Set<string>();
  for (const { method, path } of routes) {
    // Middleware (the access checks themselves) are registered for every path.
    if (path === '/*') continue;
    const concrete = path
      .replace(':taskId', names.taskId)
      .replace(':hash', names.hash)
      .replace(':stream', 'stdout')
      .replace(':id', names.service)
      .replace(/\*$/, path.startsWith('/assets/') ? 'app.js' : 'x');
    for (const each of method === 'ALL' ? ANY_METHOD : [method]) {
      const route = `${each} ${path}`;
      if (seen.has(route)) continue;
      seen.add(route);
      requests.push({ method: each, path: concrete, route });
    }
  }
  return requests;
}
