// The services of one experiment: attached (each id once), started on demand (by
// object, or by the name of a `services:` block of the workspace), recorded in the
// run's `services.json` for other processes (the monitor), stopped at the end
// unless kept.
import { posix } from 'node:path';
import { BatonError, UserInputError } from '../errors.ts';
import { unknownService } from '../settings/workspaceServices.ts';
import type { LoggerLike, ServiceContext, ServiceLike, ServiceListener } from '../types.ts';
import type { Workspace } from '../workspace/workspace.ts';

/** The run's record of its services (`<run>/services.json`): what each is, its state and URL. */
export const RUN_SERVICES_FILE = 'services.json';

export interface ExperimentServicesOptions {
  workspace: Workspace;
  experimentName: string;
  /** The run's folder, once opened. */
  runPath: () => string;
  /** A dry run records nothing. */
  dryRun: boolean;
  logger: LoggerLike & { child(name: string): LoggerLike };
  /** Called once a service is attached. */
  onAttached: (service: ServiceLike) => void;
}

export class ExperimentServices {
  readonly #options: ExperimentServicesOptions;
  readonly #services: ServiceLike[] = [];
  /** Writes of services.json, one after the other. */
  #written: Promise<void> = Promise.resolve();
  readonly #onState: ServiceListener = () => this.#record();
  #closed = false;

  constructor(options: ExperimentServicesOptions) {
    this.#options = options;
  }

  get list(): readonly ServiceLike[] {
    return this.#services;
  }

  add<S extends ServiceLike>(service: S): S {
    if (this.#services.some((other) => other.id === service.id)) {
      throw new UserInputError(`A service with id "${service.id}" is already attached`, { hint: 'give each service its own id' });
    }
    if (this.#closed) throw new BatonError(`Experiment "${this.#options.experimentName}" is closed`, { hint: 'attach services while the experiment runs' });
    service.attach?.(this.#context(service));
    this.#services.push(service);
    service.addListener(this.#onState);
    this.#record();
    this.#options.onAttached(service);
    return service;
  }

  async use(service: string | ServiceLike): Promise<ServiceLike> {
    let attached: ServiceLike;
    if (typeof service === 'string') {
      const known = this.#services.find((other) => other.id === service);
      if (known) {
        attached = known;
      } else {
        const { workspace } = this.#options;
        const declared = workspace.services;
        if (!declared?.names.includes(service)) {
          throw unknownService({ name: service, workspace, declared: declared?.names ?? [], settingsFile: workspace.settingsFile });
        }
        attached = this.add(await declared.create(service));
      }
    } else {
      attached = this.#services.includes(service) ? service : this.add(service);
    }
    await attached.start();
    return attached;
  }

  /** Stops every service that is not kept (a kept one runs on; the CLI prints where), then waits for the last record. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.allSettled(this.#services.filter((service) => service.state !== 'stopped' && !service.keep).map((service) => service.stop()));
    for (const service of this.#services) service.removeListener(this.#onState);
    await this.#written;
  }

  /** What a service is told when attached. */
  #context(service: ServiceLike): ServiceContext {
    const { workspace, experimentName, logger } = this.#options;
    return {
      experiment: experimentName,
      runPath: this.#options.runPath(),
      workspacePath: workspace.path,
      local: workspace.connector.kind === 'local',
      logger: logger.child(`service:${service.id}`),
    };
  }

  /** Writes `services.json` (after the writes already asked for), so that another process (the monitor) can list them. */
  #record(): void {
    const { workspace, logger, dryRun } = this.#options;
    const runPath = this.#options.runPath();
    if (dryRun || !runPath) return;
    const recordPath = posix.join(runPath, RUN_SERVICES_FILE);
    const { connector } = workspace;
    this.#written = this.#written.then(async () => {
      const summaries = this.#services.map((service) => service.toJSON?.() ?? { id: service.id, description: service.description, state: service.state, url: service.url });
      try {
        await connector.writeFile(recordPath, `${JSON.stringify(summaries, null, 2)}\n`);
      } catch (error) {
        logger.warn(`could not record the services in ${recordPath}: ${(error as Error).message}`);
      }
    });
  }
}
