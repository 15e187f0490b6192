import { EventEmitter } from 'node:events';
import { WebService, type Experiment, type ServiceLike, type WebServiceStarted } from '@baton/core';
import { describe, expect, it } from 'vitest';
import { followServices } from './services.ts';
import type { StatusLine } from './statusLine.ts';
import { makeStyle } from './terminal.ts';

/** A web service whose start and crash the test decides. */
class FakeWeb extends WebService {
  readonly pid = 4242;
  constructor(
    id: string,
    readonly port: number,
    keep = false,
  ) {
    super({ id, keep });
  }
  protected async doStart(): Promise<WebServiceStarted> {
    return { url: `http://127.0.0.1:${this.port}/services/${this.id}/` };
  }
  protected async doStop(): Promise<void> {}
  crash(message: string): void {
    this.markFailed(new Error(message));
  }
}

function fakeRun(services: ServiceLike[] = []) {
  const events = new EventEmitter();
  const xp = { services, events } as unknown as Experiment;
  const attach = (service: ServiceLike) => {
    services.push(service);
    events.emit('service', service);
  };
  const printed: Array<[string, string]> = [];
  const statusLine: StatusLine = { update: () => undefined, print: (line, stream = 'stdout') => printed.push([stream, line]), close: () => undefined };
  return { xp, attach, printed, statusLine };
}

describe('service lines', () => {
  it('print each service\'s URL when it starts serving, also one attached before', async () => {
    const early = new FakeWeb('early', 1001);
    await early.start();
    const { xp, attach, printed, statusLine } = fakeRun([early]);
    const lines = followServices({ xp, statusLine, style: makeStyle({ color: false, unicode: true }) });
    const tb = new FakeWeb('tb', 6006);
    attach(tb);
    expect(printed).toEqual([['stdout', 'service early: http://127.0.0.1:1001/services/early/']]);
    await tb.start();
    expect(printed.at(-1)).toEqual(['stdout', 'service tb: http://127.0.0.1:6006/services/tb/']);
    // Restarted: its new URL.
    await tb.stop();
    await tb.start();
    expect(printed).toHaveLength(3);
    lines.close();
  });

  it('say when a service dies while serving, on stderr, but not a failed start (the run reports that)', async () => {
    const { xp, attach, printed, statusLine } = fakeRun();
    const lines = followServices({ xp, statusLine, style: makeStyle({ color: false, unicode: true }) });
    const tb = new FakeWeb('tb', 6006);
    attach(tb);
    await tb.start();
    tb.crash('Service "tb" stopped on its own (exit code 1); its output ended with:\n    boom');
    expect(printed.at(-1)).toEqual(['stderr', '✗ service tb stopped: Service "tb" stopped on its own (exit code 1); its output ended with:']);
    lines.close();
  });

  it('tell at the end where kept services run on, and how to stop them', async () => {
    const { xp, attach, printed, statusLine } = fakeRun();
    const lines = followServices({ xp, statusLine, style: makeStyle({ color: false, unicode: true }) });
    const kept = new FakeWeb('tb', 6006, true);
    const stopped = new FakeWeb('other', 7007, true);
    attach(kept);
    attach(stopped);
    await kept.start();
    printed.length = 0;
    lines.close();
    lines.close();
    expect(printed).toEqual([['stdout', 'service tb keeps running at http://127.0.0.1:6006/services/tb/ (pid 4242; stop it with: kill -TERM -- -4242)']]);
    // No longer listening.
    await kept.stop();
    await kept.start();
    expect(printed).toHaveLength(1);
  });
});
