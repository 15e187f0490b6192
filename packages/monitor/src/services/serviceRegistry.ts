// The services this monitor shows and reaches through its proxy: those it was given and,
// in experiment mode, those the experiment attaches (at any time). No other.
import type { Experiment, ServiceLike, ServiceListener } from '@baton/core';
import type { ServiceView } from '../types.ts';

/** How often a new service of the experiment is looked for while someone listens. */
const NEW_SERVICE_CHECK_MS = 1000;

export class ServiceRegistry {
  readonly #given: readonly ServiceLike[];
  readonly #experiment: Experiment | undefined;
  readonly #listeners = new Set<() => void>();
  /** Services whose state changes are followed. */
  readonly #followed = new Set<ServiceLike>();
  readonly #onState: ServiceListener = () => this.#changed();
  #timer: NodeJS.Timeout | undefined;

  constructor(options: { services?: readonly ServiceLike[]; experiment?: Experiment }) {
    this.#given = options.services ?? [];
    this.#experiment = options.experiment;
  }

  /** Every service, the first of an id winning. */
  all(): ServiceLike[] {
    const byId = new Map<string, ServiceLike>();
    for (const service of [...this.#given, ...(this.#experiment?.services ?? [])]) if (!byId.has(service.id)) byId.set(service.id, service);
    return [...byId.values()];
  }

  get(id: string): ServiceLike | undefined {
    return this.all().find((service) => service.id === id);
  }

  views(): ServiceView[] {
    return this.all().map((service) => {
      const view: ServiceView = { id: service.id, description: service.description, state: service.state };
      if (service.state === 'running' && service.url) view.href = `services/${encodeURIComponent(service.id)}/`;
      return view;
    });
  }

  /** Told when a service changes state or a new one appears. */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    this.#follow();
    if (this.#experiment) this.#timer ??= setInterval(() => this.#follow(), NEW_SERVICE_CHECK_MS).unref();
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0) this.#stopFollowing();
    };
  }

  close(): void {
    this.#listeners.clear();
    this.#stopFollowing();
  }

  #follow(): void {
    let added = false;
    for (const service of this.all()) {
      if (this.#followed.has(service)) continue;
      service.addListener(this.#onState);
      this.#followed.add(service);
      added = true;
    }
    // A service attached after the first look is news (the first look is not).
    if (added && this.#timer) this.#changed();
  }

  #stopFollowing(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    for (const service of this.#followed) service.removeListener(this.#onState);
    this.#followed.clear();
  }

  #changed(): void {
    for (const listener of [...this.#listeners]) listener();
  }
}
