// `/services/<id>/...` → the service of that id, at its URL's origin, the path kept as is
// (a service behind the monitor serves under `/services/<id>/`, as TensorBoard does with
// --path_prefix). The target comes only from a service registered with this monitor: the
// request chooses which service, never where to go. The monitor's token goes no further.
import type { Context } from 'hono';
import { proxy } from 'hono/proxy';
import { cookieName } from '../auth/access.ts';
import type { ServiceRegistry } from './serviceRegistry.ts';

export async function proxyToService(c: Context, services: ServiceRegistry): Promise<Response> {
  const id = c.req.param('id') ?? '';
  const service = services.get(id);
  if (!service) return c.json({ error: `No service "${id}" in this monitor` }, 404);
  const base = service.state === 'running' ? parseUrl(service.url) : undefined;
  if (!base) return c.json({ error: `Service "${id}" is ${service.state}${service.state === 'running' ? ' without a URL' : ''}: nothing to reach` }, 503);
  const url = new URL(c.req.url);
  url.searchParams.delete('token');
  const target = `${base.origin}${url.pathname}${url.search}`;
  const headers = new Headers(c.req.raw.headers);
  for (const name of ['host', 'authorization', 'origin', 'referer']) headers.delete(name);
  const cookies = withoutCookie(headers.get('cookie'), cookieName(c.req.url));
  if (cookies) headers.set('cookie', cookies);
  else headers.delete('cookie');
  headers.set('x-forwarded-host', url.host);
  headers.set('x-forwarded-proto', url.protocol.replace(':', ''));
  headers.set('x-forwarded-prefix', `/services/${encodeURIComponent(id)}`);
  try {
    return await proxy(target, {
      raw: c.req.raw,
      headers,
      // A redirect is the browser's to follow (back through the proxy), never the monitor's.
      redirect: 'manual',
    });
  } catch (error) {
    return c.json({ error: `Service "${id}" did not answer at ${base.origin}: ${(error as Error).message}` }, 502);
  }
}

function parseUrl(url: string | undefined): URL | undefined {
  if (url === undefined) return undefined;
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** The Cookie header without the monitor's own cookie. */
function withoutCookie(header: string | null, name: string): string | undefined {
  if (!header) return undefined;
  const kept = header
    .split(';')
    .map((part) => part.trim())
    .filter((part) => part !== '' && part.split('=', 1)[0] !== name);
  return kept.length > 0 ? kept.join('; ') : undefined;
}
