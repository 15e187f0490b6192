// A job's claim: what a process holds while it decides to launch a job and
// writes its files, until the launch is recorded. A job never launched is
// claimed by making its directory (freshClaims.ts); any other job under its
// claim lock, which also honours another process's fresh claim.
import { setTimeout as sleep } from 'node:timers/promises';
import { BatonError } from '../errors.ts';
import type { Job } from '../job/job.ts';
import { jobFile } from '../job/jobFiles.ts';
import type { Connector } from '../types.ts';
import type { FaultLog } from './faults.ts';
import { CLAIM_STALE_MS, FreshClaims } from './freshClaims.ts';

/** How long a process waits for another process's claim on a job. */
const CLAIM_WAIT_MS = 120_000;
/** Pauses between looks at a fresh claim another process holds. */
const FRESH_CLAIM_PAUSE_MS = 25;
const FRESH_CLAIM_PAUSE_MAX_MS = 1000;

/**
 * Ends a job's claim. `recorded`: the job directory now says what became of the job
 * (process.json, or a marker); a claim let go without it marks the directory as free
 * at once (freshClaims.ts). It never throws: a claim that cannot be released (its
 * directory removed, its lock taken over) is reported, and must not cut short the
 * steps that follow it (waking the scheduler, settling jobs).
 */
export type ReleaseClaim = (recorded?: boolean) => Promise<void>;

export class JobClaims {
  readonly #connector: Connector;
  readonly #faults: FaultLog;
  readonly #fresh: FreshClaims;
  /** Jobs whose directory did not exist when admitted: claimed by making it. */
  readonly #unmade = new WeakSet<Job>();
  /** Jobs whose directory this process made: nobody else holds a fresh claim on them. */
  readonly #made = new WeakSet<Job>();

  constructor(options: { connector: Connector; faults: FaultLog }) {
    this.#connector = options.connector;
    this.#faults = options.faults;
    this.#fresh = new FreshClaims(options.connector);
  }

  /** The job's directory did not exist when it was admitted: claimJob may claim it by making it. */
  unmade(job: Job): void {
    this.#unmade.add(job);
  }

  /**
   * Claims a job whose directory did not exist when it was admitted by making it,
   * and writes its files (`write`): nothing to look at in a directory just made.
   * Undefined when another process made it first (or the connector cannot keep
   * fresh claims): the claim lock decides then (`claim`).
   */
  async claimFresh(job: Job, write: () => Promise<void>): Promise<ReleaseClaim | undefined> {
    if (!this.#unmade.has(job) || !this.#fresh.supported) return undefined;
    this.#unmade.delete(job);
    if (!(await this.#fresh.make(job.directory))) return undefined;
    this.#made.add(job);
    this.#fresh.hold(job.directory);
    const release: ReleaseClaim = (recorded = false) => this.#fresh.release(job.directory, recorded).catch(() => undefined);
    try {
      await write();
    } catch (error) {
      await release();
      throw error;
    }
    return release;
  }

  /**
   * Takes the job's claim lock, then waits while another process holds a fresh
   * claim on the job (it made the directory and has not launched the job yet).
   */
  async claim(job: Job): Promise<ReleaseClaim> {
    const fresh = this.#fresh;
    if (!fresh.supported) await this.#connector.mkdir(job.directory);
    else if (await fresh.make(job.directory)) this.#made.add(job);
    const firstSeenAt = Date.now();
    const deadline = firstSeenAt + CLAIM_WAIT_MS;
    for (let pause = FRESH_CLAIM_PAUSE_MS; ; pause = Math.min(pause * 2, FRESH_CLAIM_PAUSE_MAX_MS)) {
      const unlock = await this.#connector.lock(jobFile(job.directory, 'claimLock'), { staleMs: CLAIM_STALE_MS, waitMs: CLAIM_WAIT_MS });
      const release: ReleaseClaim = async (recorded = false) => {
        await unlock().catch((error: unknown) => this.#faults.internal(error));
        // Best effort: at worst another process waits until the claim's time is stale.
        if (!recorded) await fresh.letGo(job.directory).catch(() => undefined);
      };
      let heldElsewhere: boolean;
      try {
        heldElsewhere = !this.#made.has(job) && (await fresh.heldElsewhere(job.directory, firstSeenAt));
      } catch (error) {
        await release(true);
        throw error;
      }
      if (!heldElsewhere) return release;
      await release(true);
      if (Date.now() >= deadline) {
        throw new BatonError(`Could not claim job ${job.shortName}: another process has held it since it made its directory (waited ${CLAIM_WAIT_MS} ms)`, {
          where: job.directory,
          hint: `wait for the other Baton process to launch it; a claim whose process died goes stale after ${CLAIM_STALE_MS / 1000} s`,
        });
      }
      await sleep(pause);
    }
  }

  /** Stops refreshing fresh claims (the experiment is closing). */
  close(): void {
    this.#fresh.close();
  }
}
