import { describe, expect, it } from 'vitest';
import { setLogSink, type LogRecord } from '../logger.ts';
import type { ServiceState } from '../types.ts';
import { Service } from './service.ts';

/** A service whose start and stop are plain callbacks, counted. */
class CallbackService extends Service {
  starts = 0;
  stops = 0;

  constructor(
    private readonly startWith: () => Promise<void> = async () => {},
    private readonly stopWith: () => Promise<void> = async () => {},
  ) {
    super({ id: 'callback', description: 'a test service' });
  }

  protected override async doStart(): Promise<void> {
    this.starts++;
    await this.startWith();
  }

  protected override async doStop(): Promise<void> {
    this.stops++;
    await this.stopWith();
  }

  fail(error: unknown): void {
    this.markFailed(error);
  }
}

function recordStates(service: Service): ServiceState[] {
  const states: ServiceState[] = [service.state];
  service.addListener(({ state }) => states.push(state));
  return states;
}

describe('Service', () => {
  it('goes stopped → starting → running → stopping → stopped and tells its listeners each time', async () => {
    const service = new CallbackService();
    const events: Array<{ state: ServiceState; previous: ServiceState; same: boolean }> = [];
    service.addListener((event) => events.push({ state: event.state, previous: event.previous, same: event.service === service }));
    expect(service.state).toBe('stopped');

    await service.start();
    expect(service.state).toBe('running');
    await service.stop();
    expect(service.state).toBe('stopped');

    expect(events).toEqual([
      { state: 'starting', previous: 'stopped', same: true },
      { state: 'running', previous: 'starting', same: true },
      { state: 'stopping', previous: 'running', same: true },
      { state: 'stopped', previous: 'stopping', same: true },
    ]);
  });

  it('tells listeners synchronously, as the state changes', async () => {
    const service = new CallbackService();
    const seen: Array<[ServiceState, ServiceState]> = [];
    service.addListener(({ state }) => seen.push([state, service.state]));
    const starting = service.start();
    expect(seen).toEqual([['starting', 'starting']]);
    await starting;
    expect(seen.at(-1)).toEqual(['running', 'running']);
  });

  it('stops telling a removed listener', async () => {
    const service = new CallbackService();
    const states: ServiceState[] = [];
    const listener = ({ state }: { state: ServiceState }) => states.push(state);
    service.addListener(listener);
    await service.start();
    service.removeListener(listener);
    await service.stop();
    expect(states).toEqual(['starting', 'running']);
  });

  it('goes to error when it cannot start, and both the caller and the listeners get the error', async () => {
    const failure = new Error('port 6006 is taken');
    const service = new CallbackService(async () => {
      throw failure;
    });
    const errors: unknown[] = [];
    const states = recordStates(service);
    service.addListener(({ state, error }) => state === 'error' && errors.push(error));

    await expect(service.start()).rejects.toBe(failure);
    expect(service.state).toBe('error');
    expect(states).toEqual(['stopped', 'starting', 'error']);
    expect(errors).toEqual([failure]);
    expect(service.toJSON()).toEqual({ id: 'callback', description: 'a test service', state: 'error', url: undefined, keep: false });
  });

  it('can start again after a failed start', async () => {
    let attempts = 0;
    const service = new CallbackService(async () => {
      if (++attempts === 1) throw new Error('first start fails');
    });
    await expect(service.start()).rejects.toThrow('first start fails');
    await service.start();
    expect(service.state).toBe('running');
  });

  it('starts once when asked to start twice', async () => {
    const service = new CallbackService(() => new Promise((resolve) => setTimeout(resolve, 20)));
    const states = recordStates(service);
    const first = service.start();
    const second = service.start();
    expect(second).toBe(first);
    await Promise.all([first, second]);
    await service.start();
    expect(service.starts).toBe(1);
    expect(states).toEqual(['stopped', 'starting', 'running']);
  });

  it('stops a service that is still starting once it has started', async () => {
    const service = new CallbackService(() => new Promise((resolve) => setTimeout(resolve, 20)));
    const states = recordStates(service);
    const starting = service.start();
    await service.stop();
    await starting;
    expect(service.state).toBe('stopped');
    expect(states).toEqual(['stopped', 'starting', 'running', 'stopping', 'stopped']);
    expect(service.stops).toBe(1);
  });

  it('goes to error when it cannot stop', async () => {
    const service = new CallbackService(undefined, async () => {
      throw new Error('will not die');
    });
    const states = recordStates(service);
    await service.start();
    await expect(service.stop()).rejects.toThrow('will not die');
    expect(states).toEqual(['stopped', 'starting', 'running', 'stopping', 'error']);
  });

  it('goes to error when it fails on its own while running', async () => {
    const service = new CallbackService();
    await service.start();
    const errors: unknown[] = [];
    service.addListener(({ error }) => errors.push(error));
    service.fail(new Error('process exited with code 1'));
    expect(service.state).toBe('error');
    expect(errors).toEqual([new Error('process exited with code 1')]);
  });

  it('keeps telling the other listeners when one throws, and logs the failure', async () => {
    const records: LogRecord[] = [];
    setLogSink((record) => records.push(record));
    try {
      const service = new CallbackService();
      service.addListener(() => {
        throw new Error('broken listener');
      });
      const states = recordStates(service);
      await service.start();
      expect(states).toEqual(['stopped', 'starting', 'running']);
      expect(records).toHaveLength(2);
      expect(records[0]).toMatchObject({ level: 'error', namespace: 'baton:service' });
    } finally {
      setLogSink(undefined);
    }
  });
});
