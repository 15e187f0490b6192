// Dependencies from elsewhere: a job this experiment did not submit (loaded from
// another experiment) that a submitted job waits for. It is followed as re-attach
// follows a job: its markers say how it ended; while it has none, its process.json
// says who runs it, and that launcher whether it still does. Consumers of the same
// dependency share one wait.
import type { Job } from '../job/job.ts';
import type { Logger } from '../logger.ts';
import type { JobReference } from '../task/jobOutput.ts';
import type { Connector, LaunchHandle, LaunchStatus, Launcher } from '../types.ts';
import type { IoLimit } from './limitIo.ts';
import { readMarkers, readProcessFile } from './jobMarkers.ts';
import { MISSING_MARKER_GRACE_MS } from './pollFlights.ts';

/** A dependency another experiment runs is looked at this often, growing while it runs, up to the cap. */
const FOREIGN_FOLLOW_MS = 1000;
const FOREIGN_FOLLOW_MAX_MS = 30_000;

export interface ForeignDependenciesContext {
  connector: Connector;
  logger: Logger;
  io: IoLimit;
  isStopped(): boolean;
  /** Resolves when the experiment stops. */
  stopped: Promise<void>;
  /** The launcher of this workspace that can answer for a handle, if any. */
  launcherForHandle(handle: LaunchHandle): Launcher | undefined;
  statusOf(launcher: Launcher, handle: LaunchHandle): Promise<LaunchStatus>;
}

export class ForeignDependencies {
  readonly #context: ForeignDependenciesContext;
  /** Dependencies being followed, by hash. */
  readonly #waits = new Map<string, Promise<boolean>>();

  constructor(context: ForeignDependenciesContext) {
    this.#context = context;
  }

  /** Whether the dependency succeeded, once it ended (false when the experiment stops first). */
  succeeded(dependency: JobReference, consumer: Job): Promise<boolean> {
    let wait = this.#waits.get(dependency.hash);
    if (!wait) {
      wait = this.#follow(dependency, consumer);
      this.#waits.set(dependency.hash, wait);
    }
    return wait;
  }

  async #follow(dependency: JobReference, consumer: Job): Promise<boolean> {
    const { connector, io, logger } = this.#context;
    let interval: number | undefined;
    let endedWithoutMarkerAt: number | undefined;
    for (;;) {
      const markers = await io(() => readMarkers(connector, dependency.directory));
      if (markers.state !== 'none') return markers.state === 'done';
      const handle = await io(() => readProcessFile(connector, dependency.directory));
      // Never launched (or written by `generate`): nobody will make it done.
      if (!handle) return false;
      const launcher = this.#context.launcherForHandle(handle);
      // A launcher this process does not know, or cannot ask (another host): its markers will tell.
      const status = launcher ? await this.#context.statusOf(launcher, handle) : { state: 'unknown' as const };
      if (status.state === 'finished') {
        endedWithoutMarkerAt ??= Date.now();
        if (Date.now() - endedWithoutMarkerAt > MISSING_MARKER_GRACE_MS) return false;
      } else endedWithoutMarkerAt = undefined;
      if (interval === undefined) {
        logger.info(`job ${consumer.shortName} waits for ${dependency.taskId}/${dependency.hash.slice(0, 12)}, which another experiment runs (${dependency.directory})`);
        interval = Math.min(launcher?.pollIntervalMs ?? FOREIGN_FOLLOW_MS, FOREIGN_FOLLOW_MS);
      } else interval = Math.min(interval * 1.5, Math.max(launcher?.pollIntervalMs ?? 0, FOREIGN_FOLLOW_MAX_MS));
      await this.#pause(interval);
      if (this.#context.isStopped()) return false;
    }
  }

  /** Waits `ms`, or less if the experiment stops meanwhile (no timer outlives the stop). */
  async #pause(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([new Promise((resolve) => (timer = setTimeout(resolve, ms))), this.#context.stopped]);
    clearTimeout(timer);
  }
}
