// Experiments in separate processes: killed with SIGKILL and resumed, racing
// on one workspace, competing for a token. Real processes, real files.
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSourceProcess } from '../__fixtures__/sourceProcess.ts';

const driver = fileURLToPath(new URL('./__fixtures__/driver.ts', import.meta.url));

let root: string;
const children: ChildProcess[] = [];

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'baton-proc-'));
  // Room for every job at once, and a one-unit token shared by all processes.
  await writeFile(
    join(root, 'baton.config.yaml'),
    `workspaces:\n  - id: main\n    path: ${join(root, 'ws')}\n    launchers: { local: { use: local, maxConcurrent: 8 } }\n    tokens: { gpu: 1 }\n`,
  );
});
afterEach(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  children.length = 0;
  await rm(root, { recursive: true, force: true });
});

interface DriverJob {
  label: string;
  sleep?: number;
  tokens?: Record<string, number>;
}

function startDriver(options: { name: string; jobs: DriverJob[] }) {
  const started = startSourceProcess(driver, [JSON.stringify({ ...options, cwd: root, log: join(root, 'log') })]);
  children.push(started.child);
  return started;
}

async function logEvents() {
  const text = await readFile(join(root, 'log'), 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [kind, label, ns] = line.split(' ');
      return { kind: kind!, label: label!, ns: BigInt(ns!) };
    });
}

async function until(condition: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out waiting for a condition');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const starts = async (label?: string) => (await logEvents()).filter((event) => event.kind === 'start' && (!label || event.label === label)).length;

describe('experiment processes', () => {
  it('resumes after SIGKILL: finished jobs are not run again, running jobs are re-attached, not restarted', async () => {
    const jobs = [{ label: 'quick1' }, { label: 'quick2' }, { label: 'slow1', sleep: 2 }, { label: 'slow2', sleep: 2 }];
    const first = startDriver({ name: 'resume', jobs });
    await until(async () => (await starts()) === 4 && (await logEvents()).filter((event) => event.kind === 'end').length >= 2);
    first.child.kill('SIGKILL');
    await first.exited;

    const second = startDriver({ name: 'resume', jobs });
    expect(await second.exited).toBe(0);
    expect(second.output()).toContain('summary {"waiting":0,"ready":0,"queued":0,"running":0,"done":4,"failed":0}');
    for (const { label } of jobs) expect(await starts(label)).toBe(1);
    const ends = (await logEvents()).filter((event) => event.kind === 'end');
    expect(ends).toHaveLength(4);
  });

  it('runs a job once when two experiment processes submit it at the same time', async () => {
    const jobs = ['a', 'b', 'c', 'd', 'e', 'f'].map((label) => ({ label, sleep: 0.2 }));
    const one = startDriver({ name: 'race-one', jobs });
    const two = startDriver({ name: 'race-two', jobs });
    const codes = await Promise.all([one.exited, two.exited]);
    expect(codes, one.output() + two.output()).toEqual([0, 0]);
    for (const { label } of jobs) expect(await starts(label)).toBe(1);
    const jobsDirectory = join(root, 'ws', 'jobs', 'append');
    const directories = await readdir(jobsDirectory);
    expect(directories).toHaveLength(6);
    for (const directory of directories) expect(existsSync(join(jobsDirectory, directory, 'done'))).toBe(true);
  });

  it('runs each of 40 jobs never launched once when two processes submit them at the same moment (claims by making their directories)', async () => {
    const jobs = Array.from({ length: 40 }, (_, i) => ({ label: `fresh${i}`, sleep: 0.5 }));
    const one = startDriver({ name: 'fresh-one', jobs });
    const two = startDriver({ name: 'fresh-two', jobs });
    const codes = await Promise.all([one.exited, two.exited]);
    expect(codes, one.output() + two.output()).toEqual([0, 0]);
    for (const output of [one.output(), two.output()]) expect(output).toContain('"done":40,"failed":0');
    for (const { label } of jobs) expect(await starts(label)).toBe(1);
    const jobsDirectory = join(root, 'ws', 'jobs', 'append');
    const directories = await readdir(jobsDirectory);
    expect(directories).toHaveLength(40);
    for (const directory of directories) expect(existsSync(join(jobsDirectory, directory, 'process.json'))).toBe(true);
  });

  it('shares a token between processes: holders never overlap, and jobs without it are not held back', async () => {
    const tokenJobs = (prefix: string) => [1, 2, 3].map((i) => ({ label: `${prefix}${i}`, sleep: 0.3, tokens: { gpu: 1 } }));
    const one = startDriver({ name: 'tokens-one', jobs: [...tokenJobs('x'), { label: 'free-x' }] });
    const two = startDriver({ name: 'tokens-two', jobs: [...tokenJobs('y'), { label: 'free-y' }] });
    const codes = await Promise.all([one.exited, two.exited]);
    expect(codes, one.output() + two.output()).toEqual([0, 0]);
    const events = await logEvents();
    const intervals = events
      .filter((event) => event.kind === 'start' && !event.label.startsWith('free'))
      .map((start) => ({ start: start.ns, end: events.find((event) => event.kind === 'end' && event.label === start.label)!.ns }))
      .sort((a, b) => (a.start < b.start ? -1 : 1));
    expect(intervals).toHaveLength(6);
    for (let i = 1; i < intervals.length; i++) expect(intervals[i]!.start >= intervals[i - 1]!.end).toBe(true);
    const lastTokenStart = intervals[intervals.length - 1]!.start;
    for (const label of ['free-x', 'free-y']) {
      expect(events.find((event) => event.kind === 'end' && event.label === label)!.ns < lastTokenStart).toBe(true);
    }
  });
});
