// A long-running helper attached to an experiment (TensorBoard, any web server):
// a state machine with listeners, so the monitor can show and restart it.
import { createLogger } from '../logger.ts';
import type { ServiceContext, ServiceLike, ServiceListener, ServiceState } from '../types.ts';

export interface ServiceOptions {
  id: string;
  /** What the monitor shows; defaults to the id. */
  description?: string;
  /** Leave it running when the experiment closes (default false: stopped with the experiment). */
  keep?: boolean;
}

/** What the monitor shows about a service. */
export interface ServiceSummary {
  id: string;
  description: string;
  state: ServiceState;
  url: string | undefined;
  /** Left running when the experiment closes. */
  keep: boolean;
}

const logger = createLogger('baton:service');

/**
 * Subclasses implement `doStart` and `doStop`; this class keeps the state
 * (stopped → starting → running → stopping → stopped, or error) and tells listeners.
 * `Started` is what `doStart` resolves with (a URL for web services).
 */
export abstract class Service<Started = void> implements ServiceLike {
  readonly id: string;
  readonly description: string;
  readonly keep: boolean;
  #context: ServiceContext | undefined;
  #state: ServiceState = 'stopped';
  readonly #listeners = new Set<ServiceListener>();
  #starting: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;
  #failure: unknown;

  constructor(options: ServiceOptions) {
    this.id = options.id;
    this.description = options.description ?? options.id;
    this.keep = options.keep ?? false;
  }

  /** The experiment's side: its run folder, its workspace (see ServiceContext). */
  attach(context: ServiceContext): void {
    this.#context = context;
  }

  /** What the experiment it is attached to told it; undefined when used on its own. */
  protected get context(): ServiceContext | undefined {
    return this.#context;
  }

  get state(): ServiceState {
    return this.#state;
  }

  /** Where the service can be reached, when it has such a place and is running. */
  get url(): string | undefined {
    return undefined;
  }

  addListener(listener: ServiceListener): void {
    this.#listeners.add(listener);
  }

  removeListener(listener: ServiceListener): void {
    this.#listeners.delete(listener);
  }

  /** Starts the service; while it is starting or running, returns the same start. */
  start(): Promise<void> {
    switch (this.#state) {
      case 'starting':
      case 'running':
        return this.#starting ?? Promise.resolve();
      case 'stopping':
        return (this.#stopping ?? Promise.resolve()).catch(ignore).then(() => this.start());
      default:
        this.#starting = this.#runStart();
        return this.#starting;
    }
  }

  /** Stops the service; a service still starting is stopped once it has started. */
  stop(): Promise<void> {
    switch (this.#state) {
      case 'stopped':
        return Promise.resolve();
      case 'error':
        // Nothing runs after a failure; stopping only records that it is not wanted.
        this.#setState('stopped');
        return Promise.resolve();
      case 'stopping':
        return this.#stopping ?? Promise.resolve();
      case 'starting':
        return (this.#starting ?? Promise.resolve()).catch(ignore).then(() => this.stop());
      case 'running':
        this.#stopping = this.#runStop();
        return this.#stopping;
    }
  }

  toJSON(): ServiceSummary {
    return { id: this.id, description: this.description, state: this.#state, url: this.url, keep: this.keep };
  }

  protected abstract doStart(): Promise<Started>;
  protected abstract doStop(): Promise<void>;

  /** Called with what `doStart` returned, just before the state becomes `running`. */
  protected onStarted(_started: Started): void {}

  /** Called when the service leaves `running` (stopping or failing). */
  protected onLeftRunning(): void {}

  /** For subclasses: the service died on its own (e.g. its process exited). */
  protected markFailed(error: unknown): void {
    if (this.#state !== 'running' && this.#state !== 'starting') return;
    if (this.#state === 'running') this.onLeftRunning();
    this.#failure = error;
    this.#setState('error', error);
  }

  async #runStart(): Promise<void> {
    this.#setState('starting');
    let started: Started;
    try {
      started = await this.doStart();
    } catch (error) {
      this.#setState('error', error);
      throw error;
    }
    // It failed on its own while starting (markFailed).
    if (this.#state === 'error') throw this.#failure;
    this.onStarted(started);
    this.#setState('running');
  }

  async #runStop(): Promise<void> {
    this.onLeftRunning();
    this.#setState('stopping');
    try {
      await this.doStop();
    } catch (error) {
      this.#setState('error', error);
      throw error;
    }
    this.#setState('stopped');
  }

  #setState(state: ServiceState, error?: unknown): void {
    const previous = this.#state;
    if (previous === state) return;
    this.#state = state;
    const event = error === undefined ? { service: this, state, previous } : { service: this, state, previous, error };
    // A copy, so a listener may remove itself while being told.
    for (const listener of [...this.#listeners]) {
      try {
        listener(event);
      } catch (listenerError) {
        logger.error('service "%s": a listener failed on %s → %s: %O', this.id, previous, state, listenerError);
      }
    }
  }
}

function ignore(): void {}
