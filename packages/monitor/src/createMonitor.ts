// `createMonitor`: the monitor's routes served over HTTP, on 127.0.0.1 unless told otherwise.
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import { createMonitorApp } from './monitorApp.ts';
import type { Monitor, MonitorOptions } from './types.ts';

export const DEFAULT_HOST = '127.0.0.1';
/** How long close() lets requests in progress finish. */
const CLOSE_GRACE_MS = 1000;

/** Starts a monitor; resolves once it listens. Its URL holds the token: show it to the user only. */
export async function createMonitor(options: MonitorOptions): Promise<Monitor> {
  const host = options.host ?? DEFAULT_HOST;
  const requestedPort = options.port ?? 0;
  if (!Number.isInteger(requestedPort) || requestedPort < 0 || requestedPort > 65535) {
    throw new RangeError(`The monitor's port must be an integer from 0 (any free port) to 65535, not ${requestedPort}`);
  }
  const monitor = createMonitorApp(options);
  // Hono's Node adapter, kept from replacing the process's global Request and Response.
  const server = createAdaptorServer({ fetch: monitor.app.fetch, overrideGlobalObjects: false });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(requestedPort, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    await monitor.close();
    throw error;
  }
  if (options.holdProcess === false) {
    server.unref();
    server.on('connection', (socket) => socket.unref());
  }
  const port = (server.address() as AddressInfo).port;
  const origin = `http://${urlHost(host)}:${port}`;
  let closing: Promise<void> | undefined;
  return {
    url: `${origin}/?token=${encodeURIComponent(monitor.token)}`,
    origin,
    host,
    port,
    token: monitor.token,
    close: () =>
      (closing ??= (async () => {
        await monitor.close();
        // The live channels have ended; connections still busy after a moment are cut.
        await new Promise<void>((resolve) => {
          const cut = setTimeout(() => 'closeAllConnections' in server && server.closeAllConnections(), CLOSE_GRACE_MS);
          server.close(() => {
            clearTimeout(cut);
            resolve();
          });
          if ('closeIdleConnections' in server) server.closeIdleConnections();
        });
      })()),
  };
}

/** True for an address that only this machine reaches. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  return bare === 'localhost' || bare === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(bare);
}

/** The host as a URL writes it; a wildcard address is reached here through loopback. */
function urlHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::' || host === '[::]') return '[::1]';
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}
