// Parameters on their way from submit to a real job: what the job receives,
// what enters its identity, and what is refused before anything is written.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UserInputError } from '../errors.ts';
import { badEnvName, counted, echo, echoAgain, longId, receive } from './__fixtures__/paramTasks.ts';
import { experiment } from './experiment.ts';

let root: string;
let workdir: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'baton-params-'));
  workdir = join(root, 'ws');
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const readJson = async (path: string) => JSON.parse(await readFile(path, 'utf8'));

describe('parameters reaching a job', () => {
  it('a function task receives exactly what its schema produced at submit: transforms once, Date, Set, Map, bigint intact', async () => {
    await using xp = await experiment({ name: 'receive', workdir });
    const job = xp.submit(receive, {
      doubled: 3,
      when: new Date('2026-01-02T03:04:05.000Z'),
      tags: new Set(['b', 'a']),
      weights: new Map([['x', 1]]),
      seed: 2n ** 64n,
    });
    expect(job.params.doubled).toBe(6);
    await xp.wait();
    expect(job.state, await readFile(join(job.directory, 'stderr'), 'utf8').catch(() => '')).toBe('done');
    expect(await readJson(join(job.directory, 'received.json'))).toEqual({
      doubled: 6,
      when: '2026-01-02T03:04:05.000Z',
      tags: ['b', 'a'],
      weights: [['x', 1]],
      seed: '18446744073709551616n',
      workers: 4,
    });
  });

  it('an option reaches the job, is recorded in params.json, and changing it does not rerun a done job', async () => {
    const log = join(root, 'log');
    let first: { hash: string; directory: string };
    {
      await using xp = await experiment({ name: 'options', workdir });
      const job = xp.submit(counted, { log, label: 'a', workers: 2 });
      await xp.wait();
      expect(job.state).toBe('done');
      first = { hash: job.hash, directory: job.directory };
      const record = await readJson(join(job.directory, 'params.json'));
      expect(record.params).toEqual({ label: 'a', log });
      expect(record.options).toEqual({ workers: 2 });
      expect(record.resolved).toEqual({ log, label: 'a', workers: 2 });
    }
    {
      await using xp = await experiment({ name: 'options', workdir });
      const job = xp.submit(counted, { log, label: 'a', workers: 8, logLevel: 'debug' });
      await xp.wait();
      expect({ hash: job.hash, directory: job.directory }).toEqual(first);
      expect(job.state).toBe('done');
    }
    expect((await readFile(log, 'utf8')).trim().split('\n')).toEqual(['a workers=2']);
  });

  it('a task id of 200 characters runs and is recorded in the run\'s job index', async () => {
    expect(longId.id).toHaveLength(200);
    await using xp = await experiment({ name: 'long', workdir });
    const job = xp.submit(longId, { n: 7 });
    await xp.wait();
    expect(job.state).toBe('done');
    expect(await readFile(join(job.directory, 'out.txt'), 'utf8')).toBe('7\n');
    expect(await readFile(xp.jobspath, 'utf8')).toBe(`${JSON.stringify({ taskId: longId.id, hash: job.hash })}\n`);
  });
});

describe('refused at submit, nothing written', () => {
  const jobsDirectory = () => join(workdir, 'jobs');

  it('a NUL byte in an argument of the command', async () => {
    await using xp = await experiment({ name: 'nul-argv', workdir });
    expect(() => xp.submit(echo, { text: 'a\0b' })).toThrow(UserInputError);
    expect(() => xp.submit(echo, { text: 'a\0b' })).toThrow(/Argument 2 of the command contains a NUL byte/);
    await xp.wait();
    expect(existsSync(jobsDirectory())).toBe(false);
    expect(existsSync(xp.jobspath)).toBe(false);
  });

  it('a submitted job given as a parameter instead of its output: says what to pass, whatever the schema expects', async () => {
    await using xp = await experiment({ name: 'job-as-param', workdir });
    const first = xp.submit(echo, { text: 'first' });
    let refusal: unknown;
    try {
      // What a user writes to make echo depend on `first`: the job itself, not first.output.
      xp.submit(echo, { text: first } as unknown as { text: string });
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(UserInputError);
    const { message, where, hint } = refusal as UserInputError;
    expect(message).toBe(`text: the job echo/${first.hash.slice(0, 12)} itself cannot be a parameter`);
    expect(hint).toContain('job.output');
    // The input named short, not the job's task and schema.
    expect(where).toMatch(new RegExp(`in submit\\(echo, \\{"text":"<job echo/${first.hash.slice(0, 12)}>"\\}\\)$`));
    // Nested in a list, under any schema.
    expect(() => xp.submit(echo, { text: 'x', extra: [first] } as unknown as { text: string })).toThrow(`extra[0]: the job echo/${first.hash.slice(0, 12)} itself cannot be a parameter`);
    await xp.stop();
  });

  it('a NUL byte in an environment value, from the submit call or from setenv', async () => {
    await using xp = await experiment({ name: 'nul-env', workdir });
    expect(() => xp.submit(echo, { text: 'x' }, { env: { GOOD: 'a\0b' } })).toThrow(/Environment variable GOOD contains a NUL byte/);
    expect(() => xp.setenv('ALSO', 'a\0b')).toThrow(UserInputError);
    await xp.wait();
    expect(existsSync(jobsDirectory())).toBe(false);
  });

  it('an invalid environment variable name, from the task, the submit call or setenv', async () => {
    await using xp = await experiment({ name: 'env-name', workdir });
    expect(() => xp.submit(badEnvName, {})).toThrow(/Invalid environment variable name "NOT-A-NAME"/);
    expect(() => xp.submit(echo, { text: 'x' }, { env: { '1ST': 'x' } })).toThrow(/Invalid environment variable name "1ST"/);
    expect(() => xp.setenv('A B', 'x')).toThrow(/Invalid environment variable name "A B"/);
    await xp.wait();
    expect(existsSync(jobsDirectory())).toBe(false);
  });

  it("an experiment's own environment is checked when it opens, before anything is submitted", async () => {
    await expect(experiment({ name: 'xp-env', workdir, env: { 'BAD-NAME': 'x' } })).rejects.toThrow(/Invalid environment variable name "BAD-NAME"/);
    await expect(experiment({ name: 'xp-env', workdir, env: { DATA: 'a\0b' } })).rejects.toThrow(UserInputError);
    expect(existsSync(jobsDirectory())).toBe(false);
  });

  it('a second, different task with an id already used, naming both modules', async () => {
    await using xp = await experiment({ name: 'two-echo', workdir });
    xp.submit(echo, { text: 'x' });
    const attempt = () => xp.submit(echoAgain, { text: 'y' });
    expect(attempt).toThrow(UserInputError);
    expect(attempt).toThrow(/Two different tasks have the id "echo": one defined at .*paramTasks\.ts:\d+:\d+, the other at .*paramTasks\.ts:\d+:\d+/);
    expect(xp.submit(echo, { text: 'x' })).toBe(xp.jobs[0]);
    await xp.wait();
  });
});
