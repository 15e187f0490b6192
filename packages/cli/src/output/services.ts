// The services of a run, as the live output tells them: a line with its URL when one starts
// serving, a line when one dies while serving, and at the end where each kept one runs on.
import type { Experiment, ServiceLike, ServiceListener } from '@baton/core';
import type { StatusLine } from './statusLine.ts';
import { outputStyle, type OutputStyle } from './terminal.ts';

export interface ServiceLines {
  /** Stops listening; prints the services left running on purpose (kept). */
  close(): void;
}

export function followServices(options: { xp: Pick<Experiment, 'services' | 'events'>; statusLine: StatusLine; style?: OutputStyle }): ServiceLines {
  const { xp, statusLine } = options;
  const errorStyle = options.style ?? outputStyle(process.stderr);
  const followed = new Set<ServiceLike>();
  const onState: ServiceListener = ({ service, state, previous, error }) => {
    if (state === 'running') statusLine.print(`service ${service.id}: ${service.url ?? 'running'}`);
    // A failed start is the run's error, told once by the CLI; a crash while serving is news.
    else if (state === 'error' && previous === 'running') statusLine.print(`${errorStyle.red(errorStyle.cross)} service ${service.id} stopped: ${firstLine(error)}`, 'stderr');
  };
  const follow = (service: ServiceLike) => {
    if (followed.has(service)) return;
    followed.add(service);
    service.addListener(onState);
    if (service.state === 'running') statusLine.print(`service ${service.id}: ${service.url ?? 'running'}`);
  };
  for (const service of xp.services) follow(service);
  xp.events.on('service', follow);
  let closed = false;
  return {
    close() {
      if (closed) return;
      closed = true;
      xp.events.off('service', follow);
      for (const service of followed) {
        service.removeListener(onState);
        if (service.keep && service.state === 'running') statusLine.print(keptLine(service));
      }
    },
  };
}

/** `service tb keeps running at http://... (pid 1234; stop it with: kill -TERM -- -1234)` */
function keptLine(service: ServiceLike): string {
  const pid = (service as { pid?: unknown }).pid;
  const stop = typeof pid === 'number' ? ` (pid ${pid}; stop it with: kill -TERM -- -${pid})` : '';
  return `service ${service.id} keeps running at ${service.url ?? '(no URL)'}${stop}`;
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0] ?? message;
}
