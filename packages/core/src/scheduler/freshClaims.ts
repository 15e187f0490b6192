// Fresh claims: a job never launched is claimed by making its directory, with no
// lock. `mkdir` without parents is atomic: the process that made the directory
// holds the job until its launch is recorded (process.json) or it lets the job go;
// any other process meets EEXIST and takes the job's claim lock, under which it
// honours a fresh claim still held (heldElsewhere). The holder shows it is alive as
// a lock does, by a modification time refreshed while it holds the claim: that of
// the job's params.json, which it writes right after making the directory (not the
// directory's own, which the claim lock's directory inside it changes). A claim let
// go without a launch sets that time in the past. A params.json unmodified for
// CLAIM_STALE_MS is nobody's fresh claim (its maker died, or a run wrote it and
// launched nothing); a directory without one, once looked at for as long.
// Connectors that cannot read or set a modification time take the claim lock for
// every job.
import { jobFile } from '../job/jobFiles.ts';
import { readProcessFile } from './jobMarkers.ts';
import type { Connector } from '../types.ts';

/** A claim nobody refreshed for this long is dead (as the claim lock's). */
export const CLAIM_STALE_MS = 10_000;
/** What a claim let go without a launch leaves as the directory's time: far older than stale, whatever the clocks. */
const LET_GO_AGE_MS = 24 * 3600 * 1000;

export class FreshClaims {
  readonly #connector: Connector;
  /** Directories held under a fresh claim, refreshed together. */
  readonly #held = new Set<string>();
  #timer: NodeJS.Timeout | undefined;

  constructor(connector: Connector) {
    this.#connector = connector;
  }

  /** True when the connector can tell and show a claim's age (see above). */
  get supported(): boolean {
    return typeof this.#connector.modifiedAgo === 'function' && typeof this.#connector.setModifiedAgo === 'function';
  }

  /**
   * Makes the directory, and only that one (its parent is made first when missing).
   * True when this call made it; false when it exists (another process has or had the job).
   */
  async make(directory: string): Promise<boolean> {
    try {
      await this.#connector.mkdir(directory, { exclusive: true });
      return true;
    } catch (error) {
      const code = errorCode(error);
      if (code === 'EEXIST') return false;
      if (code !== 'ENOENT') throw error;
    }
    await this.#connector.mkdir(parentOf(directory));
    try {
      await this.#connector.mkdir(directory, { exclusive: true });
      return true;
    } catch (error) {
      if (errorCode(error) === 'EEXIST') return false;
      throw error;
    }
  }

  /** Keeps the fresh claim on a directory this process made (and its params.json written) alive until it is let go. */
  hold(directory: string): void {
    this.#held.add(directory);
    this.#timer ??= setInterval(() => this.#refresh(), CLAIM_STALE_MS / 2).unref();
  }

  /** Ends the claim; `launched` when process.json now says who runs the job (its record of the claim's end). */
  async release(directory: string, launched: boolean): Promise<void> {
    this.#held.delete(directory);
    if (this.#held.size === 0) this.#stopTimer();
    if (!launched) await this.letGo(directory);
  }

  /** Sets the claim's time in the past: no process that looks later waits for a claim here. */
  async letGo(directory: string): Promise<void> {
    if (!this.supported) return;
    const params = jobFile(directory, 'params');
    if (await this.#connector.exists(params)) await this.#connector.setModifiedAgo!(params, LET_GO_AGE_MS);
  }

  /**
   * Under the job's claim lock, for a directory this process did not make: true while
   * another process may hold a fresh claim on it (never launched, no marker, and its
   * params.json modified less than CLAIM_STALE_MS ago; without a params.json, while
   * this process first saw it so less than CLAIM_STALE_MS ago, `firstSeenAt`).
   * A process.json that does not parse yet is the holder's launch record being
   * written (a first launch creates it in one go, holding no lock): still held.
   */
  async heldElsewhere(directory: string, firstSeenAt: number): Promise<boolean> {
    if (!this.supported) return false;
    const connector = this.#connector;
    if ((await connector.exists(jobFile(directory, 'process'))) && (await readProcessFile(connector, directory))) return false;
    if ((await connector.exists(jobFile(directory, 'done'))) || (await connector.exists(jobFile(directory, 'failed')))) return false;
    const age = (await connector.modifiedAgo!(jobFile(directory, 'params'))) ?? Date.now() - firstSeenAt;
    return age < CLAIM_STALE_MS;
  }

  /** Stops refreshing (the experiment closes; claims still held die with it). */
  close(): void {
    this.#held.clear();
    this.#stopTimer();
  }

  #refresh(): void {
    for (const directory of this.#held) {
      // A refresh that fails is retried at the next tick; the directory gone, the job fails on its own.
      this.#connector.setModifiedAgo!(jobFile(directory, 'params'), 0).catch(() => undefined);
    }
  }

  #stopTimer(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}

function parentOf(directory: string): string {
  const trimmed = directory.endsWith('/') ? directory.slice(0, -1) : directory;
  return trimmed.slice(0, trimmed.lastIndexOf('/')) || '/';
}

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}
