// The push half of a launcher's status: tells the scheduler that some job's state may
// have changed, so that it polls at once instead of at its next interval.
import type { LoggerLike } from '@baton/core';

export class ChangeNotifier {
  readonly #launcherName: string;
  readonly #logger: LoggerLike;
  readonly #listeners = new Set<() => void>();
  #scheduled = false;

  constructor(options: { launcherName: string; logger: LoggerLike }) {
    this.#launcherName = options.launcherName;
    this.#logger = options.logger;
  }

  /** What `Launcher.onChange` returns: a function that unsubscribes. */
  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** One call per turn of the event loop, however many jobs ended in it. */
  notify(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      for (const listener of this.#listeners) {
        try {
          listener();
        } catch (error) {
          this.#logger.warn(`an onChange listener of launcher ${this.#launcherName} threw: ${(error as Error).message}`);
        }
      }
    });
  }
}
