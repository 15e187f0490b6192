// A bound on concurrent file work (admission's), handing a finished call's slot to the next.
/** Runs file work with at most N calls under way at once. */
export type IoLimit = <T>(work: () => Promise<T>) => Promise<T>;

/**
 * A bound on concurrent file work, as lean as it can be: every job of a resumed
 * experiment passes through it once (10,000 jobs, 10,000 calls). A call that
 * ends hands its slot to the next one waiting.
 */
export function limitIo(concurrency: number): IoLimit {
  let active = 0;
  const waiting: (() => void)[] = [];
  let head = 0;
  return async <T>(work: () => Promise<T>): Promise<T> => {
    if (active < concurrency) active++;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await work();
    } finally {
      if (head < waiting.length) {
        const next = waiting[head]!;
        waiting[head++] = undefined as never;
        // Drop the handed-over front now and then (shift() per call would be quadratic).
        if (head > 1024 && head * 2 > waiting.length) {
          waiting.splice(0, head);
          head = 0;
        }
        next();
      } else active--;
    }
  };
}
