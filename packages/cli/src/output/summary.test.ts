import type { ExperimentSummary } from '@baton/core';
import { describe, expect, it } from 'vitest';
import { formatSummary, jobsShowingStderr } from './summary.ts';
import { makeStyle } from './terminal.ts';

const plain = makeStyle({ color: false, unicode: false });

function failedJob(i: number, message: string, code: number | null = null): ExperimentSummary['failed'][number] {
  const hash = `${i}`.padStart(64, 'a');
  const directory = `/ws/jobs/train/${hash}`;
  return { taskId: 'train', hash, directory, failure: { code, reason: 'failed', message: message.replace('<job>', directory) }, stderrPath: `${directory}/stderr` };
}

describe('formatSummary', () => {
  it('says what a resumed run did not run again: every job, or some of them', () => {
    const summary = (done: number, alreadyDone: number) => ({
      counts: { waiting: 0, ready: 0, queued: 0, running: 0, done, failed: 0 },
      failed: [],
      active: [],
      elapsedMs: 20,
      alreadyDone,
    });
    const format = (done: number, alreadyDone: number) => formatSummary({ summary: summary(done, alreadyDone), experiment: 'sweep', killed: false, runMode: 'normal', style: plain });
    expect(format(6, 6)).toEqual(['Finished: 6 jobs (6 done) in 0.0s', 'All 6 were already done: nothing ran again.']);
    expect(format(1, 1)).toEqual(['Finished: 1 job (1 done) in 0.0s', 'It was already done: nothing ran again.']);
    expect(format(10, 4)).toEqual(['Finished: 10 jobs (10 done) in 0.0s', '4 jobs already done did not run again.']);
    expect(format(3, 0)).toEqual(['Finished: 3 jobs (3 done) in 0.0s']);
  });

  it('groups many failures of one cause (a full disk) into one line with a few examples, and lists the others', () => {
    const failed = Array.from({ length: 120 }, (_, i) => failedJob(i, "Baton could not run the job: ENOSPC: no space left on device, write '<job>/params.json'"));
    failed.splice(7, 0, failedJob(999, 'broken', 3));
    const lines = formatSummary({
      summary: { counts: { waiting: 0, ready: 0, queued: 0, running: 0, done: 5, failed: 121 }, failed, active: [], elapsedMs: 3_000, alreadyDone: 0 },
      experiment: 'big',
      killed: false,
      runMode: 'normal',
      style: plain,
    });
    expect(lines[0]).toBe('Finished: 126 jobs (5 done, 121 failed) in 3.0s');
    expect(lines.slice(1)).toEqual([
      '\n121 jobs failed:',
      "  120 jobs: failed: Baton could not run the job: ENOSPC: no space left on device, write '<job>/params.json'",
      `    train/aaaaaaaaaaaa  stderr: ${failed[0]!.stderrPath}`,
      `    train/aaaaaaaaaaaa  stderr: ${failed[1]!.stderrPath}`,
      `    train/aaaaaaaaaaaa  stderr: ${failed[2]!.stderrPath}`,
      '    ... and 117 more (baton jobs list --state failed --experiment big)',
      `  train/${failed[7]!.hash.slice(0, 12)}  failed (exit 3): broken`,
      `    stderr: ${failed[7]!.stderrPath}`,
    ]);
  });

  it('after a signal: what still runs with the command that kills it, and what was not started', () => {
    const lines = formatSummary({
      summary: {
        counts: { waiting: 1, ready: 0, queued: 0, running: 1, done: 0, failed: 0 },
        failed: [],
        active: [
          { taskId: 'nap', hash: 'b'.repeat(64), directory: '/ws/jobs/nap/b', state: 'running' },
          { taskId: 'after', hash: 'c'.repeat(64), directory: '/ws/jobs/after/c', state: 'waiting' },
        ],
        elapsedMs: 1_000,
        alreadyDone: 0,
      },
      experiment: 'chain',
      interruptedBy: 'SIGTERM',
      killed: false,
      runMode: 'normal',
      style: plain,
    });
    expect(lines[0]).toBe('Stopped by SIGTERM: 2 jobs (1 waiting, 1 running) in 1.0s');
    expect(lines).toContain('To stop them: baton jobs kill /ws/jobs/nap/b');
    expect(lines).toContain('1 job was not started; the next run of this experiment starts it.');
  });

  it('after a signal: jobs in threads of this process stopped with it and run again on resume, with no kill command', () => {
    const lines = formatSummary({
      summary: {
        counts: { waiting: 0, ready: 0, queued: 1, running: 2, done: 3, failed: 0 },
        failed: [],
        active: [
          { taskId: 'fn', hash: 'b'.repeat(64), directory: '/ws/jobs/fn/b', state: 'running', launcher: 'threads', outlivesProcess: false },
          { taskId: 'fn', hash: 'c'.repeat(64), directory: '/ws/jobs/fn/c', state: 'queued', launcher: 'threads', outlivesProcess: false },
          { taskId: 'nap', hash: 'd'.repeat(64), directory: '/ws/jobs/nap/d', state: 'running', launcher: 'local' },
        ],
        elapsedMs: 1_000,
        alreadyDone: 0,
      },
      experiment: 'mixed',
      interruptedBy: 'SIGINT',
      killed: false,
      runMode: 'normal',
      style: plain,
    });
    expect(lines.slice(1)).toEqual([
      '\n1 job is still running or queued; they keep going and the next run of this experiment re-attaches them:',
      `  nap/dddddddddddd  running  /ws/jobs/nap/d`,
      'To stop them: baton jobs kill /ws/jobs/nap/d',
      '(or run again with --kill, so that Ctrl-C also cancels running jobs)',
      '\n2 thread jobs were stopped with this process (launcher threads) and will run again on resume:',
      `  fn/bbbbbbbbbbbb  /ws/jobs/fn/b`,
      `  fn/cccccccccccc  /ws/jobs/fn/c`,
    ]);
  });
  it('names at most ten jobs still running or stopped, and then stops the rest by experiment', () => {
    const job = (i: number, launcher: string) => ({
      taskId: 'nap',
      hash: i.toString(16).padEnd(64, '0'),
      directory: `/ws/jobs/nap/${i}`,
      state: 'running' as const,
      launcher,
      ...(launcher === 'threads' ? { outlivesProcess: false as const } : {}),
    });
    const lines = formatSummary({
      summary: {
        counts: { waiting: 0, ready: 0, queued: 0, running: 24, done: 0, failed: 0 },
        failed: [],
        active: [...Array.from({ length: 12 }, (_, i) => job(i, 'local')), ...Array.from({ length: 12 }, (_, i) => job(100 + i, 'threads'))],
        elapsedMs: 1_000,
        alreadyDone: 0,
      },
      experiment: 'sweep',
      interruptedBy: 'SIGINT',
      killed: false,
      runMode: 'normal',
      workspaceFlags: "--workdir '/my ws'",
      style: plain,
    });
    const still = lines.indexOf('\n12 jobs are still running or queued; they keep going and the next run of this experiment re-attaches them:');
    expect(lines.slice(still + 1, still + 14).filter((line) => line.startsWith('  nap/'))).toHaveLength(10);
    expect(lines).toContain("  ... and 2 more (baton jobs list --experiment sweep --workdir '/my ws')");
    expect(lines).toContain("To stop them: baton jobs kill --experiment sweep --workdir '/my ws'");
    const stopped = lines.indexOf('\n12 thread jobs were stopped with this process (launcher threads) and will run again on resume:');
    expect(lines.slice(stopped + 1)).toEqual([...Array.from({ length: 10 }, (_, i) => `  nap/${(100 + i).toString(16).padEnd(12, '0')}  /ws/jobs/nap/${100 + i}`), '  ... and 2 more']);
  });

  it('shows the last lines of stderr of each failed job, and the command that prints all of it', () => {
    const broken = failedJob(1, 'broken', 3);
    const other = failedJob(2, 'other', 4);
    const lines = formatSummary({
      summary: { counts: { waiting: 0, ready: 0, queued: 0, running: 0, done: 0, failed: 2 }, failed: [broken, other], active: [], elapsedMs: 1_000, alreadyDone: 0 },
      experiment: 'xp',
      killed: false,
      runMode: 'normal',
      stderrTails: new Map([
        [broken.directory, ['line 29', 'progress 10%\rprogress 100%', '\u001b[31mline 30\u001b[0m']],
        [other.directory, []],
      ]),
      workspaceFlags: "--workdir '/my ws'",
      style: plain,
    });
    expect(lines.slice(1)).toEqual([
      '\n2 jobs failed:',
      `  ${broken.taskId}/${broken.hash.slice(0, 12)}  failed (exit 3): broken`,
      `    stderr: ${broken.stderrPath}`,
      '    | line 29',
      '    | progress 100%',
      '    | line 30',
      `    all of it: baton jobs log train/${broken.hash.slice(0, 12)} --stderr --workdir '/my ws'`,
      `  train/${other.hash.slice(0, 12)}  failed (exit 4): other`,
      `    stderr: ${other.stderrPath}`,
      '    (stderr is empty)',
    ]);
  });
  it('reads the stderr of a few failed jobs only: each of a small group, the first of a large one', () => {
    const many = Array.from({ length: 10 }, (_, i) => failedJob(i, 'disk full'));
    const few = [failedJob(100, 'a', 1), failedJob(101, 'b', 2)];
    expect(jobsShowingStderr([...few, ...many]).map((job) => job.hash)).toEqual([many[0]!.hash, few[0]!.hash, few[1]!.hash]);
    const distinct = Array.from({ length: 9 }, (_, i) => failedJob(i, `cause ${i}`));
    expect(jobsShowingStderr(distinct)).toHaveLength(5);
  });
});
