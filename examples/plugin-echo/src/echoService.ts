// A minimal web service: an HTTP server inside the experiment's process, on a free
// port of 127.0.0.1. It answers each request under its path with its greeting, the
// experiment that started it and the path asked, as JSON. (A service that runs a
// program instead subclasses ProcessWebService, as @baton/service-tensorboard does.)
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SERVICE_HOST, WebService, servicePath, type ServiceOptions, type WebServiceStarted } from '@baton/core';

export interface EchoServiceOptions extends ServiceOptions {
  /** Sent back in every answer. */
  greeting: string;
}

export class EchoService extends WebService {
  readonly greeting: string;
  #server: Server | undefined;

  constructor(options: EchoServiceOptions) {
    super(options);
    this.greeting = options.greeting;
  }

  /** Resolves once it listens; WebService makes `url` what this returns, while it runs. */
  protected override async doStart(): Promise<WebServiceStarted> {
    const server = createServer((request, response) => this.#answer(request, response));
    // Port 0: the system picks a free one. `once` rejects if listening fails.
    server.listen(0, SERVICE_HOST);
    await once(server, 'listening');
    this.#server = server;
    const { port } = server.address() as AddressInfo;
    // Under /services/<id>/, the path the monitor's proxy forwards unchanged.
    return { url: `http://${SERVICE_HOST}:${port}${servicePath(this.id)}` };
  }

  protected override async doStop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (!server) return;
    // Idle keep-alive connections would hold close() open.
    server.closeAllConnections();
    await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
  }

  #answer(request: IncomingMessage, response: ServerResponse): void {
    const path = request.url ?? '/';
    if (!path.startsWith(servicePath(this.id))) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: ${path}\n`);
      return;
    }
    // this.context is what the experiment told the service when it attached it.
    const answer = { service: this.id, greeting: this.greeting, experiment: this.context?.experiment ?? null, path };
    response.writeHead(200, { 'content-type': 'application/json' }).end(`${JSON.stringify(answer)}\n`);
  }
}
