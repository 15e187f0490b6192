// Who may use the monitor: whoever holds its token, on every route without exception.
// The token arrives in the URL once (the link printed at start, as Jupyter's), moves into a
// cookie (HttpOnly, SameSite=Strict), and the browser goes on at the same URL without it;
// scripts send `Authorization: Bearer <token>`. Requests that change something (POST, and
// any unsafe method through the service proxy) must also come from the monitor's own pages.
import type { Context, MiddlewareHandler } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { tokenMatches } from './token.ts';

export type Credential = 'query' | 'bearer' | 'cookie';

export interface AccessVariables {
  /** How this request proved it holds the token. */
  credential: Credential;
}

export interface AccessOptions {
  token: string;
}

/**
 * The cookie that holds the token, one per port the browser sees (a browser shares cookies
 * between every port of a host, so two monitors on one host need two names).
 */
export function cookieName(requestUrl: string): string {
  const url = new URL(requestUrl);
  return `baton-monitor-${url.port || (url.protocol === 'https:' ? '443' : '80')}`;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Refuses (401) every request that does not hold the token; trades a token in the URL for the cookie. */
export function requireToken(options: AccessOptions): MiddlewareHandler<{ Variables: AccessVariables }> {
  return async (c, next) => {
    const url = new URL(c.req.url);
    const fromQuery = url.searchParams.get('token');
    const fromHeader = bearerToken(c.req.header('authorization'));
    const cookie = cookieName(c.req.url);
    const fromCookie = getCookie(c, cookie);
    // Any credential that is there must be right: a wrong one is never saved by a right one.
    const offered: [Credential, string | undefined][] = [
      ['query', fromQuery ?? undefined],
      ['bearer', fromHeader],
      ['cookie', fromCookie],
    ];
    const present = offered.filter((entry): entry is [Credential, string] => entry[1] !== undefined);
    if (present.length === 0) return unauthorized(c, 'no token');
    for (const [, value] of present) if (!tokenMatches(value, options.token)) return unauthorized(c, 'wrong token');
    c.set('credential', present[0]![0]);
    if (fromQuery !== null && SAFE_METHODS.has(c.req.method) && c.req.method !== 'OPTIONS') {
      setCookie(c, cookie, options.token, { httpOnly: true, sameSite: 'Strict', path: '/' });
      url.searchParams.delete('token');
      // One leading slash: `//host/...` would send the browser to another site.
      const location = `/${url.pathname.replace(/^\/+/, '')}${url.search}`;
      // A link followed from another site: a SameSite=Strict cookie is not sent along a redirect
      // that site started, so the page moves on by itself, as a request of the monitor's own.
      if (c.req.header('sec-fetch-site') === 'cross-site') return continuePage(c, location);
      return c.redirect(location, 303);
    }
    await next();
  };
}

/**
 * Refuses (403) requests with an unsafe method (POST, PUT, DELETE...) that another site's
 * page sent: the browser's Sec-Fetch-Site and Origin must say they come from the monitor.
 */
export function refuseCrossSite(): MiddlewareHandler<{ Variables: AccessVariables }> {
  return async (c, next) => {
    if (SAFE_METHODS.has(c.req.method)) return next();
    const site = c.req.header('sec-fetch-site');
    const origin = c.req.header('origin');
    const own = new URL(c.req.url).origin;
    if (site !== undefined && site !== 'same-origin') return forbidden(c, `a ${site} request (Sec-Fetch-Site)`);
    if (origin !== undefined && origin !== own) return forbidden(c, `a request from ${origin}`);
    // Browsers send Origin with every POST: a cookie without it did not come from a page of ours.
    if (site === undefined && origin === undefined && c.get('credential') === 'cookie') return forbidden(c, 'a request without Origin');
    return next();
  };
}

/** `Authorization: Bearer <token>` */
function bearerToken(header: string | undefined): string | undefined {
  const match = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

function unauthorized(c: Context, why: string): Response {
  const message = `This Baton monitor needs its token (${why}): open the URL it printed when it started (…/?token=…), or send Authorization: Bearer <token>.`;
  if (!wantsHtml(c)) return c.json({ error: message }, 401);
  // The link goes to the same address: followed from here, the cookie (if any) goes with it.
  const page =
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Baton monitor: token needed</title></head>' +
    `<body><h1>Token needed</h1><p>${message.replaceAll('<', '&lt;')}</p><p><a href="">Try again</a></p></body></html>`;
  return c.html(page, 401);
}

function forbidden(c: Context, what: string): Response {
  return c.json({ error: `Refused ${what}: the monitor changes things only for requests from its own pages.` }, 403);
}

/** A page that goes on to `location` (no script: the monitor's pages allow none inline). */
function continuePage(c: Context, location: string): Response {
  const href = location.replaceAll('&', '&amp;').replaceAll('"', '&quot;').replaceAll('<', '&lt;');
  return c.html(
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=${href}"><title>Baton monitor</title></head>` +
      `<body><p><a href="${href}">Open the monitor</a></p></body></html>`,
  );
}

function wantsHtml(c: Context): boolean {
  return c.req.method === 'GET' && (c.req.header('accept') ?? '').includes('text/html');
}
