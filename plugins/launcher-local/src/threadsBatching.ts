// Handing jobs to threads in batches. Each hand-over costs the experiment's main
// thread a message and a thread wake-up, and the thread tinypool's bookkeeping
// (about 0.3–1 ms on 2 busy cores): more than a trivial task itself. So jobs of a
// task known to be short (a few of its jobs ran, each in a few milliseconds) go to
// a thread several at a time, run one after the other, and are reported together.
// Jobs of other tasks (long ones, or not measured yet) go one by one, so that a
// long job never holds others back behind it in a thread while another is free.

/** A task is short, by default, when its jobs ran on average in at most this many milliseconds... */
export const SHORT_TASK_MS = 10;
/** ...over at least this many jobs. */
const SAMPLES = 3;
/** Most jobs in one batch: a job's end is told at most about SHORT_TASK_MS × MAX_BATCH late. */
export const MAX_BATCH = 16;

/** How long each task's jobs run, on average (recent ones weigh more). */
export class TaskDurations {
  readonly #tasks = new Map<string, { count: number; averageMs: number }>();
  readonly #shortMs: number;

  constructor(options: { shortMs?: number } = {}) {
    this.#shortMs = options.shortMs ?? SHORT_TASK_MS;
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

  isShort(taskId: string): boolean {
    const known = this.#tasks.get(taskId);
    return known !== undefined && known.count >= SAMPLES && known.averageMs <= this.#shortMs;
  }
}

/**
 * Takes the next batch off the front of the queue, in order: the first job, and
 * after it, while its task and theirs are short, up to `size` jobs.
 */
export function takeBatch<J extends { taskId: string }>(queue: J[], options: { size: number; isShort: (taskId: string) => boolean }): J[] {
  const first = queue.shift();
  if (!first) return [];
  const batch = [first];
  if (options.size <= 1 || !options.isShort(first.taskId)) return batch;
  while (batch.length < options.size && queue.length > 0 && options.isShort(queue[0]!.taskId)) batch.push(queue.shift()!);
  return batch;
}
