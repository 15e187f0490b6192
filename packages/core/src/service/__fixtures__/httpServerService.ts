// A real HTTP server on a free port of 127.0.0.1, run as a service (tests only).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebService, type WebServiceStarted } from '../webService.ts';

/** A real HTTP server on a free port of 127.0.0.1, run as a service. */
export class HttpServerService extends WebService {
  servers = 0;
  #server: Server | undefined;

  constructor(
    private readonly body: string,
    id = 'http',
  ) {
    super({ id, description: 'a plain HTTP server' });
  }

  protected override async doStart(): Promise<WebServiceStarted> {
    const server = createServer((_request, response) => response.end(this.body));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    this.servers++;
    this.#server = server;
    const { port } = server.address() as AddressInfo;
    return { url: `http://127.0.0.1:${port}/` };
  }

  protected override async doStop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
  }
}
