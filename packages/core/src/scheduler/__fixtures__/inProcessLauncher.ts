// A launcher whose jobs run inside the test process: a job "runs" for a few
// milliseconds (or until the test finishes it), then its `done` marker is
// written as job.sh would, and the launcher says so through onChange. Fast
// enough for thousands of jobs per second, so races show up in stress tests.
import { join } from 'node:path';
import { LocalConnector } from '../../connector/localConnector.ts';
import type { Connector, LaunchHandle, LaunchRequest, LaunchStatus, Launcher, SubmitOutcome } from '../../types.ts';
import type { Workspace } from '../../workspace/workspace.ts';

export interface InProcessLauncherOptions {
  name?: string;
  maxConcurrent?: number;
  pollIntervalMs?: number;
  submitDelayMs?: number;
  /** How long a job runs, in ms (0: it ends in the next turn of the event loop); undefined: until finish(). */
  runMs?: () => number | undefined;
  /** Tell the scheduler about ends through onChange (default true). */
  notify?: boolean;
  /** Jobs end (marker written, onChange told) before submit() returns: before the scheduler follows them. */
  endWhileSubmitting?: boolean;
  /** What status() says of a handle this launcher did not start (a restarted experiment's jobs). Default finished. */
  unknownHandles?: LaunchStatus['state'];
  /** Where job.sh's markers are written (the workspace's connector); default the local file system. */
  connector?: Connector;
  /** What warmUp does besides counting (e.g. throw). */
  onWarmUp?: () => void;
}

export class InProcessLauncher implements Launcher {
  readonly kind = 'in-process';
  readonly name: string;
  readonly connector: Connector;
  readonly host = {};
  /** Mutable: a launcher whose capacity changes says nothing to the scheduler. */
  maxConcurrent?: number;
  readonly pollIntervalMs: number;
  readonly submitDelayMs?: number;
  /** Every request submitted, in order, and the size of each submit call. */
  readonly submitted: LaunchRequest[] = [];
  readonly batches: number[] = [];
  /** Number of handles in each status call. */
  readonly statusCalls: number[] = [];
  /** How many times the scheduler said jobs are coming (warmUp), and how many jobs had been submitted at each. */
  readonly warmUps: number[] = [];
  /** Jobs in flight right now, and the most ever at once. */
  inFlight = 0;
  maxInFlight = 0;
  readonly #options: InProcessLauncherOptions;
  readonly #states = new Map<string, LaunchStatus['state']>();
  readonly #listeners = new Set<() => void>();
  #next = 1;

  constructor(options: InProcessLauncherOptions = {}) {
    this.#options = options;
    this.name = options.name ?? 'in-process';
    this.connector = options.connector ?? new LocalConnector();
    this.maxConcurrent = options.maxConcurrent;
    this.pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.submitDelayMs = options.submitDelayMs;
  }

  warmUp(): void {
    this.warmUps.push(this.submitted.length);
    this.#options.onWarmUp?.();
  }

  async submit(requests: readonly LaunchRequest[]): Promise<SubmitOutcome[]> {
    this.batches.push(requests.length);
    const outcomes = requests.map((request) => {
      this.submitted.push(request);
      this.#states.set(request.directory, 'running');
      this.inFlight++;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      const runMs = this.#options.endWhileSubmitting ? undefined : this.#options.runMs ? this.#options.runMs() : 0;
      if (runMs !== undefined) {
        const end = () => void this.finish(request.directory);
        if (runMs <= 0) setImmediate(end);
        else setTimeout(end, runMs);
      }
      const handle: LaunchHandle = {
        launcher: this.name,
        kind: this.kind,
        host: 'in-process',
        directory: request.directory,
        clusterId: String(this.#next++),
        submittedAt: new Date().toISOString(),
      };
      return { handle, state: 'running' as const };
    });
    if (this.#options.endWhileSubmitting) for (const request of requests) await this.finish(request.directory);
    return outcomes;
  }

  async status(handles: readonly LaunchHandle[]): Promise<LaunchStatus[]> {
    this.statusCalls.push(handles.length);
    return handles.map((handle) => ({ state: this.#states.get(handle.directory) ?? this.#options.unknownHandles ?? 'finished' }));
  }

  async cancel(handles: readonly LaunchHandle[]): Promise<void> {
    for (const handle of handles) await this.finish(handle.directory, 'cancelled');
  }

  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  /** Ends a job as job.sh would: its marker first, then the launcher forgets it. */
  async finish(directory: string, outcome: 'done' | 'failed' | 'cancelled' = 'done'): Promise<void> {
    if (this.#states.get(directory) === 'finished') return;
    if (outcome === 'done') await this.connector.writeFile(join(directory, 'done'), '');
    else await this.connector.writeFile(join(directory, 'failed'), JSON.stringify({ code: 1, reason: outcome === 'cancelled' ? 'cancelled' : 'failed', message: outcome }));
    this.#states.set(directory, 'finished');
    this.inFlight--;
    if (this.#options.notify !== false) for (const listener of this.#listeners) listener();
  }

  /** Says what status() answers for a job directory from now on. */
  setState(directory: string, state: LaunchStatus['state']): void {
    this.#states.set(directory, state);
  }
}

/** A workspace at `path` with these launchers (the first is the default). */
export function workspaceWith(path: string, launchers: Launcher[], connector: Connector = new LocalConnector()): Workspace {
  return {
    id: 'test',
    path,
    env: {},
    connector,
    launchers: new Map(launchers.map((launcher) => [launcher.name, launcher])),
    defaultLauncher: launchers[0]!.name,
    tokens: new Map(),
    close: async () => undefined,
  };
}
