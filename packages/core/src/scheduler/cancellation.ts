// Cancelling jobs in flight (a stop with kill): one cancel call per launcher,
// then the usual polls settle them as their launchers confirm their ends. A
// job whose launcher never confirms is marked cancelled after KILL_SETTLE_MS;
// the fallback timer is dropped as soon as the last cancelled job settled.
import type { Logger } from '../logger.ts';
import type { Connector, FailureInfo } from '../types.ts';
import type { FaultLog } from './faults.ts';
import { readMarkers, writeFailedMarker } from './jobMarkers.ts';
import type { Flight, LauncherLane } from './launcherLane.ts';

/** How long cancelled jobs get to end by themselves before they are marked cancelled. */
const KILL_SETTLE_MS = 30_000;

export interface CancellationOptions {
  connector: Connector;
  logger: Logger;
  faults: FaultLog;
  lanes(): Iterable<LauncherLane>;
  land(flight: Flight, state: 'done' | 'failed', failure?: FailureInfo): void;
  track(promise: Promise<unknown>): void;
}

export class Cancellation {
  readonly #options: CancellationOptions;
  #fallback: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: CancellationOptions) {
    this.#options = options;
  }

  /** Cancels these jobs, one call per launcher; resolves once the launchers took the calls. */
  async cancel(flights: readonly Flight[]): Promise<void> {
    const byLane = new Map<LauncherLane, Flight[]>();
    for (const flight of flights) {
      flight.cancelRequested = true;
      byLane.set(flight.lane, [...(byLane.get(flight.lane) ?? []), flight]);
    }
    // The polls keep the process alive while jobs are followed: this timer need not
    // (a stop that finishes after close() must not hold the process for it).
    if (!this.#closed) this.#fallback ??= setTimeout(() => this.#options.track(this.#settleUnconfirmed()), KILL_SETTLE_MS).unref();
    await Promise.all(
      [...byLane].map(async ([lane, list]) => {
        try {
          await lane.launcher?.cancel(list.map((flight) => flight.handle));
        } catch (error) {
          this.#options.logger.warn(`could not cancel ${list.length} job(s) on "${lane.name}": ${error instanceof Error ? error.message : String(error)}`);
        }
        lane.pollSoon();
      }),
    );
  }

  /** True while some cancelled job has not settled. */
  pending(): boolean {
    for (const lane of this.#options.lanes()) for (const flight of lane.flights.values()) if (flight.cancelRequested) return true;
    return false;
  }

  /** A job settled: the fallback goes once no cancelled job is left. */
  settled(flight: Flight): void {
    if (!flight.cancelRequested || this.pending()) return;
    clearTimeout(this.#fallback);
    this.#fallback = undefined;
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#fallback);
    this.#fallback = undefined;
  }

  async #settleUnconfirmed(): Promise<void> {
    const { connector, faults, land } = this.#options;
    for (const lane of this.#options.lanes()) {
      for (const flight of [...lane.flights.values()].filter((candidate) => candidate.cancelRequested)) {
        const markers = await readMarkers(connector, flight.job.directory).catch(() => ({ state: 'none' as const }));
        if (markers.state === 'done') land(flight, 'done');
        else if (markers.state === 'failed') land(flight, 'failed', markers.failure);
        else {
          const failure: FailureInfo = { code: null, reason: 'cancelled', message: 'cancelled by Baton; the launcher did not confirm its end' };
          // Best effort: the job ends here even where its directory cannot take the marker.
          await writeFailedMarker(connector, flight.job.directory, failure).catch((error: unknown) => faults.internal(error));
          land(flight, 'failed', failure);
        }
      }
    }
  }
}
