// Everything the scheduler keeps about one launcher: its queue of ready jobs,
// the jobs being claimed and written, those prepared and waiting for a slot,
// those being handed over, those in flight, its batching window, its polling
// (timer, backoff, a poll running, another one asked for) and the batched
// status questions about jobs it does not follow yet (re-attach, dependencies).
import type { Job } from '../job/job.ts';
import type { LaunchHandle, LaunchStatus, Launcher } from '../types.ts';
import type { ReleaseClaim } from './admission.ts';

/** A gathering window never stays open longer than this many submit delays. */
const GATHER_MAX_DELAYS = 5;
/** Jobs claimed and written at once per launcher, and at least this many ahead of free slots. */
const MAX_PREPARING = 64;
const MIN_PREFETCH = 16;
/** Poll intervals grow by this factor per unchanged poll, up to MAX_POLL_BACKOFF times the launcher's. */
const POLL_BACKOFF_FACTOR = 1.5;
const MAX_POLL_BACKOFF = 8;
/** ...and never beyond this, unless the launcher's own interval is longer. */
const MAX_POLL_INTERVAL_MS = 30_000;
/** Poll interval of the lane that follows jobs by their markers alone. */
const MARKERS_ONLY_POLL_MS = 1000;
/** Status questions asked within this long go to the launcher as one query. */
const STATUS_BATCH_MS = 20;

/** A claimed job with its files written, waiting for a slot. */
export interface PreparedJob {
  job: Job;
  /** Releases the job's claim (`true` once its process.json or a marker says what became of it). */
  release: ReleaseClaim;
  /** The job has no process.json yet (never launched). */
  firstLaunch?: boolean;
}

/** A job handed to a launcher (or re-attached), followed until it lands. */
export interface Flight {
  job: Job;
  lane: LauncherLane;
  handle: LaunchHandle;
  /** When a finished job was first seen without a marker. */
  missingMarkerSince?: number;
  cancelRequested: boolean;
}

export interface LaneHooks {
  /**
   * Asks the launcher once about every flight of the lane; resolves true when
   * something changed, false when nothing did, undefined when the launcher could not tell.
   */
  poll(lane: LauncherLane): Promise<boolean | undefined>;
  /** The lane has work the scheduler should look at (a gathering window closed). */
  wake(): void;
  /** Keeps a promise for close() and logs its failure. */
  track(promise: Promise<unknown>): void;
  /** True while submitted jobs are still on their way to some lane (a batch should wait for them). */
  arriving(): boolean;
}

export class LauncherLane {
  /** Undefined for jobs re-attached from a launcher this process does not know: followed by their markers. */
  readonly launcher: Launcher | undefined;
  /** Ready jobs not yet claimed, in launch order. */
  readonly ready: Job[] = [];
  /** Jobs being claimed and written. */
  preparing = 0;
  /** Claimed jobs with their files written, waiting for a slot. */
  readonly prepared: PreparedJob[] = [];
  /** Jobs being handed to the launcher (counted against its bound). */
  starting = 0;
  /** Jobs in flight, by hash. */
  readonly flights = new Map<string, Flight>();
  /** Set while the launcher's status queries fail: told once, not at every poll. */
  statusFailing = false;
  /** When the directories of this lane's jobs in flight were last looked for. */
  directoriesCheckedAt = Date.now();
  /** How many changes the launcher has told of (onChange): a launch polls once its jobs are followed only if one came meanwhile. */
  changesTold = 0;

  readonly #hooks: LaneHooks;
  /** Open gathering window: first and last arrival, and the prepared count at the last. */
  #gatherWindow: { first: number; last: number; size: number } | undefined;
  #gatherTimer: NodeJS.Timeout | undefined;
  #pollTimer: NodeJS.Timeout | undefined;
  #polling: Promise<void> | undefined;
  /** A poll was asked for while one ran: run another as soon as it ends. */
  #repoll = false;
  /** Multiplier of the poll interval, grown while polls see no change. */
  #backoff = 1;
  #closed = false;
  /** Status questions waiting for the next batched query, and that query's timer. */
  #questions: { handle: LaunchHandle; answer: (status: LaunchStatus) => void }[] = [];
  #questionTimer: NodeJS.Timeout | undefined;
  #asking: Promise<void> | undefined;

  constructor(launcher: Launcher | undefined, hooks: LaneHooks) {
    this.launcher = launcher;
    this.#hooks = hooks;
  }

  get name(): string {
    return this.launcher?.name ?? '(markers only)';
  }

  /** Jobs between ready and in flight: claimed, written or being handed over. */
  get launching(): number {
    return this.preparing + this.starting;
  }

  enqueue(job: Job, end: 'front' | 'back' = 'back'): void {
    if (end === 'front') this.ready.unshift(job);
    else this.ready.push(job);
  }

  /**
   * How many ready jobs to claim and write now: ahead of free slots (so that a
   * slot that frees up only waits for the launcher), but bounded.
   */
  prefetchCount(): number {
    if (this.ready.length === 0) return 0;
    const maxConcurrent = this.launcher?.maxConcurrent;
    const window = maxConcurrent === undefined ? Infinity : Math.max(2 * maxConcurrent, MIN_PREFETCH);
    const waiting = this.preparing + this.prepared.length;
    return Math.max(0, Math.min(MAX_PREPARING - this.preparing, window - waiting, this.ready.length));
  }

  /** Slots left under the launcher's bound. */
  freeSlots(): number {
    const maxConcurrent = this.launcher?.maxConcurrent;
    return maxConcurrent === undefined ? Infinity : maxConcurrent - (this.flights.size + this.starting);
  }

