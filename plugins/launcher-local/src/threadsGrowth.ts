// How many threads the pool may use: one at first, then one more each time jobs
// wait for a thread behind one that has been at work on its batch for a while.
// Jobs of a trivial task end long before: one thread runs them as fast as the
// experiment's main thread hands them over, and the other cores stay free for it
// (on 2 cores, 1000 trivial tasks took ~8 % less time and ~15 % less CPU on one
// thread than on two). Longer jobs soon have every thread. A thread's own start
// (Node, its modules) never counts as work: the thread says when it begins a
// batch, through memory shared with this process (a SharedArrayBuffer).

/** One more thread while jobs wait behind a batch at work for this long, by default. */
export const GROW_AFTER_MS = 20;
/** How often a backlog is looked at while the pool may still grow. */
const GROW_CHECK_MS = 10;

/** A batch as the growth sees it: the flag its thread sets when it begins it. */
export interface WatchedBatch {
  /** Set to 1 by the thread when it begins the batch; see `begunFlag`. */
  readonly begun: Int32Array;
  /** When this process first saw the thread at work on it. */
  seenAtWorkSince?: number;
}

/** The flag a batch's thread sets when it begins the batch (`Atomics.store(flag, 0, 1)`). */
export function begunFlag(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));
}

export interface ThreadGrowthOptions {
  maxThreads: number;
  /** Every thread at once (a fresh thread per job starts one per job anyway). */
  allAtOnce: boolean;
  growAfterMs?: number;
  /** How many jobs wait for a thread now. */
  waiting: () => number;
  /** The limit grew: hand jobs to the new thread. */
  grown: (limit: number) => void;
}

export class ThreadGrowth {
  readonly #maxThreads: number;
  readonly #growAfterMs: number;
  readonly #waiting: () => number;
  readonly #grown: (limit: number) => void;
  /** Batches being run, one per busy thread. */
  readonly #batches = new Set<WatchedBatch>();
  #limit: number;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: ThreadGrowthOptions) {
    this.#maxThreads = options.maxThreads;
    this.#growAfterMs = options.growAfterMs ?? GROW_AFTER_MS;
    this.#waiting = options.waiting;
    this.#grown = options.grown;
    this.#limit = options.allAtOnce ? options.maxThreads : 1;
  }

  /** Threads the pool may use now. */
  get limit(): number {
    return this.#limit;
  }

  /** Threads busy with a batch. */
  get busy(): number {
    return this.#batches.size;
  }

  /** A thread takes the batch (and is busy until `ended`). */
  started(batch: WatchedBatch): void {
    this.#batches.add(batch);
  }

  ended(batch: WatchedBatch): void {
    this.#batches.delete(batch);
  }

  /** Jobs wait with every allowed thread busy: look again soon whether to add one. */
  backlogged(): void {
    if (this.#closed || this.#limit >= this.#maxThreads) return;
    this.#timer ??= setTimeout(() => this.#check(), GROW_CHECK_MS);
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #check(): void {
    this.#timer = undefined;
    // No job waits, or a thread is free for them (the launcher hands them over): nothing to do.
    if (this.#closed || this.#waiting() === 0 || this.#batches.size < this.#limit || this.#limit >= this.#maxThreads) return;
    const now = Date.now();
    let grow = false;
    for (const batch of this.#batches) {
      if (batch.seenAtWorkSince === undefined && Atomics.load(batch.begun, 0) === 1) batch.seenAtWorkSince = now;
      if (batch.seenAtWorkSince !== undefined && now - batch.seenAtWorkSince >= this.#growAfterMs) grow = true;
    }
    if (!grow) return this.backlogged();
    this.#limit++;
    this.#grown(this.#limit);
  }
}
