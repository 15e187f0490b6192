import { EventEmitter } from 'node:events';
import type { Experiment, FailureInfo, JobState, JobStateEvent } from '@baton/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { followExperiment, progressText } from './progress.ts';
import type { StatusLine } from './statusLine.ts';
import { makeStyle } from './terminal.ts';

/** A terminal that draws Unicode, without colors. */
const unicode = makeStyle({ color: false, unicode: true });

interface FakeJob {
  taskId: string;
  hash: string;
  directory: string;
  state: JobState;
  detail?: string;
  failure?: FailureInfo;
}

function fakeExperiment(count: number) {
  const jobs: FakeJob[] = Array.from({ length: count }, (_, i) => ({ taskId: 'train', hash: `${i}`.padStart(64, '0'), directory: `/ws/jobs/train/${i}`, state: 'waiting' }));
  const events = new EventEmitter();
  const xp = { name: 'xp', jobs, events, services: [] } as unknown as Experiment;
  const change = (job: FakeJob, state: JobState, extra: Partial<FakeJob> = {}) => {
    const previous = job.state;
    Object.assign(job, { state, ...extra });
    events.emit('job-state', { ...job, previous } satisfies JobStateEvent);
  };
  return { xp, jobs, change };
}

function fakeStatusLine() {
  const printed: string[] = [];
  const updates: string[] = [];
  const statusLine: StatusLine = { update: (text) => updates.push(text), print: (line) => printed.push(line), close: () => undefined };
  return { statusLine, printed, updates };
}

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('progressText', () => {
  it('counts every submitted job, waiting ones included, with the pending reasons of queued ones', () => {
    const { xp, jobs } = fakeExperiment(5);
    Object.assign(jobs[0]!, { state: 'done' });
    Object.assign(jobs[1]!, { state: 'queued', detail: 'Resources' });
    Object.assign(jobs[2]!, { state: 'queued', detail: 'Resources' });
    expect(progressText({ xp, startedAt: 0, now: 65_000, style: unicode })).toBe('xp: 5 jobs  done 1 · queued 2 (Resources 2) · waiting 2  1m05s');
  });
  it('is ASCII for a pipe or a dumb terminal, and colored only when colors are on', () => {
    const { xp, jobs } = fakeExperiment(2);
    Object.assign(jobs[0]!, { state: 'done' });
    Object.assign(jobs[1]!, { state: 'failed' });
    expect(progressText({ xp, startedAt: 0, now: 1_000, style: makeStyle({ color: false, unicode: false }) })).toBe('xp: 2 jobs  done 1 | failed 1  1.0s');
    const colored = progressText({ xp, startedAt: 0, now: 1_000, style: makeStyle({ color: true, unicode: true }) });
    expect(colored).toBe('xp: 2 jobs  \u001b[32mdone 1\u001b[39m · \u001b[31mfailed 1\u001b[39m  1.0s');
  });
});

describe('followExperiment off a terminal', () => {
  it('prints a line at each interval, and at once (once) for a failure or a new pending reason', () => {
    const { xp, jobs, change } = fakeExperiment(3);
    const { statusLine, printed, updates } = fakeStatusLine();
    const progress = followExperiment({ xp, statusLine, startedAt: Date.now(), reportFailures: true, plain: { intervalMs: 10_000 }, style: unicode });
    const progressLines = () => printed.filter((line) => /^\d\d:\d\d:\d\d xp: /.test(line));

    vi.advanceTimersByTime(9_000);
    expect(progressLines()).toEqual([]);
    vi.advanceTimersByTime(1_000);
    expect(progressLines()).toHaveLength(1);
    expect(progressLines()[0]).toContain('xp: 3 jobs  waiting 3');

    // Ordinary moves wait for the next interval.
    change(jobs[0]!, 'ready');
    change(jobs[0]!, 'running');
    vi.advanceTimersByTime(1_000);
    expect(progressLines()).toHaveLength(1);

    change(jobs[1]!, 'queued', { detail: 'Priority' });
    vi.advanceTimersByTime(200);
    expect(progressLines()).toHaveLength(2);
    expect(progressLines()[1]).toContain('queued 1 (Priority 1)');
    // The same reason again is no news.
    change(jobs[1]!, 'queued', { detail: 'Priority' });
    vi.advanceTimersByTime(200);
    expect(progressLines()).toHaveLength(2);

    change(jobs[0]!, 'failed', { failure: { code: 3, reason: 'failed', message: '' } });
    expect(printed).toContain(`✗ train/${'0'.repeat(12)} failed (exit 3)`);
    // At most a line a second: the failure came 0.4 s after the last one.
    vi.advanceTimersByTime(200);
    expect(progressLines()).toHaveLength(2);
    vi.advanceTimersByTime(400);
    expect(progressLines()).toHaveLength(3);
    expect(progressLines()[2]).toContain('failed 1');
    expect(updates).toEqual([]);
    progress.close();
  });

  it('prints a few failures of one cause, then says the summary counts the others', () => {
    const { xp, jobs, change } = fakeExperiment(10);
    const { statusLine, printed } = fakeStatusLine();
    const progress = followExperiment({ xp, statusLine, startedAt: Date.now(), reportFailures: true, plain: { intervalMs: 0 }, style: unicode });
    for (const job of jobs) {
      change(job, 'failed', { failure: { code: null, reason: 'failed', message: `ENOSPC: no space left on device, write '${job.directory}/params.json'` } });
    }
    const failures = printed.filter((line) => line.startsWith('✗'));
    expect(failures).toHaveLength(4);
    expect(failures[3]).toBe("✗ more jobs fail the same way (failed: ENOSPC: no space left on device, write '<job>/params.json'); the summary counts them");
    progress.close();
  });
});

describe('followExperiment on a terminal', () => {
  it('keeps one live line up to date, total included from the start', () => {
    const { xp, jobs, change } = fakeExperiment(2);
    const { statusLine, printed, updates } = fakeStatusLine();
    const progress = followExperiment({ xp, statusLine, startedAt: Date.now(), reportFailures: true, style: unicode });
    vi.advanceTimersByTime(150);
    expect(updates.at(-1)).toMatch(/^xp: 2 jobs {2}waiting 2 {2}/);
    change(jobs[0]!, 'running');
    vi.advanceTimersByTime(150);
    expect(updates.at(-1)).toMatch(/^xp: 2 jobs {2}running 1 · waiting 1 {2}/);
    expect(printed).toEqual([]);
    progress.close();
  });
});
