// Every change wakes the scheduler along an explicit path (a job settles and
// wakes its dependents, a launcher's onChange or a poll timer, a batch window
// closing, tokens released); this is the net under them. A lane with runnable
// work and nothing under way, jobs in flight with no poll to come, or jobs
// waiting for tokens with no retry to come, two looks in a row, is a lost
// wake-up: said at warn, and woken.
import type { Logger } from '../logger.ts';
import type { LauncherLane } from './launcherLane.ts';
import type { TokenShares } from './tokenShares.ts';

/** How often the watchdog looks. */
const WATCHDOG_MS = 2000;

export interface WatchdogOptions {
  logger: Logger;
  lanes(): Iterable<LauncherLane>;
  tokens: TokenShares;
  /** True while the scheduler has jobs to see through; the watchdog stops when it turns false. */
  active(): boolean;
  /** Looks at every lane again (claims, hand-overs). */
  pump(): void;
}

export class Watchdog {
  readonly #options: WatchdogOptions;
  #timer: NodeJS.Timeout | undefined;
  /** What was stuck at the last look: acted on when still stuck at this one. */
  #suspects = new Set<string>();

  constructor(options: WatchdogOptions) {
    this.#options = options;
  }

  /**
   * Starts looking, if not already. The timer keeps the process alive while the scheduler has
   * work to see through: a lost wake-up with nothing else pending must be caught here, not end
   * the process with the work undone. The scheduler stops it once idle, stopped or closed.
   */
  start(): void {
    this.#timer ??= setInterval(() => this.#look(), WATCHDOG_MS);
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#suspects.clear();
  }

  #look(): void {
    if (!this.#options.active()) return this.stop();
    const { lanes, tokens, pump, logger } = this.#options;
    const suspects = new Set<string>();
    const stuck = (key: string, what: string, wake: () => void) => {
      suspects.add(key);
      if (!this.#suspects.has(key)) return;
      logger.warn(`scheduler: ${what} with nothing under way (a lost wake-up); looking again`);
      wake();
    };
    for (const lane of lanes()) {
      const { launch, poll } = lane.stuck();
      if (launch) {
        const detail = `ready ${lane.ready.length}, prepared ${lane.prepared.length}, in flight ${lane.flights.size}, free slots ${lane.freeSlots()}`;
        stuck(`launch ${lane.name}`, `${lane.ready.length + lane.prepared.length} job(s) could start on "${lane.name}" (${detail})`, pump);
      }
      if (poll) stuck(`poll ${lane.name}`, `${lane.flights.size} job(s) on "${lane.name}" had no poll to come`, () => lane.pollSoon());
    }
    if (tokens.stuck()) stuck('tokens', 'jobs waiting for tokens had no retry to come', () => tokens.retryBlocked());
    this.#suspects = suspects;
  }
}
