// Handing jobs to threads in batches. Each hand-over costs the experiment's main
// thread a message and a thread wake-up, and the thread tinypool's bookkeeping
// (about 0.3–1 ms on 2 busy cores): more than a trivial task itself. So jobs of a
// task known to be short (a few of its jobs ran, each in a few milliseconds) go to
// a thread several at a time, run one after the other, and are reported together:
// as many as fit in about the short threshold's worth of their average run time,
// up to MAX_BATCH, so that a job's end is told at most about that threshold late.
// Jobs of other tasks (long ones, or not measured yet) go one by one, so that a
// long job never holds others back behind it in a thread while another is free.

/** A task is short, by default, when its jobs ran on average in at most this many milliseconds... */
export const SHORT_TASK_MS = 10;
/** ...over at least this many jobs. */
const SAMPLES = 3;
/**
 * Most jobs in one batch (trivial tasks: a batch of 64 runs in about a millisecond).
 * 1000 trivial tasks on 2 cores took ~8 % less time in batches of 64 than of 16
 * (interleaved rounds), and 32 or 128 did no better than 64.
 */
export const MAX_BATCH = 64;

/** How long each task's jobs run, on average (recent ones weigh more). */
export class TaskDurations {
  readonly #tasks = new Map<string, { count: number; averageMs: number }>();
  /** The short threshold; also a batch's share of expected run time. */
  readonly shortMs: number;

  constructor(options: { shortMs?: number } = {}) {
    this.shortMs = options.shortMs ?? SHORT_TASK_MS;
  }

  /** How long a job's `run` took (its module's import left out: a thread does that once). */
  record(taskId: string, ms: number): void {
    const known = this.#tasks.get(taskId);
    if (!known) this.#tasks.set(taskId, { count: 1, averageMs: ms });
    else {
      known.count++;
      known.averageMs += (ms - known.averageMs) / Math.min(known.count, 8);
    }
  }

  /** The average run of a task known to be short, in milliseconds; undefined for any other task. */
  shortRunMs(taskId: string): number | undefined {
    const known = this.#tasks.get(taskId);
    return known !== undefined && known.count >= SAMPLES && known.averageMs <= this.shortMs ? known.averageMs : undefined;
  }

  isShort(taskId: string): boolean {
    return this.shortRunMs(taskId) !== undefined;
  }
}

/**
 * Takes the next batch off the front of the queue, in order: the first job, and
 * after it, while its task and theirs are short, more jobs, up to `size`, as long
 * as their average runs add up to at most `budgetMs`.
 */
export function takeBatch<J extends { taskId: string }>(queue: J[], options: { size: number; budgetMs: number; shortRunMs: (taskId: string) => number | undefined }): J[] {
  const first = queue.shift();
  if (!first) return [];
  const batch = [first];
  let work = options.size <= 1 ? undefined : options.shortRunMs(first.taskId);
  while (work !== undefined && batch.length < options.size && queue.length > 0) {
    const next = options.shortRunMs(queue[0]!.taskId);
    if (next === undefined || work + next > options.budgetMs) break;
    work += next;
    batch.push(queue.shift()!);
  }
  return batch;
}
