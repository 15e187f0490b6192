// No lost wake-ups: every path from "something changed" to "the scheduler
// looks again" (a job settles and wakes its dependents, a launcher's onChange,
// a poll, a batch window closing, a slot freed) is taken thousands of times
// with a launcher that runs jobs inside this process, so a race that strands
// a runnable job shows up as a run that never ends. The watchdog catches what
// no path wakes: it says so, and the run goes on.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { experiment } from '../experiment/experiment.ts';
import type { Job } from '../job/job.ts';
import { startSourceProcess } from '../__fixtures__/sourceProcess.ts';
import { setLogSink, type LogRecord } from '../logger.ts';
import { defineTask } from '../task/defineTask.ts';
import { InProcessLauncher, workspaceWith, type InProcessLauncherOptions } from './__fixtures__/inProcessLauncher.ts';
import { MemoryConnector } from './__fixtures__/memoryConnector.ts';

const step = defineTask({
  id: 'step',
  params: z.object({ run: z.number(), i: z.number(), after: z.array(z.string()).default([]) }),
  command: () => ['true'],
});

let root: string;
let records: LogRecord[];
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'baton-wake-'));
  records = [];
  setLogSink((record) => records.push(record));
});
afterEach(async () => {
  setLogSink(undefined);
  await rm(root, { recursive: true, force: true });
});

type Submit = (i: number, after: Job[]) => Job;

/** Runs what `build` submits in a fresh experiment; fails, naming the stuck jobs, if the run does not end in time. */
async function runAll(name: string, options: InProcessLauncherOptions, build: (submit: Submit, launcher: InProcessLauncher) => void, timeoutMs: number) {
  // Job files in memory: the test measures the scheduler, not the disk.
  const connector = new MemoryConnector();
  const launcher = new InProcessLauncher({ ...options, connector });
  await using xp = await experiment({ name, openedWorkspace: workspaceWith(join(root, name), [launcher], connector) });
  build((i, after) => xp.submit(step, { run: 0, i, after: after.map((job) => job.path('stdout')) as unknown as string[] }), launcher);
  let timer: NodeJS.Timeout | undefined;
  const summary = await Promise.race([
    xp.wait(),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const stuck = xp.jobs.filter((job) => !job.isFinished);
        reject(new Error(`${name}: stalled with ${stuck.length} job(s) unfinished, e.g. ${stuck.slice(0, 5).map((job) => `${job.shortName}:${job.state}`).join(', ')}`));
      }, timeoutMs);
    }),
  ]).finally(() => clearTimeout(timer));
  expect(summary.failed).toEqual([]);
  return { summary, launcher };
}

/** Parallel dependency chains, a wide fan-out and a fan-in: every kind of wake-up, many times. */
function chainsAndFans(chains: number, length: number, width: number): (submit: Submit) => number {
  return (submit) => {
    let i = 0;
    for (let chain = 0; chain < chains; chain++) {
      let previous: Job | undefined;
      for (let link = 0; link < length; link++) previous = submit(i++, previous ? [previous] : []);
    }
    const origin = submit(i++, []);
    const wide = Array.from({ length: width }, () => submit(i++, [origin]));
    const fanIn = submit(i++, wide);
    for (let k = 0; k < width / 4; k++) submit(i++, [fanIn, wide[k]!]);
    return i;
  };
}

const launchers: [string, InProcessLauncherOptions][] = [
  ['onChange, instant jobs', { runMs: () => 0 }],
  ['onChange, jobs of 0-2 ms, at most 3 at once', { runMs: () => Math.floor(Math.random() * 3), maxConcurrent: 3 }],
  ['no onChange: polls only', { runMs: () => 0, notify: false, pollIntervalMs: 2 }],
  ['batching window', { runMs: () => Math.floor(Math.random() * 2), submitDelayMs: 1, maxConcurrent: 40 }],
];

describe('no lost wake-ups', () => {
  for (const [label, options] of launchers) {
    it(`runs a long dependency chain to the end, repeatedly (${label})`, async () => {
      // One path at a time: a single wake-up lost strands the whole chain.
      for (let run = 0; run < 3; run++) {
        const { summary } = await runAll(`chain-${run}`, options, (submit) => {
          let previous: Job | undefined;
          for (let i = 0; i < 400; i++) previous = submit(i, previous ? [previous] : []);
        }, 20_000);
        expect(summary.counts.done).toBe(400);
      }
      expect(records.filter((record) => record.level !== 'debug')).toEqual([]);
    }, 60_000);

    it(`runs parallel chains, fan-outs and fan-ins to the end, repeatedly (${label})`, async () => {
      for (let run = 0; run < 2; run++) {
        let expected = 0;
        const build = chainsAndFans(8, 50, 300);
        const { summary, launcher } = await runAll(`run-${run}`, options, (submit) => (expected = build(submit)), 20_000);
        expect(summary.counts.done).toBe(expected);
        if (options.maxConcurrent) expect(launcher.maxInFlight).toBeLessThanOrEqual(options.maxConcurrent);
      }
      expect(records.filter((record) => record.level !== 'debug')).toEqual([]);
    }, 60_000);
  }

  it('notices when it is idle while work is runnable, says so, and starts it', async () => {
    // A launcher whose capacity grows without telling anyone: no path wakes the scheduler.
    const { summary } = await runAll('capacity', { runMs: () => 0, maxConcurrent: 0 }, (submit, launcher) => {
      setTimeout(() => (launcher.maxConcurrent = 2), 100);
      for (let i = 0; i < 5; i++) submit(i, []);
    }, 15_000);
    expect(summary.counts.done).toBe(5);
    expect(records).toEqual([expect.objectContaining({ level: 'warn', message: expect.stringMatching(/could start on "in-process" \(ready \d+, prepared \d+, in flight \d+, free slots \d+\) with nothing under way \(a lost wake-up\)/) })]);
  }, 20_000);

  it('keeps the process alive to catch a lost wake-up when nothing else is pending', async () => {
    const driver = fileURLToPath(new URL('./__fixtures__/stallDriver.ts', import.meta.url));
    const stalled = startSourceProcess(driver, [join(root, 'stall')]);
    const code = await stalled.exited;
    expect(stalled.output()).toContain('done 5');
    expect(code, stalled.output()).toBe(0);
  }, 30_000);
});
