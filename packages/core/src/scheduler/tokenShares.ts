// The counter-token side of admission: the shares each job holds, the jobs put
// aside because a token had no free units, and when to try those again (when a
// share of this process is released, and every TOKEN_RETRY_MS for shares held
// by other processes).
import type { Job } from '../job/job.ts';
import type { LaunchHandle, Token, TokenHolder } from '../types.ts';

/** How often jobs blocked on tokens held by other processes look again. */
const TOKEN_RETRY_MS = 500;

export interface TokenSharesOptions {
  /** This host's name, as token holders record it. */
  host: string;
  /** The token declared under `name` (the experiment's first, then the workspace's). */
  token(name: string): Token;
  /** Blocked jobs to try again: shares may have freed up. */
  retry(jobs: Job[]): void;
  /** A share could not be released (reported; the token counts it free once the job has its marker). */
  onReleaseError(error: unknown): void;
}

interface Share {
  token: Token;
  holder: TokenHolder;
}

export class TokenShares {
  readonly #options: TokenSharesOptions;
  readonly #held = new Map<Job, Share[]>();
  readonly #blocked = new Set<Job>();
  #retryTimer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: TokenSharesOptions) {
    this.#options = options;
  }

  /** Takes every share the job needs, or none of them. */
  async acquire(job: Job): Promise<boolean> {
    const held: Share[] = [];
    const holder: TokenHolder = { hash: job.hash, directory: job.directory, pid: process.pid, host: this.#options.host };
    for (const [name, count] of Object.entries(job.tokens)) {
      const token = this.#options.token(name);
      if (await token.tryAcquire(holder, count)) {
        held.push({ token, holder });
        continue;
      }
      for (const share of held) await share.token.release(share.holder);
      return false;
    }
    this.#held.set(job, held);
    return true;
  }

  /**
   * Once the job has its own process, its shares follow that process and its
   * process group (the job's command may outlive a killed job.sh) rather than
   * this one. A job run inside this process (a thread) keeps them as they are:
   * its marker ends them.
   */
  async rebind(job: Job, handle: LaunchHandle): Promise<void> {
    const held = this.#held.get(job);
    if (!held || handle.pid === undefined || handle.pid === process.pid || handle.host !== this.#options.host) return;
    for (const share of held) {
      // A launcher that runs processes itself starts each job as the leader of its own group (pgid = pid).
      share.holder = { ...share.holder, pid: handle.pid, processGroup: handle.pid };
      await share.token.tryAcquire(share.holder, job.tokens[share.token.name] ?? 0);
    }
  }

  /** Releases the job's shares; resolves at once when it holds none, and never rejects (what follows must happen). */
  async release(job: Job): Promise<void> {
    const held = this.#held.get(job);
    if (!held) return;
    this.#held.delete(job);
    await Promise.all(held.map((share) => share.token.release(share.holder).catch((error: unknown) => this.#options.onReleaseError(error))));
  }

  holds(job: Job): boolean {
    return this.#held.has(job);
  }

  /** Puts a job aside (without a slot or a claim) until shares may have freed up. */
  block(job: Job): void {
    this.#blocked.add(job);
    if (this.#retryTimer || this.#closed) return;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.retryBlocked();
    }, TOKEN_RETRY_MS);
  }

  /** Hands every blocked job back to be tried again. */
  retryBlocked(): void {
    if (this.#closed || this.#blocked.size === 0) return;
    const jobs = [...this.#blocked];
    this.#blocked.clear();
    this.#options.retry(jobs);
  }

  /** True when jobs wait for shares with no retry to come (a lost wake-up). */
  stuck(): boolean {
    return !this.#closed && this.#blocked.size > 0 && !this.#retryTimer;
  }

  /** Stops retrying; returns the jobs that were blocked. */
  close(): Job[] {
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    const jobs = [...this.#blocked];
    this.#blocked.clear();
    return jobs;
  }
}
