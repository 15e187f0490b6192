import { describe, expect, it } from 'vitest';
import { MAX_BATCH, TaskDurations, takeBatch } from './threadsBatching.ts';

describe('threads batching', () => {
  it('calls a task short after a few quick runs, and long again when its runs get slow', () => {
    const durations = new TaskDurations();
    expect(durations.isShort('a')).toBe(false);
    for (let i = 0; i < 3; i++) durations.record('a', 0.5);
    expect(durations.isShort('a')).toBe(true);
    expect(durations.shortRunMs('a')).toBeCloseTo(0.5);
    for (let i = 0; i < 3; i++) durations.record('a', 200);
    expect(durations.isShort('a')).toBe(false);
    expect(durations.shortRunMs('a')).toBeUndefined();
    expect(new TaskDurations({ shortMs: 0 }).isShort('a')).toBe(false);
  });

  it('takes the first job, then following jobs of short tasks, in order, up to the size', () => {
    const short = new Map([
      ['s', 0.1],
      ['t', 0.2],
    ]);
    const options = (size: number) => ({ size, budgetMs: 10, shortRunMs: (taskId: string) => short.get(taskId) });
    const queue = ['s', 't', 's', 'long', 's', 's'].map((taskId, i) => ({ taskId, i }));
    expect(takeBatch(queue, options(8)).map((job) => job.i)).toEqual([0, 1, 2]);
    expect(takeBatch(queue, options(8)).map((job) => job.i)).toEqual([3]);
    expect(takeBatch(queue, options(1)).map((job) => job.i)).toEqual([4]);
    expect(takeBatch(queue, options(8)).map((job) => job.i)).toEqual([5]);
    expect(takeBatch(queue, options(8))).toEqual([]);
  });

  it('fills a batch with about the budget of average run time: trivial jobs MAX_BATCH at a time, longer ones fewer', () => {
    const durations = new TaskDurations();
    const runs = { trivial: 0.02, oneMs: 1, fourMs: 4, tenMs: 10 };
    for (const [taskId, ms] of Object.entries(runs)) for (let i = 0; i < 3; i++) durations.record(taskId, ms);
    const sizeOf = (taskId: string) =>
      takeBatch(
        Array.from({ length: 200 }, () => ({ taskId })),
        { size: MAX_BATCH, budgetMs: durations.shortMs, shortRunMs: (id) => durations.shortRunMs(id) },
      ).length;
    expect(sizeOf('trivial')).toBe(MAX_BATCH);
    expect(sizeOf('oneMs')).toBe(10);
    expect(sizeOf('fourMs')).toBe(2);
    // At the threshold: short, but a batch of one (its end is never told a whole run late).
    expect(sizeOf('tenMs')).toBe(1);
  });
});
