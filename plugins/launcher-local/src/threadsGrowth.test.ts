import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { begunFlag, ThreadGrowth } from './threadsGrowth.ts';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

function growth(options: { maxThreads?: number; allAtOnce?: boolean; waiting?: number } = {}) {
  const limits: number[] = [];
  const state = { waiting: options.waiting ?? 5 };
  const subject = new ThreadGrowth({
    maxThreads: options.maxThreads ?? 3,
    allAtOnce: options.allAtOnce ?? false,
    growAfterMs: 20,
    waiting: () => state.waiting,
    grown: (limit) => limits.push(limit),
  });
  return { subject, limits, state };
}

describe('ThreadGrowth', () => {
  it('allows one thread at first, every thread when they all start at once', () => {
    expect(growth().subject.limit).toBe(1);
    expect(growth({ allAtOnce: true }).subject.limit).toBe(3);
  });

  it('adds a thread when jobs wait behind a batch at work for growAfterMs, one at a time, up to maxThreads', () => {
    const { subject, limits } = growth();
    const first = { begun: begunFlag() };
    subject.started(first);
    subject.backlogged();
    Atomics.store(first.begun, 0, 1);
    vi.advanceTimersByTime(15);
    expect(limits).toEqual([]);
    vi.advanceTimersByTime(20);
    expect(limits).toEqual([2]);
    // The launcher hands a batch to the new thread; jobs still wait.
    const second = { begun: begunFlag() };
    subject.started(second);
    subject.backlogged();
    vi.advanceTimersByTime(100);
    expect(limits).toEqual([2, 3]);
    subject.started({ begun: begunFlag() });
    subject.backlogged();
    vi.advanceTimersByTime(1000);
    expect(subject.limit).toBe(3);
  });

  it('does not count a thread still starting (its batch not begun), nor grow when no job waits', () => {
    const starting = growth();
    starting.subject.started({ begun: begunFlag() });
    starting.subject.backlogged();
    vi.advanceTimersByTime(1000);
    expect(starting.limits).toEqual([]);

    const idle = growth({ waiting: 0 });
    const batch = { begun: begunFlag() };
    Atomics.store(batch.begun, 0, 1);
    idle.subject.started(batch);
    idle.subject.backlogged();
    vi.advanceTimersByTime(1000);
    expect(idle.limits).toEqual([]);
  });

  it('does not grow after a batch that ended, nor once closed', () => {
    const { subject, limits } = growth();
    const batch = { begun: begunFlag() };
    Atomics.store(batch.begun, 0, 1);
    subject.started(batch);
    subject.backlogged();
    vi.advanceTimersByTime(10);
    subject.ended(batch);
    vi.advanceTimersByTime(100);
    expect(limits).toEqual([]);

    const closed = growth();
    const running = { begun: begunFlag() };
    Atomics.store(running.begun, 0, 1);
    closed.subject.started(running);
    closed.subject.backlogged();
    closed.subject.close();
    vi.advanceTimersByTime(1000);
    expect(closed.limits).toEqual([]);
  });
});
