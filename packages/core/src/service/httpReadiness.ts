// When a web service serves: an HTTP request answered, not a sleep. Also a free port for it.

export interface WaitForHttpOptions {
  url: string;
  timeoutMs: number;
  /** Settles when the process that should answer has exited: no point waiting then. */
  exited?: Promise<unknown>;
  /** Whether an answer means "ready" (default: any status below 500). */
  accept?: (status: number) => boolean;
  /** Between two attempts (default 100 ms). */
  intervalMs?: number;
}

export type HttpReadiness =
  | { ready: true; status: number; afterMs: number }
  | { ready: false; reason: 'exited' | 'timeout'; lastAnswer: string; afterMs: number };

/** Asks `url` again and again until an answer is accepted, the process exits, or time runs out. */
export async function waitForHttp(options: WaitForHttpOptions): Promise<HttpReadiness> {
  const { url, timeoutMs, accept = (status) => status < 500, intervalMs = 100 } = options;
  const started = Date.now();
  let exited = false;
  void options.exited?.then(() => (exited = true));
  let lastAnswer = 'no answer yet';
  for (;;) {
    if (exited) return { ready: false, reason: 'exited', lastAnswer, afterMs: Date.now() - started };
    const answer = await ask({ url, timeoutMs: Math.min(2000, Math.max(100, timeoutMs - (Date.now() - started))) });
    if (typeof answer === 'number') {
      if (accept(answer)) return { ready: true, status: answer, afterMs: Date.now() - started };
      lastAnswer = `HTTP ${answer}`;
    } else {
      lastAnswer = answer;
    }
    if (Date.now() - started >= timeoutMs) return { ready: false, reason: 'timeout', lastAnswer, afterMs: Date.now() - started };
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** A port of `host` free right now (the system's pick). */
export function findFreePort(options: { host?: string } = {}): Promise<number> {
  const { host = '127.0.0.1' } = options;
  return new Promise((resolve, reject) => {
    const server = process.getBuiltinModule('node:net').createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** The status of one GET (no keep-alive, body discarded), or why there was none. */
function ask(options: { url: string; timeoutMs: number }): Promise<number | string> {
  return new Promise((resolve) => {
    const req = process.getBuiltinModule('node:http').request(options.url, { method: 'GET', agent: false, timeout: options.timeoutMs }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    req.once('timeout', () => req.destroy(new Error(`no answer within ${options.timeoutMs} ms`)));
    req.once('error', (error) => resolve((error as NodeJS.ErrnoException).code ?? error.message));
    req.end();
  });
}
