import { describe, expect, it } from 'vitest';
import { TaskDurations, takeBatch } from './threadsBatching.ts';

describe('threads batching', () => {
  it('calls a task short after a few quick runs, and long again when its runs get slow', () => {
    const durations = new TaskDurations();
    expect(durations.isShort('a')).toBe(false);
    for (let i = 0; i < 3; i++) durations.record('a', 0.5);
    expect(durations.isShort('a')).toBe(true);
    for (let i = 0; i < 3; i++) durations.record('a', 200);
    expect(durations.isShort('a')).toBe(false);
    expect(new TaskDurations({ shortMs: 0 }).isShort('a')).toBe(false);
  });

  it('takes the first job, then following jobs of short tasks, in order, up to the size', () => {
    const short = new Set(['s', 't']);
    const isShort = (taskId: string) => short.has(taskId);
    const queue = ['s', 't', 's', 'long', 's', 's'].map((taskId, i) => ({ taskId, i }));
    expect(takeBatch(queue, { size: 8, isShort }).map((job) => job.i)).toEqual([0, 1, 2]);
    expect(takeBatch(queue, { size: 8, isShort }).map((job) => job.i)).toEqual([3]);
    expect(takeBatch(queue, { size: 1, isShort }).map((job) => job.i)).toEqual([4]);
    expect(takeBatch(queue, { size: 8, isShort }).map((job) => job.i)).toEqual([5]);
    expect(takeBatch(queue, { size: 8, isShort })).toEqual([]);
  });
});