  /**
   * True while a launcher that batches is still gathering jobs: until none is on
   * its way (ready, being prepared, or still in admission), or no job arrived for
   * submitDelayMs while none is ready or being prepared for this launcher, or 5
   * delays have passed since the first. A job already on this launcher's way keeps
   * the window open up to that cap: on a loaded machine its files may take longer
   * than one delay to write, and it belongs in the same batch. Wakes the scheduler
   * when the window closes.
   */
  isGathering(): boolean {
    if (this.prepared.length === 0) {
      this.#gatherWindow = undefined;
      return false;
    }
    const delay = this.launcher?.submitDelayMs ?? 0;
    if (delay <= 0) return false;
    const now = Date.now();
    const window = (this.#gatherWindow ??= { first: now, last: now, size: 0 });
    if (this.prepared.length !== window.size) Object.assign(window, { last: now, size: this.prepared.length });
    const onItsWayHere = this.ready.length > 0 || this.preparing > 0;
    const moreComing = onItsWayHere || this.#hooks.arriving();
    const cap = window.first + GATHER_MAX_DELAYS * delay;
    const closesAt = onItsWayHere ? cap : Math.min(window.last + delay, cap);
    if (!moreComing || now >= closesAt) {
      this.#gatherWindow = undefined;
      return false;
    }
    if (!this.#gatherTimer && !this.#closed) {
      this.#gatherTimer = setTimeout(() => {
        this.#gatherTimer = undefined;
        this.#hooks.wake();
      }, closesAt - now);
    }
    return true;
  }

  /** Follows a job the launcher now runs (or that is re-attached). */
  follow(job: Job, handle: LaunchHandle): Flight {
    const flight: Flight = { job, lane: this, handle, cancelRequested: false };
    this.flights.set(job.hash, flight);
    this.#backoff = 1;
    this.#armPoll();
    return flight;
  }

  /** The launcher told of a change (onChange): polls now, or right after the poll under way. */
  changed(): void {
    this.changesTold++;
    this.pollSoon();
  }

  /** Polls now, or right after the poll under way (what it saw may already be stale). */
  pollSoon(): void {
    if (this.#closed) return;
    if (this.#polling) {
      this.#repoll = true;
      return;
    }
    const run = this.#poll().finally(() => {
      this.#polling = undefined;
      if (this.#repoll) {
        this.#repoll = false;
        this.pollSoon();
      } else if (this.flights.size > 0) this.#armPoll();
    });
    this.#polling = run;
    this.#hooks.track(run);
  }

  /**
   * What the launcher says of a job this lane does not follow (yet). Questions
   * asked close together (200 jobs re-attached after a restart) go to the
   * launcher as one status query, not one each.
   */
  statusOf(handle: LaunchHandle): Promise<LaunchStatus> {
    if (!this.launcher || this.#closed) return Promise.resolve({ state: 'unknown' });
    return new Promise((answer) => {
      this.#questions.push({ handle, answer });
      // While a query runs, questions gather for the next one.
      if (!this.#asking) this.#questionTimer ??= setTimeout(() => this.#ask(), STATUS_BATCH_MS);
    });
  }

  /**
   * What is stuck in the lane, if anything: work it could do now (claim a ready
   * job, hand a prepared one to a free slot) with no step under way that would
   * lead to it, or jobs in flight with no poll to come. Never true of a lane
   * that is only waiting for a timer, a claim, the launcher or a poll.
   */
  stuck(): { launch: boolean; poll: boolean } {
    if (this.#closed) return { launch: false, poll: false };
    const busy = this.preparing > 0 || this.starting > 0 || this.#gatherTimer !== undefined;
    const launch = Boolean(this.launcher) && !busy && (this.prefetchCount() > 0 || (this.prepared.length > 0 && this.freeSlots() > 0));
    const poll = this.flights.size > 0 && !this.#pollTimer && !this.#polling;
    return { launch, poll };
  }

  /** Stops the lane's timers; nothing is polled or gathered any more. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#pollTimer);
    clearTimeout(this.#gatherTimer);
    clearTimeout(this.#questionTimer);
    this.#pollTimer = this.#gatherTimer = this.#questionTimer = undefined;
    for (const question of this.#questions.splice(0)) question.answer({ state: 'unknown' });
  }

  #ask(): void {
    this.#questionTimer = undefined;
    const questions = this.#questions.splice(0);
    if (questions.length === 0 || !this.launcher) return;
    const run = this.launcher
      .status(questions.map((question) => question.handle))
      .catch(() => [] as LaunchStatus[])
      .then((statuses) => questions.forEach((question, i) => question.answer(statuses[i] ?? { state: 'unknown' })))
      .finally(() => {
        this.#asking = undefined;
        if (this.#questions.length > 0 && !this.#closed) this.#questionTimer ??= setTimeout(() => this.#ask(), STATUS_BATCH_MS);
      });
    this.#asking = run;
    this.#hooks.track(run);
  }

  async #poll(): Promise<void> {
    if (this.flights.size === 0) return;
    const changed = await this.#hooks.poll(this);
    // Poll less often while nothing changes; at the launcher's own interval again when
    // something does, and while jobs being cancelled have yet to end.
    if (changed === true || [...this.flights.values()].some((flight) => flight.cancelRequested)) this.#backoff = 1;
    else if (changed === false) this.#backoff = Math.min(this.#backoff * POLL_BACKOFF_FACTOR, MAX_POLL_BACKOFF);
  }

  #armPoll(): void {
    if (this.#pollTimer || this.#closed) return;
    const base = this.launcher?.pollIntervalMs ?? MARKERS_ONLY_POLL_MS;
    const interval = Math.min(base * this.#backoff, Math.max(base, MAX_POLL_INTERVAL_MS));
    this.#pollTimer = setTimeout(() => {
      this.#pollTimer = undefined;
      this.pollSoon();
    }, interval);
  }
}
